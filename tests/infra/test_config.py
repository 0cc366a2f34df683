"""Bad settings stop ``python main.py`` before synth: exit != 0, one line naming the setting."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from config import ConfigError, DeploymentConfig, load_config
from config.connection_budget import (
    DB_CLASS_MEMORY_GIB,
    REALTIME_LISTEN_CONNECTIONS,
    REALTIME_PUBLISH_CONNECTIONS,
    RESERVED_CONNECTIONS,
    max_connections,
)
from tests.conftest import REPO

BAD_SETTINGS = [
    ({"PRIMARY_AWS_REGION": "eu-middle-9"}, "PRIMARY_AWS_REGION", "unknown AWS region"),
    ({"SECONDARY_AWS_REGION": "mars-1"}, "SECONDARY_AWS_REGION", "unknown AWS region"),
    ({"PRIMARY_AWS_REGION": "us-west-2", "SECONDARY_AWS_REGION": "us-west-2"}, "SECONDARY_AWS_REGION", "must differ"),
    ({"PRIMARY_VPC_CIDR": "10.0.5.0/22"}, "PRIMARY_VPC_CIDR", "did you mean 10.0.4.0/22"),
    ({"SECONDARY_VPC_CIDR": "10.0.128.0/17"}, "SECONDARY_VPC_CIDR", "overlaps PRIMARY_VPC_CIDR"),
    ({"PRIMARY_VPC_CIDR": "not-a-cidr"}, "PRIMARY_VPC_CIDR", "not an IPv4 CIDR"),
    ({"PRIMARY_VPC_CIDR": "10.0.0.0/8"}, "PRIMARY_VPC_CIDR", "/16 to /24"),
    ({"DESIRED_COUNT": "two"}, "DESIRED_COUNT", "whole number"),
    ({"DESIRED_COUNT": "-1"}, "DESIRED_COUNT", "between 0 and 100"),
    ({"NAT_MODE": "double"}, "NAT_MODE", "none, single, per_az"),
    ({"APP_IMAGE": "https://example.com/app"}, "APP_IMAGE", "not an image URI"),
    ({"APP_IMAGE": "Registry/App:latest"}, "APP_IMAGE", "not an image URI"),
    (
        {"PRIMARY_CERTIFICATE_ARN": "arn:aws:acm:eu-west-2:123:cert/x", "SECONDARY_CERTIFICATE_ARN": "y"},
        "PRIMARY_CERTIFICATE_ARN",
        "not an ACM certificate ARN",
    ),
    (
        {"PRIMARY_CERTIFICATE_ARN": "arn:aws:acm:eu-west-2:123456789012:certificate/0f2b6a59-3d07-4c39-8a4f-6a1d3c1b2e90"},
        "SECONDARY_CERTIFICATE_ARN",
        "both regions",
    ),
    (
        {
            "PRIMARY_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/0f2b6a59-3d07-4c39-8a4f-6a1d3c1b2e90",
            "SECONDARY_CERTIFICATE_ARN": "arn:aws:acm:us-west-2:123456789012:certificate/0f2b6a59-3d07-4c39-8a4f-6a1d3c1b2e90",
        },
        "PRIMARY_CERTIFICATE_ARN",
        "certificates are regional",
    ),
    ({"TASK_MEMORY": "4096"}, "TASK_MEMORY", "not valid with TASK_CPU=256"),
    ({"THROWAWAY": "maybe"}, "THROWAWAY", "true or false"),
    ({"STATE_BUCKET": "Bad_Bucket"}, "STATE_BUCKET", "not a valid S3 bucket name"),
    ({"APP_HOSTNAME": "https://live.example.com/"}, "APP_HOSTNAME", "not a hostname"),
    (
        {
            "PRIMARY_CERTIFICATE_ARN": "arn:aws:acm:eu-west-2:123456789012:certificate/0f2b6a59-3d07-4c39-8a4f-6a1d3c1b2e90",
            "SECONDARY_CERTIFICATE_ARN": "arn:aws:acm:us-west-2:123456789012:certificate/0f2b6a59-3d07-4c39-8a4f-6a1d3c1b2e90",
        },
        "APP_HOSTNAME",
        "no certificate can name the accelerator's own DNS name",
    ),
    (
        {"POOL_SIZE": "10", "MAX_COUNT": "4"},
        "POOL_SIZE, MAX_COUNT, DB_INSTANCE_CLASS",
        "= 16 tasks x (POOL_SIZE 10 + 3 realtime) = 208 + 8 reserved = 216 connections, but db.t4g.micro allows about 78",
    ),
    ({"DB_INSTANCE_CLASS": "db.x2g.large"}, "DB_INSTANCE_CLASS", "has no known memory"),
    ({"DB_INSTANCE_CLASS": "m5.large"}, "DB_INSTANCE_CLASS", "known: db.t3.micro|small"),
]


def _run_main(overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDKTF_"))}
    env.update({"PRIMARY_AWS_REGION": "eu-west-2", "AWS_CONFIG_FILE": os.devnull, **overrides})
    return subprocess.run([sys.executable, "main.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("overrides", "setting", "message"), BAD_SETTINGS, ids=[case[1] + ":" + case[2] for case in BAD_SETTINGS]
)
def test_bad_setting_stops_main_with_one_line(overrides: dict[str, str], setting: str, message: str) -> None:
    result = _run_main(overrides)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: {setting}: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not result.stdout


def test_defaults_deploy_the_original_topology() -> None:
    config = load_config({"AWS_CONFIG_FILE": os.devnull}, {})
    assert config.primary_region == "eu-west-2"
    assert config.secondary_region == "us-west-2"
    assert (config.primary_vpc_cidr, config.secondary_vpc_cidr) == ("10.0.0.0/16", "10.1.0.0/16")
    assert config.nat_mode == "none"
    assert config.desired_count == 1
    assert config.app_image is None and not config.https_enabled


def test_primary_region_defaults_to_the_aws_cli_region(tmp_path) -> None:
    aws_config = tmp_path / "config"
    aws_config.write_text("[default]\nregion = eu-central-1\n\n[profile work]\nregion = ap-southeast-2\n")
    assert load_config({"AWS_CONFIG_FILE": str(aws_config)}, {}).primary_region == "eu-central-1"
    assert load_config({"AWS_CONFIG_FILE": str(aws_config), "AWS_PROFILE": "work"}, {}).primary_region == "ap-southeast-2"
    assert load_config({"AWS_CONFIG_FILE": str(aws_config), "AWS_REGION": "ca-central-1"}, {}).primary_region == "ca-central-1"
    explicit = {"AWS_CONFIG_FILE": str(aws_config), "AWS_REGION": "ca-central-1", "PRIMARY_AWS_REGION": "eu-north-1"}
    assert load_config(explicit, {}).primary_region == "eu-north-1"


def test_cdktf_json_context_is_read_and_the_environment_wins() -> None:
    context = {"DESIRED_COUNT": 2, "NAT_MODE": "single"}
    config = load_config({"AWS_CONFIG_FILE": os.devnull, "NAT_MODE": "per_az"}, context)
    assert config.desired_count == 2
    assert config.nat_mode == "per_az"


def test_bad_context_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"^DESIRED_COUNT: must be a whole number"):
        load_config({"AWS_CONFIG_FILE": os.devnull}, {"DESIRED_COUNT": True})


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1]
    missing = [name for name, _default, _doc in DeploymentConfig.describe() if f"| `{name}` |" not in table]
    assert not missing, f"README configuration table lacks {missing}"


DECLARED_RANGES = [
    (f.metadata["env"], *f.metadata["between"]) for f in dataclasses.fields(DeploymentConfig) if "between" in f.metadata
]


@pytest.mark.parametrize(("setting", "low", "high"), DECLARED_RANGES)
def test_a_declared_range_is_what_the_table_says_and_what_validation_enforces(setting: str, low: int, high: int) -> None:
    """The README's table and load_config read one range per numeric setting, so they agree."""
    doc = next(doc for name, _default, doc in DeploymentConfig.describe() if name == setting)
    assert f"{low} to {high}" in doc
    environ = {"AWS_CONFIG_FILE": os.devnull}
    for outside in (low - 1, high + 1):
        with pytest.raises(ConfigError, match=rf"^{setting}: must be between {low} and {high}, got {outside}$"):
            load_config({**environ, setting: str(outside)}, {})
    assert getattr(load_config({**environ, setting: str(low)}, {}), _field_of(setting)) == low


