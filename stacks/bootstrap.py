"""``bootstrap``: the S3 bucket every other stack keeps its state in (like ``cdk bootstrap``)."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.policy_checks import skip_check
from constructs_lib.private_bucket import PrivateBucket
from stacks.base import aws_provider, state_backend


class BootstrapStack(TerraformStack):
    """The state bucket, versioned so any earlier state can be recovered; its own state lives in it too.

    So a fresh clone, a second operator or CI finds it, and never tries to create the
    bucket again. The bucket cannot hold the state of its own first apply:
    ``scripts/stacks.py`` applies that one with a local state file, then moves it into
    the bucket (``terraform init -migrate-state``), and moves it out again before the
    bucket is destroyed.
    """

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id)
        state_backend(self, config=config)
        provider = aws_provider(self, alias="primary", region=config.primary_region, config=config)
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
