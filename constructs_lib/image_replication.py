"""The app image replicated to the secondary region's ECR, so its tasks start without the primary region."""

from __future__ import annotations

from cdktf import Fn, TerraformResource
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.ecr_replication_configuration import (
    EcrReplicationConfiguration,
    EcrReplicationConfigurationReplicationConfiguration,
    EcrReplicationConfigurationReplicationConfigurationRule,
    EcrReplicationConfigurationReplicationConfigurationRuleDestination,
    EcrReplicationConfigurationReplicationConfigurationRuleRepositoryFilter,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.container_image import ContainerImage


def replicate_image(
    scope: Construct, id: str, *, provider: AwsProvider, image: ContainerImage, source_region: str, region: str
) -> tuple[str, str]:
    """Replicate ``image``'s repository from ``source_region`` to ``region``; returns the replica's (image URI, repository ARN).

    ECR replication is a setting of the whole registry in the source region (one
    per account and region; this one replicates only our repository, by name
    prefix) and copies images pushed *after* it exists (ECR User Guide,
    "Private image replication"), so the push waits for it. The replica keeps
    repository name and tag, in the destination region's registry.
    """
    if image.repository is None:
        raise ValueError("APP_IMAGE is set: only an image this deployment builds into its own repository is replicated")
    account = DataAwsCallerIdentity(scope, f"{id}Account", provider=provider)
    replication = EcrReplicationConfiguration(
        scope,
        id,
        provider=provider,
        replication_configuration=EcrReplicationConfigurationReplicationConfiguration(
            rule=[
                EcrReplicationConfigurationReplicationConfigurationRule(
                    destination=[
                        EcrReplicationConfigurationReplicationConfigurationRuleDestination(
                            region=region, registry_id=account.account_id
                        )
                    ],
                    repository_filter=[
                        EcrReplicationConfigurationReplicationConfigurationRuleRepositoryFilter(
                            filter=image.repository.name, filter_type="PREFIX_MATCH"
                        )
                    ],
                )
            ]
        ),
    )
    push = image.node.find_child("Push")
    assert isinstance(push, TerraformResource), "ContainerImage's Push is a Terraform resource"
    push.add_override("depends_on", [f"{replication.terraform_resource_type}.{replication.friendly_unique_id}"])
    return (
        Fn.replace(image.uri, f".dkr.ecr.{source_region}.", f".dkr.ecr.{region}."),
        Fn.replace(image.repository.arn, f":{source_region}:", f":{region}:"),
    )
