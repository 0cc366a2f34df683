"""The AWS provider for one region, aliased so one stack can span regions."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct


def regional_provider(scope: Construct, *, alias: str, region: str, project_name: str, s3_use_path_style: bool) -> AwsProvider:
    """An aliased AWS provider with the project's default tags.

    Endpoints are never set here: the provider honours ``AWS_ENDPOINT_URL`` from
    the environment, so the same Terraform runs against AWS or a local emulator.
    """
    return AwsProvider(
        scope,
        f"Aws{alias.title().replace('_', '')}",
        alias=alias,
        region=region,
        s3_use_path_style=s3_use_path_style or None,
        default_tags=[AwsProviderDefaultTags(tags={"Project": project_name, "ManagedBy": "cdktf"})],
    )
