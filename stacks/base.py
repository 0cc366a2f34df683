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
        use_s3_backend(self, config=config, stack_name=id)

    def primary_provider(self) -> AwsProvider:
        return regional_provider(self, alias="primary", region=self.config.primary_region, config=self.config)

    def secondary_provider(self) -> AwsProvider:
        return regional_provider(self, alias="secondary", region=self.config.secondary_region, config=self.config)
