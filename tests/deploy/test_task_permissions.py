"""The deployed roles allow what the app and ECS do, and no more, with IAM enforced by the emulator.

For each region: the task role, assumed through the emulator's STS, runs the
app's own storage code (``livebeats.files.storage.S3Storage``: upload, size,
stream, the cleaner's sweep, delete, and a deleted song read as "not found")
and reads the database credentials secret its task definition names; the
execution role reads every secret the task definition injects and writes to
its log group, as ECS does when it starts a task. A permission missing from a
role fails here; the negative controls fail if a role may do too much.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from livebeats.files.storage import S3Storage, StoredFileMissing, new_key

SONG = b"ID3" + bytes(range(256)) * 64


def task_definition(deployment: Any, region: str) -> dict[str, Any]:
    """The task definition of the one ECS service deployed in ``region``."""
    ecs = deployment.client("ecs", region)
    services = [
        service
        for cluster in ecs.list_clusters()["clusterArns"]
        for service in ecs.describe_services(cluster=cluster, services=ecs.list_services(cluster=cluster)["serviceArns"])[
            "services"
        ]
    ]
    assert len(services) == 1, f"{region}: expected one ECS service, found {[s['serviceName'] for s in services]}"
    return ecs.describe_task_definition(taskDefinition=services[0]["taskDefinition"])["taskDefinition"]


def assume(deployment: Any, region: str, role_arn: str) -> dict[str, str]:
    answer = deployment.client("sts", region).assume_role(RoleArn=role_arn, RoleSessionName="task-permissions")
    return answer["Credentials"]


def secret_reference(value_from: str) -> tuple[str, str | None]:
    """(secret ARN, JSON key or None) of a container secret's ``valueFrom``:
    ``arn:aws:secretsmanager:region:account:secret:name-AbCdEf[:json-key:version-stage:version-id]``
    (ECS Developer Guide, "Pass Secrets Manager secrets through environment variables")."""
    parts = value_from.split(":")
    return ":".join(parts[:7]), (parts[7] or None) if len(parts) > 7 else None


def denied(call: Any) -> str:
    with pytest.raises(ClientError) as error:
        call()
    return error.value.response["Error"]["Code"]


@pytest.fixture(params=["primary", "secondary"])
def region(request: pytest.FixtureRequest, deployment: Any) -> str:
    config = deployment.config
    return config.primary_region if request.param == "primary" else config.secondary_region


@pytest.fixture
def definition(deployment: Any, region: str) -> dict[str, Any]:
    return task_definition(deployment, region)


@pytest.fixture
def container(definition: dict[str, Any]) -> dict[str, Any]:
    (container,) = definition["containerDefinitions"]
    return container


@pytest.fixture
def environment(container: dict[str, Any]) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in container["environment"]}


@pytest.fixture
def task_credentials(deployment: Any, region: str, definition: dict[str, Any]) -> dict[str, str]:
    return assume(deployment, region, definition["taskRoleArn"])


@pytest.fixture
def as_task_role(monkeypatch: pytest.MonkeyPatch, task_credentials: dict[str, str]) -> None:
    """The app's code finds the task role's credentials where boto3 looks, as in a task."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", task_credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", task_credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", task_credentials["SessionToken"])


async def collected(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


@pytest.mark.usefixtures("as_task_role")
def test_the_task_role_runs_the_apps_storage_code(deployment: Any, environment: dict[str, str], tmp_path: Path) -> None:
    storage = S3Storage(
        environment["SONGS_BUCKET"],
        environment["SONGS_PREFIX"],
        endpoint_url=deployment.emulator_url,
        region=environment["SONGS_BUCKET_REGION"],
    )
    source = tmp_path / "song.mp3"
    source.write_bytes(SONG)
    key = new_key()

    async def scenario() -> None:
        await storage.save(key, source)
        assert await storage.size(key) == len(SONG)
        assert await collected(storage.read(key, 0, len(SONG) - 1)) == SONG
        assert await collected(storage.read(key, 3, 9)) == SONG[3:10]
        assert key in await storage.keys_stored_before(datetime.now(UTC) + timedelta(minutes=1))
        await storage.delete(key)
        with pytest.raises(StoredFileMissing):
            await storage.size(key)
        with pytest.raises(StoredFileMissing):
            await collected(storage.read(key, 0, 9))

    asyncio.run(scenario())


def test_the_task_role_reads_the_database_credentials(
    deployment: Any, environment: dict[str, str], task_credentials: dict[str, str]
) -> None:
    assert "DB_SECRET_ARN" in environment, "the task definition names no database credentials secret (DB_SECRET_ARN)"
    secret_region = environment.get("DB_SECRET_REGION", deployment.config.primary_region)
    secrets = deployment.client("secretsmanager", secret_region, task_credentials)
    credentials = json.loads(secrets.get_secret_value(SecretId=environment["DB_SECRET_ARN"])["SecretString"])
    assert credentials["username"] and credentials["password"]


def test_the_task_role_may_not_read_other_secrets_or_buckets(
    deployment: Any, container: dict[str, Any], task_credentials: dict[str, str]
) -> None:
    injected = {secret["name"]: secret_reference(secret["valueFrom"])[0] for secret in container["secrets"]}
    key_base = injected["SECRET_KEY_BASE"]
    secrets = deployment.client("secretsmanager", key_base.split(":")[3], task_credentials)
    assert denied(lambda: secrets.get_secret_value(SecretId=key_base)) == "AccessDeniedException"

    config = deployment.config
    s3 = deployment.client("s3", config.primary_region, task_credentials)
    assert denied(lambda: s3.list_objects_v2(Bucket=config.state_bucket)) == "AccessDenied"
    assert denied(lambda: s3.put_object(Bucket=config.state_bucket, Key="intruder", Body=b"x")) == "AccessDenied"


def test_the_execution_role_reads_every_injected_secret_and_writes_the_logs(
    deployment: Any, region: str, definition: dict[str, Any], container: dict[str, Any]
) -> None:
    credentials = assume(deployment, region, definition["executionRoleArn"])
    assert container["secrets"], "the task definition injects no secrets"
    for secret in container["secrets"]:
        arn, json_key = secret_reference(secret["valueFrom"])
        value = deployment.client("secretsmanager", arn.split(":")[3], credentials).get_secret_value(SecretId=arn)
        if json_key is not None:
            assert json_key in json.loads(value["SecretString"]), f"{secret['name']}: no key {json_key!r} in {arn}"

    options = container["logConfiguration"]["options"]
    logs = deployment.client("logs", options["awslogs-region"], credentials)
    stream = f"{options['awslogs-stream-prefix']}/{container['name']}/task-permissions"
    logs.create_log_stream(logGroupName=options["awslogs-group"], logStreamName=stream)
    logs.put_log_events(
        logGroupName=options["awslogs-group"],
        logStreamName=stream,
        logEvents=[{"timestamp": int(datetime.now(UTC).timestamp() * 1000), "message": "started"}],
    )
