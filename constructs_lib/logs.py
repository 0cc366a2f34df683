"""CloudWatch log groups: every one here has a retention, so logs never grow without end."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.policy_checks import skip_check

ONE_YEAR_DAYS = 365


def retained_log_group(scope: Construct, id: str, *, provider: AwsProvider, name: str, retention_days: int) -> CloudwatchLogGroup:
    """A log group kept ``retention_days`` (LOG_RETENTION_DAYS), encrypted by CloudWatch Logs."""
    group = CloudwatchLogGroup(scope, id, provider=provider, name=name, retention_in_days=retention_days)
    skip_check(
        group,
        "CKV_AWS_158",
        "CloudWatch Logs encrypts every log group at rest with its own keys; these hold app and flow "
        "logs, no secrets, so a customer-managed KMS key (and its key policy) is left to the operator",
    )
    if retention_days < ONE_YEAR_DAYS:
        skip_check(
            group,
            "CKV_AWS_338",
            f"Retention is LOG_RETENTION_DAYS ({retention_days} days): operational logs, not an audit "
            "trail (CloudTrail is the account's); set 365 or more where policy requires a year",
        )
    return group
