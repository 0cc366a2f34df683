"""DB_REPLICA: what the secondary region needs to run alone, and `make failover` against the emulator.

The emulator does not enforce what matters most here (a cross-region replica's
key must be in its own region; a replica secret's ARN; which registry a task
pulls from), so the synthesized Terraform pins each. The failover script runs
against the real emulator (moto's cross-region read replicas and promotion, our
Global Accelerator).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest

from config import ConfigError, DeploymentConfig, load_config
from tests.conftest import REPO
from tests.emulator.launch import running_emulator
from tests.infra.conftest import PREBUILT_IMAGE, Synthesized, _synth

PRIMARY, SECONDARY = "eu-west-2", "us-west-2"
REPLICA = "Replica_Instance"


@pytest.fixture(scope="session")
def replica_config(default_config: DeploymentConfig) -> DeploymentConfig:
    return replace(default_config, db_replica=True, app_image=None)


@pytest.fixture(scope="session")
def replicated(replica_config: DeploymentConfig, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return _synth(replica_config, tmp_path_factory, "cdktf-replica")


def by_prefix(resources: dict[str, dict], prefix: str) -> dict:
    [found] = [value for key, value in resources.items() if key.startswith(prefix)]
    return found


def task_definition(synth: Synthesized, role: str) -> str:
    return by_prefix(synth.resources("app", "aws_ecs_task_definition"), f"{role}Service_TaskDefinition")["container_definitions"]


def environment_value(container_definitions: str, name: str) -> str:
    match = re.search(rf'\{{"name" = "{name}", "value" = (.+?)\}}(?:, \{{"name"|\])', container_definitions)
    assert match, f"{name} not in the task definition"
    return match.group(1)


def secret_value_from(container_definitions: str, name: str) -> str:
    match = re.search(rf'\{{"name" = "{name}", "valueFrom" = (.+?)\}}', container_definitions)
    assert match, f"{name} not among the task's secrets"
    return match.group(1)


def test_off_by_default(synthesized: Synthesized) -> None:
    assert [k for k in synthesized.resources("database", "aws_db_instance") if k.startswith(REPLICA)] == []
    for stack in ("database", "app"):
        assert all("replica" not in s for s in synthesized.resources(stack, "aws_secretsmanager_secret").values())
    assert synthesized.resources("app", "aws_ecr_replication_configuration") == {}
    primary = task_definition(synthesized, "Primary")
    assert "," not in environment_value(primary, "DB_HOST"), "one database host without DB_REPLICA"


def test_replica_in_the_secondary_encrypted_with_a_key_of_its_own_region(replicated: Synthesized) -> None:
    instances = replicated.resources("database", "aws_db_instance")
    replica = by_prefix(instances, REPLICA)
    source_key = next(k for k in instances if k.startswith("Database_Instance"))
    assert replica["provider"] == "aws.secondary"
    assert replica["replicate_source_db"] == f"${{aws_db_instance.{source_key}.arn}}", "cross-region: the source's ARN"
    assert replica["identifier"] == "livebeats-db-replica"
    assert replica["storage_encrypted"] is True and replica["publicly_accessible"] is False
    key_name = re.fullmatch(r"\$\{aws_kms_key\.(\w+)\.arn\}", replica["kms_key_id"]).group(1)
    key = replicated.resources("database", "aws_kms_key")[key_name]
    assert key["provider"] == "aws.secondary" and key["enable_key_rotation"] is True
    # A replica has no password, name or engine of its own: all come from the source.
    assert not {"username", "password_wo", "db_name", "engine", "manage_master_user_password"} & replica.keys()
    # After `make failover` the instance is standalone; a plan must not try to make it a replica again.
    assert replica["lifecycle"]["ignore_changes"] == ["replicate_source_db"]


def test_replica_in_the_secondarys_isolated_subnets_with_its_own_parameter_group(replicated: Synthesized) -> None:
    replica = by_prefix(replicated.resources("database", "aws_db_instance"), REPLICA)
    group = by_prefix(replicated.resources("database", "aws_db_subnet_group"), "Replica_SubnetGroup")
    assert replica["db_subnet_group_name"].startswith("${aws_db_subnet_group.Replica_SubnetGroup")
    assert group["provider"] == "aws.secondary"
    assert len(group["subnet_ids"]) == 2 and all("SecondaryNetwork_IsolatedSubnet" in s for s in group["subnet_ids"])
    parameters = by_prefix(replicated.resources("database", "aws_db_parameter_group"), "Replica_Parameters")
    source = by_prefix(replicated.resources("database", "aws_db_parameter_group"), "Database_Parameters")
    assert parameters["provider"] == "aws.secondary"
    assert parameters["family"] == source["family"] == "postgres16"
    assert parameters["parameter"] == source["parameter"], "the promoted instance behaves as the old writer (TLS only)"


def test_replica_reachable_on_5432_from_both_regions_app_subnets_only(replicated: Synthesized) -> None:
    rules = {
        k: v
        for k, v in replicated.resources("database", "aws_vpc_security_group_ingress_rule").items()
        if k.startswith("Replica_")
    }
    source_rules = [
        v for k, v in replicated.resources("database", "aws_vpc_security_group_ingress_rule").items() if k.startswith("Database_")
    ]
    assert sorted(r["cidr_ipv4"] for r in rules.values()) == sorted(r["cidr_ipv4"] for r in source_rules)
    assert {r["cidr_ipv4"][:5] for r in rules.values()} == {"10.0.", "10.1."}, "app subnets of both regions"
    assert {(r["from_port"], r["to_port"], r["ip_protocol"], r["provider"]) for r in rules.values()} == {
        (5432, 5432, "tcp", "aws.secondary")
    }
    group = by_prefix(replicated.resources("database", "aws_security_group"), "Replica_SecurityGroup")
    assert "SecondaryNetwork_Vpc" in group["vpc_id"]


def test_every_task_gets_both_hosts_its_own_regions_first(replicated: Synthesized) -> None:
    primary_hosts = environment_value(task_definition(replicated, "Primary"), "DB_HOST")
    secondary_hosts = environment_value(task_definition(replicated, "Secondary"), "DB_HOST")
    assert re.fullmatch(r'"\$\{\S+Database_Instance\S+address\},\$\{\S+Replica_Instance\S+address\}"', primary_hosts)
    assert re.fullmatch(r'"\$\{\S+Replica_Instance\S+address\},\$\{\S+Database_Instance\S+address\}"', secondary_hosts)


def test_secrets_replicated_and_read_by_the_secondary_in_its_own_region(replicated: Synthesized) -> None:
    secrets = {
        **replicated.resources("database", "aws_secretsmanager_secret"),
        **replicated.resources("app", "aws_secretsmanager_secret"),
    }
    assert len(secrets) == 4
    assert all(secret["replica"] == [{"region": SECONDARY}] for secret in secrets.values())
    secondary = task_definition(replicated, "Secondary")
    for name in ("SECRET_KEY_BASE", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"):
        assert secret_value_from(secondary, name).endswith(f'.arn, ":{PRIMARY}:", ":{SECONDARY}:")')
    assert environment_value(secondary, "DB_SECRET_ARN").startswith("replace(")
    assert environment_value(secondary, "DB_SECRET_REGION") == f'"{SECONDARY}"'
    primary = task_definition(replicated, "Primary")
    assert "replace(" not in secret_value_from(primary, "SECRET_KEY_BASE")
    assert environment_value(primary, "DB_SECRET_REGION") == f'"{PRIMARY}"'
    # The secondary's roles may read the replicas (execution role: injected secrets; task role: credentials).
    documents = replicated.stack("app")["data"]["aws_iam_policy_document"]
    readable = [
        resource
        for key, document in documents.items()
        if key.startswith("SecondaryService_") and key.split("_")[1] in ("ExecutionRolePermissions", "TaskRolePermissions")
        for statement in document["statement"]
        if statement["actions"] == ["secretsmanager:GetSecretValue"]
        for resource in statement["resources"]
    ]
    assert len(readable) == 4
    assert all(r.startswith("${replace(") and r.endswith(f'arn, ":{PRIMARY}:", ":{SECONDARY}:")}}') for r in readable)


def test_image_replicated_to_the_secondary_before_it_is_pushed(replicated: Synthesized) -> None:
    configuration = replicated.one("app", "aws_ecr_replication_configuration")
    [rule] = configuration["replication_configuration"]["rule"]
    assert rule["destination"][0]["region"] == SECONDARY
    assert rule["repository_filter"] == [
        {"filter": "${aws_ecr_repository.Image_Repository_C2BE7AD4.name}", "filter_type": "PREFIX_MATCH"}
    ]
    assert replicated.one("app", "docker_registry_image")["depends_on"] == ["aws_ecr_replication_configuration.ImageReplication"]
    secondary = task_definition(replicated, "Secondary")
    assert (
        f'"image" = replace(docker_registry_image.Image_Push_5B96C1A2.name, ".dkr.ecr.{PRIMARY}.", ".dkr.ecr.{SECONDARY}.")'
        in secondary
    )
    documents = replicated.stack("app")["data"]["aws_iam_policy_document"]
    execution = by_prefix(documents, "SecondaryService_ExecutionRolePermissions")["statement"]
    [pull] = [s["resources"] for s in execution if "ecr:BatchGetImage" in s["actions"]]
    assert pull == [f'${{replace(aws_ecr_repository.Image_Repository_C2BE7AD4.arn, ":{PRIMARY}:", ":{SECONDARY}:")}}']


def test_songs_and_state_stay_in_the_primary_as_the_readme_says(replicated: Synthesized) -> None:
    """Stated limits, not handled: the secondary reads songs from the primary's bucket; state lives there too."""
    secondary = task_definition(replicated, "Secondary")
    assert environment_value(secondary, "SONGS_BUCKET_REGION") == f'"{PRIMARY}"'
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Regional failure", 1)[1].split("\n## ", 1)[0]
    assert "songs" in section.lower() and "state bucket" in section.lower()