def _field_of(setting: str) -> str:
    return next(f.name for f in dataclasses.fields(DeploymentConfig) if f.metadata["env"] == setting)


def test_the_largest_storage_leaves_room_for_autoscaling() -> None:
    """RDS allows 65,536 GiB; its storage autoscaling ceiling must be at least 10% above the initial size."""
    config = load_config(
        {"AWS_CONFIG_FILE": os.devnull, "DB_ALLOCATED_STORAGE": "59578", "DB_MAX_ALLOCATED_STORAGE": "65536"}, {}
    )
    assert (config.db_allocated_storage, config.db_max_allocated_storage) == (59578, 65536)


def test_a_storage_ceiling_less_than_ten_percent_above_the_storage_is_refused() -> None:
    """RDS answers "Invalid max storage size" below 110% (RDS User Guide, storage autoscaling); moto accepts it."""
    environ = {"AWS_CONFIG_FILE": os.devnull, "DB_ALLOCATED_STORAGE": "105"}
    with pytest.raises(ConfigError, match=r"^DB_MAX_ALLOCATED_STORAGE: must be between 116 and 65536, got 115$"):
        load_config({**environ, "DB_MAX_ALLOCATED_STORAGE": "115"}, {})
    assert load_config({**environ, "DB_MAX_ALLOCATED_STORAGE": "116"}, {}).db_max_allocated_storage == 116


