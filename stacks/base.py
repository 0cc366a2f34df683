"""What every deployed stack shares: remote state in S3 and aliased regional providers."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.backend import use_s3_backend
from constructs_lib.providers import regional_provider


class RemoteStateStack(TerraformStack):
    """A stack whose state lives in the state bucket under its own key."""

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        state_backend(self, config=config)

    def primary_provider(self) -> AwsProvider:
        return aws_provider(self, alias="primary", region=self.config.primary_region, config=self.config)

    def secondary_provider(self) -> AwsProvider:
        return aws_provider(self, alias="secondary", region=self.config.secondary_region, config=self.config)


def state_backend(stack: TerraformStack, *, config: DeploymentConfig) -> None:
    """The state bucket's backend for ``stack``, under the stack's own key."""
    use_s3_backend(
        stack,
        bucket=config.state_bucket,
        region=config.primary_region,
        project_name=config.project_name,
        stack_name=stack.node.id,
        use_path_style=config.s3_use_path_style,
    )


def aws_provider(scope: Construct, *, alias: str, region: str, config: DeploymentConfig) -> AwsProvider:
    """The project's AWS provider for ``region``, as every stack configures it."""
    return regional_provider(
        scope,
        alias=alias,
        region=region,
        project_name=config.project_name,
        s3_use_path_style=config.s3_use_path_style,
    )
