"""``bootstrap``: the S3 bucket every other stack keeps its state in (like ``cdk bootstrap``)."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.policy_checks import skip_check
from constructs_lib.private_bucket import PrivateBucket
from constructs_lib.providers import regional_provider


class BootstrapStack(TerraformStack):
    """The state bucket, versioned so any earlier state can be recovered; its own state stays local.

    Its state cannot live in the bucket it creates, so it is a local file
    (``terraform.bootstrap.tfstate``); losing it loses nothing but the ability to
    destroy the bucket with Terraform.
    """

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id)
        LocalBackend(self, path=f"terraform.{id}.tfstate")
        provider = regional_provider(self, alias="primary", region=config.primary_region, config=config)
        self.state = PrivateBucket(
            self, "StateBucket", provider=provider, bucket=config.state_bucket, versioned=True, force_destroy=config.throwaway
        )
        skip_check(
            self.state.bucket,
            "CKV_AWS_144",
            "Versioning keeps every earlier state (90 days) in the primary region; a replica in a second region "
            "is the operator's disaster-recovery choice",
        )
        TerraformOutput(self, "state_bucket", value=self.state.bucket.bucket)