def test_the_default_configuration_fits_a_db_t4g_micro() -> None:
    """2 regions x MAX_COUNT 2 x 2 (rolling deploy) x (5 + 1 + 2) + 8 reserved = 72 <= 78."""
    config = load_config({"AWS_CONFIG_FILE": os.devnull}, {})
    assert (config.db_instance_class, config.pool_size, config.max_count) == ("db.t4g.micro", 5, 2)
    peak = 2 * config.max_count * 2 * (config.pool_size + REALTIME_LISTEN_CONNECTIONS + REALTIME_PUBLISH_CONNECTIONS)
    assert peak + RESERVED_CONNECTIONS <= max_connections("db.t4g.micro") == 78


def test_max_connections_assume_less_memory_than_the_class_has() -> None:
    """LEAST(DBInstanceClassMemory/9531392, 5000) with DBInstanceClassMemory below nominal (RDS User Guide)."""
    assert max_connections("db.t4g.micro") < 1024**3 // 9531392  # 112 on the nominal 1 GiB
    assert max_connections("db.r6g.large") == int(16 * 1024**3 * 0.7 // 9531392)
    assert max_connections("db.r7g.16xlarge") == 5000
    assert all(name.startswith("db.") for name in DB_CLASS_MEMORY_GIB)


def test_a_larger_class_admits_a_larger_pool() -> None:
    config = load_config(
        {"AWS_CONFIG_FILE": os.devnull, "POOL_SIZE": "10", "MAX_COUNT": "4", "DB_INSTANCE_CLASS": "db.t4g.medium"}, {}
    )
    assert (config.pool_size, config.max_count) == (10, 4)


def test_the_budget_counts_the_connections_the_app_opens() -> None:
    """The app's own numbers, imported: its engine has no overflow, its realtime bus one LISTEN and a NOTIFY pool."""
    import inspect

    import livebeats.app
    from livebeats.db import create_engine, open_database
    from livebeats.realtime.bus import PgBus
    from livebeats.realtime.hub import RealtimeHub
    from livebeats.settings import Settings

    settings = Settings(database_url="postgresql://u:p@db.invalid/livebeats", secret_key_base="x" * 32, pool_size=7)
    engine = create_engine(open_database(settings), pool_size=settings.pool_size)
    assert "create_engine(database, pool_size=settings.pool_size)" in inspect.getsource(livebeats.app)  # POOL_SIZE, once
    assert engine.pool.size() == 7
    assert engine.pool._max_overflow == 0  # noqa: SLF001 (QueuePool has no public accessor)
    assert inspect.signature(PgBus).parameters["publish_pool_size"].default == REALTIME_PUBLISH_CONNECTIONS
    assert "publish_pool_size" not in inspect.getsource(RealtimeHub)  # the hub keeps the bus's default