def test_a_replica_with_an_image_in_the_primarys_registry_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^DB_REPLICA: .*APP_IMAGE is in the primary's ECR"):
        load_config({"DB_REPLICA": "true", "APP_IMAGE": PREBUILT_IMAGE, "PRIMARY_AWS_REGION": PRIMARY}, {})


def load_failover_script() -> Any:
    spec = importlib.util.spec_from_file_location("failover_script", REPO / "scripts" / "failover.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_and_stacks_agree_on_the_instance_names(replicated: Synthesized, replica_config: DeploymentConfig) -> None:
    script = load_failover_script()
    instances = replicated.resources("database", "aws_db_instance")
    assert by_prefix(instances, REPLICA)["identifier"] == script.replica_identifier(replica_config)
    assert by_prefix(instances, "Database_Instance")["identifier"] == script.primary_identifier(replica_config)


@pytest.fixture
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_emulator(tmp_path_factory.mktemp("failover-emulator") / "emulator.log") as url:
        yield url


def aws(url: str, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test")


def deployed_replica(url: str) -> dict[str, str]:
    """What `make deploy` with DB_REPLICA=true leaves for the script: the two instances and the accelerator."""
    source = aws(url, "rds", PRIMARY).create_db_instance(
        DBInstanceIdentifier="livebeats-db",
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="livebeats",
        MasterUserPassword="secret-password-1",
        BackupRetentionPeriod=7,
        StorageEncrypted=True,
    )["DBInstance"]
    aws(url, "rds", SECONDARY).create_db_instance_read_replica(
        DBInstanceIdentifier="livebeats-db-replica",
        SourceDBInstanceIdentifier=source["DBInstanceArn"],
        DBInstanceClass="db.t4g.micro",
        KmsKeyId="alias/livebeats-db-replica",
    )
    ga = aws(url, "globalaccelerator", "us-west-2")
    accelerator = ga.create_accelerator(Name="livebeats", IdempotencyToken="a")["Accelerator"]["AcceleratorArn"]
    listener = ga.create_listener(
        AcceleratorArn=accelerator, Protocol="TCP", PortRanges=[{"FromPort": 80, "ToPort": 80}], IdempotencyToken="l"
    )["Listener"]["ListenerArn"]
    return {
        region: ga.create_endpoint_group(ListenerArn=listener, EndpointGroupRegion=region, IdempotencyToken=region)[
            "EndpointGroup"
        ]["EndpointGroupArn"]
        for region in (PRIMARY, SECONDARY)
    }


def dial(url: str, arn: str) -> float:
    return aws(url, "globalaccelerator", "us-west-2").describe_endpoint_group(EndpointGroupArn=arn)["EndpointGroup"][
        "TrafficDialPercentage"
    ]


def run_script(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "PRIMARY_AWS_REGION": PRIMARY,
        "SECONDARY_AWS_REGION": SECONDARY,
        "DB_REPLICA": "true",
    }
    return subprocess.run(
        [sys.executable, "scripts/failover.py", *args, "--yes", "--poll-seconds", "0.2"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_failover_promotes_the_replica_and_dials_the_primary_to_zero(emulator: str) -> None:
    groups = deployed_replica(emulator)
    result = run_script(emulator, "failover")
    assert result.returncode == 0, result.stdout + result.stderr
    replica = aws(emulator, "rds", SECONDARY).describe_db_instances(DBInstanceIdentifier="livebeats-db-replica")["DBInstances"][0]
    assert not replica.get("ReadReplicaSourceDBInstanceIdentifier") and replica["DBInstanceStatus"] == "available"
    assert replica["BackupRetentionPeriod"] == 7, "the promoted writer keeps the configured backups"
    assert (dial(emulator, groups[PRIMARY]), dial(emulator, groups[SECONDARY])) == (0, 100)
    assert "promoting livebeats-db-replica in us-west-2" in result.stdout

    again = run_script(emulator, "failover")
    assert again.returncode == 0 and "already a standalone instance" in again.stdout, "safe to run twice"

    # Two writers now: sending users back would split the data, so failback refuses.
    split = run_script(emulator, "failback")
    assert split.returncode == 1 and "still accepts writes" in split.stderr
    assert dial(emulator, groups[PRIMARY]) == 0


def test_failover_calls_no_api_of_the_primary_region(emulator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The primary region may be unreachable: every request is signed for the secondary or for us-west-2 (GA)."""
    deployed_replica(emulator)
    for name, value in {"AWS_ENDPOINT_URL": emulator, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    script = load_failover_script()
    config = load_config({"PRIMARY_AWS_REGION": PRIMARY, "SECONDARY_AWS_REGION": SECONDARY, "DB_REPLICA": "true"}, {})
    boto3.setup_default_session()
    regions: list[str] = []

    def record(request: Any, **_: Any) -> None:
        authorization = request.headers["Authorization"]
        text = authorization.decode() if isinstance(authorization, bytes) else authorization
        regions.append(re.search(r"Credential=[^/]+/\d+/([a-z0-9-]+)/", text).group(1))

    boto3.DEFAULT_SESSION.events.register("before-send", record)
    assert script.failover(config, poll_seconds=0.1, timeout_seconds=30, say=lambda _line: None) == 0
    assert regions and PRIMARY not in regions
    assert set(regions) == {SECONDARY, "us-west-2"}
