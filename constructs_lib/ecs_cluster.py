"""The ECS cluster one region's service runs in."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.policy_checks import skip_check


def ecs_cluster(scope: Construct, id: str, *, provider: AwsProvider, name: str, container_insights: bool) -> EcsCluster:
    """A cluster with Container Insights on or off (CONTAINER_INSIGHTS); Fargate needs no capacity of its own."""
    cluster = EcsCluster(
        scope,
        id,
        provider=provider,
        name=name,
        setting=[EcsClusterSetting(name="containerInsights", value="enabled" if container_insights else "disabled")],
    )
    if not container_insights:
        skip_check(
            cluster,
            "CKV_AWS_65",
            "CONTAINER_INSIGHTS=false by default: its per-task metrics cost about $11 a month per cluster (37 "
            "billed metrics) for a one-task service, while autoscaling and the service's CPU and memory metrics "
            "are free without it; CONTAINER_INSIGHTS=true turns it on",
        )
    return cluster
