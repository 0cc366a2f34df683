"""Application Auto Scaling tagging through the launcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def ecs_service(client: Callable[..., Any]) -> str:
    ecs = client("ecs")
    ecs.create_cluster(clusterName="scaling")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "web:1", "memory": 512}])
    ecs.create_service(cluster="scaling", serviceName="web", taskDefinition="web", desiredCount=1)
    return "service/scaling/web"


def register(client: Callable[..., Any], resource_id: str, **extra: Any) -> str:
    return client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
        **extra,
    )["ScalableTargetARN"]


def test_tags_given_at_registration_are_listed(client: Callable[..., Any], ecs_service: str) -> None:
    scaling = client("application-autoscaling")
    arn = register(client, ecs_service, Tags={"app": "beats"})
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"app": "beats"}

    assert register(client, ecs_service, Tags={"ignored": "on update"}) == arn
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"app": "beats"}


def test_tag_and_untag(client: Callable[..., Any], ecs_service: str) -> None:
    scaling = client("application-autoscaling")
    arn = register(client, ecs_service)
    scaling.tag_resource(ResourceARN=arn, Tags={"stage": "dev", "team": "web"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["team", "absent"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"]["stage"] == "dev"
    assert "team" not in scaling.list_tags_for_resource(ResourceARN=arn)["Tags"]


def test_unknown_target_is_not_found(client: Callable[..., Any]) -> None:
    arn = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/nope"
    with pytest.raises(ClientError) as error:
        client("application-autoscaling").list_tags_for_resource(ResourceARN=arn)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_too_many_tags_are_refused(client: Callable[..., Any], ecs_service: str) -> None:
    arn = register(client, ecs_service)
    with pytest.raises(ClientError) as error:
        client("application-autoscaling").tag_resource(ResourceARN=arn, Tags={f"key{i}": "v" for i in range(51)})
    assert error.value.response["Error"]["Code"] == "ValidationException"
