"""Secrets Manager keeps a version only while a staging label points at it (emulator.secret_versions)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def secrets(client: Callable[..., Any]) -> Any:
    return client("secretsmanager", "eu-west-2")


def new_secret(secrets: Any) -> tuple[str, str]:
    """A secret with its first value ``placeholder``: (ARN, that version's id)."""
    answer = secrets.create_secret(Name=f"app/{uuid.uuid4().hex[:8]}", SecretString="placeholder")
    return answer["ARN"], answer["VersionId"]


def stages(secrets: Any, arn: str) -> dict[str, list[str]]:
    return {v["VersionId"]: sorted(v["VersionStages"]) for v in secrets.list_secret_version_ids(SecretId=arn)["Versions"]}


def test_a_second_put_removes_the_first_version(secrets: Any) -> None:
    """The fault of issue 10, item 2: the version Terraform tracks is gone after two puts."""
    arn, first = new_secret(secrets)
    second = secrets.put_secret_value(SecretId=arn, SecretString="operator-1")["VersionId"]
    third = secrets.put_secret_value(SecretId=arn, SecretString="operator-2")["VersionId"]

    assert stages(secrets, arn) == {second: ["AWSPREVIOUS"], third: ["AWSCURRENT"]}
    with pytest.raises(ClientError) as error:
        secrets.get_secret_value(SecretId=arn, VersionId=first)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == "operator-2"


def test_a_custom_label_keeps_a_version_and_survives_moving_awscurrent(secrets: Any) -> None:
    arn, first = new_secret(secrets)
    secrets.update_secret_version_stage(SecretId=arn, VersionStage="terraform", MoveToVersionId=first)
    second = secrets.put_secret_value(SecretId=arn, SecretString="operator-1")["VersionId"]
    assert stages(secrets, arn) == {first: ["AWSPREVIOUS", "terraform"], second: ["AWSCURRENT"]}

    third = secrets.put_secret_value(SecretId=arn, SecretString="operator-2")["VersionId"]

    assert stages(secrets, arn) == {first: ["terraform"], second: ["AWSPREVIOUS"], third: ["AWSCURRENT"]}
    assert secrets.get_secret_value(SecretId=arn, VersionId=first)["SecretString"] == "placeholder"


def test_removing_the_last_label_removes_the_version(secrets: Any) -> None:
    arn, first = new_secret(secrets)
    second = secrets.put_secret_value(SecretId=arn, SecretString="operator-1")["VersionId"]

    secrets.update_secret_version_stage(SecretId=arn, VersionStage="AWSPREVIOUS", RemoveFromVersionId=first)

    assert stages(secrets, arn) == {second: ["AWSCURRENT"]}
