"""The one typed configuration object every stack receives; stacks pass each construct the values it uses.

Built once at the top (``main.py``) from the environment and the ``context`` of
``cdktf.json``; validated before any stack exists, so a bad value is reported as
one line naming the setting, not as a stack trace from deep inside jsii.
Constructs never read the environment themselves.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from config.connection_budget import (
    DEPLOYMENT_MAXIMUM_PERCENT,
    REGIONS,
    RESERVED_CONNECTIONS,
    check_connection_budget,
    connections_per_task,
)
from config.errors import ConfigError
from config.regions import AWS_REGIONS, GLOBAL_ACCELERATOR_REGION

NAT_MODES = ("none", "single", "per_az")
CPU_ARCHITECTURES = ("ARM64", "X86_64")

# Fargate's valid CPU units and, for each, the memory sizes (MiB) it accepts.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}

_IMAGE_URI = re.compile(
    r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?"  # optional registry host[:port]/
    r"[a-z0-9]+(?:[._/-][a-z0-9]+)*"  # repository path
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$"  # :tag or @digest
)
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


RDS_MAX_STORAGE_GIB = 65536
"""The most storage an RDS for PostgreSQL instance can have (gp2/gp3)."""
STORAGE_CEILING_HEADROOM_PERCENT = 10
"""RDS refuses a storage autoscaling ceiling less than 10% above the allocated storage ("Invalid max storage
size"; RDS User Guide, storage autoscaling); the emulator accepts any."""
MAX_TASKS = 100
"""Most app tasks per region, running or scaled out to: a bound on runaway settings, not an AWS quota."""


def _setting(name: str, default: Any, doc: str, *, between: tuple[int, int] | None = None) -> Any:
    """A configuration field: its environment name, its default, what it means and, for a number, its range.

    ``doc`` may name the range as ``{low}`` and ``{high}``: the README's table and the
    validation (``_in_own_range``) read the one ``between``, so they cannot disagree.
    """
    metadata: dict[str, Any] = {"env": name, "doc": doc}
    if between is not None:
        metadata["doc"] = doc.format(low=between[0], high=between[1])
        metadata["between"] = between
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class DeploymentConfig:
    """Everything a deployment can vary, with a default that deploys."""

    project_name: str = _setting("PROJECT_NAME", "livebeats", "Prefix of every resource name: 2-21 characters, a-z, 0-9 and '-'.")
    primary_region: str = _setting(
        "PRIMARY_AWS_REGION",
        "eu-west-2",
        "Region of the database, the state bucket and the first app copy. "
        "Default: the AWS CLI/SDK region (AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config), else eu-west-2.",
    )
    secondary_region: str = _setting(
        "SECONDARY_AWS_REGION", "us-west-2", "Region of the second app copy; must differ from the primary."
    )
    primary_vpc_cidr: str = _setting(
        "PRIMARY_VPC_CIDR", "10.0.0.0/16", "IPv4 CIDR of the primary VPC, prefix /16 to /24, aligned."
    )
    secondary_vpc_cidr: str = _setting(
        "SECONDARY_VPC_CIDR",
        "10.1.0.0/16",
        "IPv4 CIDR of the secondary VPC, prefix /16 to /24, aligned, not overlapping the primary.",
    )
    az_count: int = _setting("AZ_COUNT", 2, "Availability zones per region, {low} to {high}.", between=(2, 4))
    nat_mode: str = _setting(
        "NAT_MODE",
        "none",
        "none: tasks run with public IPs behind a locked-down security group (cheapest); "
        "single: one NAT gateway per region; per_az: one NAT gateway per zone.",
    )
    desired_count: int = _setting("DESIRED_COUNT", 1, "Running app tasks per region, {low} to {high}.", between=(0, MAX_TASKS))
    max_count: int = _setting(
        "MAX_COUNT",
        2,
        f"Upper bound of CPU target-tracking autoscaling per region, at most {MAX_TASKS}; equal to DESIRED_COUNT "
        "turns autoscaling off. "
        "With POOL_SIZE it must fit the database's max_connections (see DB_INSTANCE_CLASS).",
    )
    task_cpu: int = _setting("TASK_CPU", 256, "Fargate CPU units per task: 256, 512, 1024, 2048 or 4096.")
    task_memory: int = _setting("TASK_MEMORY", 512, "Fargate memory (MiB) per task, valid for TASK_CPU.")
    cpu_architecture: str = _setting(
        "CPU_ARCHITECTURE",
        "ARM64",
        "ARM64 (Graviton, about 20% cheaper) or X86_64: the tasks' CPU, and the platform the image is built for; "
        "an APP_IMAGE must be built for it.",
    )
    container_insights: bool = _setting(
        "CONTAINER_INSIGHTS",
        False,
        "true: ECS Container Insights (per-task CPU, memory and network metrics, about $11 a month per cluster); "
        "false: the service's own CPU and memory metrics, which autoscaling uses, at no charge.",
    )
    pool_size: int = _setting(
        "POOL_SIZE",
        5,
        "SQLAlchemy pool of each app task, {low} to {high}; each task also holds "
        f"{connections_per_task(0)} realtime connections (LISTEN and NOTIFY).",
        between=(1, 100),
    )
    app_image: str | None = _setting(
        "APP_IMAGE",
        None,
        "Container image URI to run (e.g. an ECR image). Unset: built from app/ and pushed to ECR with the docker provider.",
    )
    app_hostname: str | None = _setting(
        "APP_HOSTNAME",
        None,
        "Public hostname of the site (a custom domain; its DNS record, an alias or CNAME to the accelerator, is "
        "yours to create). Required with the certificates: none can name the accelerator's own DNS name. Unset: "
        "the site is http://<accelerator DNS name>/ and WebSocket origins must match the request's own host.",
    )
    primary_certificate_arn: str | None = _setting(
        "PRIMARY_CERTIFICATE_ARN", None, "ACM certificate in the primary region; with the secondary one it turns on HTTPS."
    )
    secondary_certificate_arn: str | None = _setting(
        "SECONDARY_CERTIFICATE_ARN", None, "ACM certificate in the secondary region; set both or neither."
    )
    db_instance_class: str = _setting(
        "DB_INSTANCE_CLASS",
        "db.t4g.micro",
        "RDS instance class: db.t3 or db.t4g, micro to 2xlarge; db.m5, db.m6g, db.m6i, db.m7g, db.r5, db.r6g, "
        "db.r6i or db.r7g, large to 16xlarge. Its memory sets max_connections, which must hold "
        f"{REGIONS} regions x MAX_COUNT x {DEPLOYMENT_MAXIMUM_PERCENT // 100} (rolling deploy) tasks "
        f"x (POOL_SIZE + {connections_per_task(0)}) connections + {RESERVED_CONNECTIONS} reserved.",
    )
    db_engine_version: str = _setting("DB_ENGINE_VERSION", "16", "PostgreSQL major version (minor upgrades are automatic).")
    db_allocated_storage: int = _setting(
        "DB_ALLOCATED_STORAGE",
        20,
        "Initial storage in GiB, {low} to {high}.",
        between=(20, RDS_MAX_STORAGE_GIB * 100 // (100 + STORAGE_CEILING_HEADROOM_PERCENT)),
    )
    db_max_allocated_storage: int = _setting(
        "DB_MAX_ALLOCATED_STORAGE",
        100,
        f"Storage autoscaling ceiling in GiB, at least {STORAGE_CEILING_HEADROOM_PERCENT}% above DB_ALLOCATED_STORAGE, "
        f"at most {RDS_MAX_STORAGE_GIB}.",
    )
    db_backup_retention_days: int = _setting(
        "DB_BACKUP_RETENTION_DAYS", 7, "Automated backup retention, {low} to {high} days.", between=(1, 35)
    )
    db_multi_az: bool = _setting(
        "DB_MULTI_AZ", False, "true: a standby in a second zone with automatic failover (about twice the cost of one instance)."
    )
    db_replica: bool = _setting(
        "DB_REPLICA",
        False,
        "true: a cross-region read replica of the database in the secondary region, and the secrets and image "
        "replicated there, so `make failover` can run the site from the secondary alone (a second instance's cost).",
    )
    public_profiles: bool = _setting(
        "PUBLIC_PROFILES",
        False,
        "true: visitors who are not signed in may open a profile and listen (no controls, not listed as listeners; "
        "they see who is listening); the app's PUBLIC_PROFILES.",
    )
    log_retention_days: int = _setting("LOG_RETENTION_DAYS", 30, "CloudWatch log retention in days.")
    throwaway: bool = _setting(
        "THROWAWAY",
        False,
        "true for a disposable environment: no deletion protection, no final snapshot, buckets emptied on destroy.",
    )
    state_bucket: str = _setting(
        "STATE_BUCKET",
        "livebeats-terraform-state",
        "S3 bucket holding Terraform state (created by the bootstrap stack). scripts/cdktf.sh (make deploy | "
        "diff | destroy) sets it to <PROJECT_NAME>-tfstate-<account id>-<PRIMARY_AWS_REGION> when unset: bucket "
        "names are global, so a fixed name would belong to whoever took it first.",
    )
    s3_use_path_style: bool = _setting(
        "S3_USE_PATH_STYLE",
        False,
        "Address S3 path-style (bucket in the path): needed by local emulators, never on real AWS.",
    )

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.secondary_region)

    @property
    def https_enabled(self) -> bool:
        return self.primary_certificate_arn is not None

    @property
    def autoscaling_enabled(self) -> bool:
        return self.max_count > self.desired_count

    @property
    def secret_recovery_window_days(self) -> int:
        """How long a deleted secret can be restored: Secrets Manager's shortest window, none when THROWAWAY."""
        return 0 if self.throwaway else 7

    @property
    def global_accelerator_region(self) -> str:
        return GLOBAL_ACCELERATOR_REGION

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(environment name, default as a user would set it or ``unset``, meaning) of every setting.

        The rows of README.md's deployment settings table, which tools/config_tables.py
        writes, so the README cannot drift from these fields.
        """
        return [(f.metadata["env"], _written(f.default), f.metadata["doc"]) for f in fields(cls)]


_FIELDS = {f.name: f for f in fields(DeploymentConfig)}


def _written(default: object) -> str:
    """A default as a user would write it in the environment (``unset`` when there is none)."""
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def load_config(environ: Mapping[str, str] | None = None, context: Mapping[str, Any] | None = None) -> DeploymentConfig:
    """Read every setting from the environment, then ``cdktf.json`` context, then the default.

    Raises ConfigError naming the first setting that is not allowed.
    """
    environ = os.environ if environ is None else environ
    context = context or {}
    raw: dict[str, Any] = {}
    for f in fields(DeploymentConfig):
        name = f.metadata["env"]
        value = environ.get(name)
        if value is None and name in context:
            value = context[name]
        if value is None and f.name == "primary_region":
            value = _aws_cli_region(environ)
        if value is None or (isinstance(value, str) and value.strip() == "" and f.default is None):
            continue
        raw[f.name] = _parse(name, str(f.type), value)  # annotations are strings (__future__ annotations)
    config = DeploymentConfig(**raw)
    _validate(config)
    return config


def _aws_cli_region(environ: Mapping[str, str]) -> str | None:
    """The region the AWS CLI and SDKs would use, so both tools agree by default."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(name):
            return environ[name]
    path = Path(environ.get("AWS_CONFIG_FILE", Path.home() / ".aws" / "config"))
    profile = environ.get("AWS_PROFILE", "default")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None
    section = "default" if profile == "default" else f"profile {profile}"
    return parser.get(section, "region", fallback=None)


def _parse(name: str, type_name: str, value: Any) -> Any:
    text = str(value).strip()
    if type_name == "int":
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", text):
            raise ConfigError(name, f"must be a whole number, got {text!r}")
        return int(text)
    if type_name == "bool":
        if isinstance(value, bool):
            return value
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(name, f"must be true or false, got {text!r}")
    return text


def _validate(config: DeploymentConfig) -> None:
    if not _NAME.match(config.project_name):
        raise ConfigError(
            "PROJECT_NAME", f"must be 2-21 characters of a-z, 0-9 and '-', starting with a letter, got {config.project_name!r}"
        )
    for env, region in (("PRIMARY_AWS_REGION", config.primary_region), ("SECONDARY_AWS_REGION", config.secondary_region)):
        if region not in AWS_REGIONS:
            raise ConfigError(env, f"unknown AWS region {region!r}; allowed: {', '.join(sorted(AWS_REGIONS))}")
    if config.primary_region == config.secondary_region:
        raise ConfigError("SECONDARY_AWS_REGION", f"must differ from PRIMARY_AWS_REGION ({config.primary_region})")
    primary = _vpc_network("PRIMARY_VPC_CIDR", config.primary_vpc_cidr)
    secondary = _vpc_network("SECONDARY_VPC_CIDR", config.secondary_vpc_cidr)
    if primary.overlaps(secondary):
        raise ConfigError(
            "SECONDARY_VPC_CIDR", f"{secondary} overlaps PRIMARY_VPC_CIDR {primary}; peered VPCs need disjoint ranges"
        )
    _in_own_range(config, "az_count")
    if config.nat_mode not in NAT_MODES:
        raise ConfigError("NAT_MODE", f"must be one of {', '.join(NAT_MODES)}, got {config.nat_mode!r}")
    _in_own_range(config, "desired_count")
    _in_range("MAX_COUNT", config.max_count, config.desired_count, MAX_TASKS)
    if config.task_cpu not in FARGATE_MEMORY_BY_CPU:
        raise ConfigError("TASK_CPU", f"must be one of {', '.join(map(str, FARGATE_MEMORY_BY_CPU))}, got {config.task_cpu}")
    allowed_memory = FARGATE_MEMORY_BY_CPU[config.task_cpu]
    if config.task_memory not in allowed_memory:
        raise ConfigError(
            "TASK_MEMORY",
            f"{config.task_memory} MiB is not valid with TASK_CPU={config.task_cpu}; "
            f"allowed: {allowed_memory[0]} to {allowed_memory[-1]} in steps of {allowed_memory[1] - allowed_memory[0]}",
        )
    if config.cpu_architecture not in CPU_ARCHITECTURES:
        raise ConfigError("CPU_ARCHITECTURE", f"must be one of {', '.join(CPU_ARCHITECTURES)}, got {config.cpu_architecture!r}")
    _in_own_range(config, "pool_size")
    if config.app_image is not None and not _IMAGE_URI.match(config.app_image):
        raise ConfigError(
            "APP_IMAGE",
            f"{config.app_image!r} is not an image URI; expected [registry/]repository:tag or "
            "[registry/]repository@sha256:<digest>, lower-case repository",
        )
    if config.app_hostname is not None and not _HOSTNAME.match(config.app_hostname):
        raise ConfigError("APP_HOSTNAME", f"{config.app_hostname!r} is not a hostname (no scheme, port or path)")
    _validate_certificates(config)
    if config.https_enabled and config.app_hostname is None:
        raise ConfigError(
            "APP_HOSTNAME",
            "required with PRIMARY_CERTIFICATE_ARN and SECONDARY_CERTIFICATE_ARN: browsers check the certificate "
            "against the name they open, and no certificate can name the accelerator's own DNS name; set the "
            "hostname the certificates cover and point its DNS record at the accelerator",
        )
    check_connection_budget(pool_size=config.pool_size, max_count=config.max_count, db_instance_class=config.db_instance_class)
    if not re.fullmatch(r"\d{2}", config.db_engine_version):
        raise ConfigError("DB_ENGINE_VERSION", f"must be a PostgreSQL major version such as 16, got {config.db_engine_version!r}")
    _in_own_range(config, "db_allocated_storage")
    _in_range(
        "DB_MAX_ALLOCATED_STORAGE",
        config.db_max_allocated_storage,
        _storage_ceiling_floor(config.db_allocated_storage),
        RDS_MAX_STORAGE_GIB,
    )
    _in_own_range(config, "db_backup_retention_days")
    if config.log_retention_days not in _LOG_RETENTION_DAYS:
        raise ConfigError(
            "LOG_RETENTION_DAYS", f"must be one of {', '.join(map(str, _LOG_RETENTION_DAYS))}, got {config.log_retention_days}"
        )
    if config.db_replica and config.app_image is not None and f".dkr.ecr.{config.primary_region}." in config.app_image:
        raise ConfigError(
            "DB_REPLICA",
            f"the secondary region must survive the primary's loss, but APP_IMAGE is in the primary's ECR "
            f"({config.primary_region}); use an image the secondary can pull (its own region's registry) or unset "
            "APP_IMAGE to build one that is replicated",
        )
    if not _BUCKET_NAME.match(config.state_bucket) or ".." in config.state_bucket:
        raise ConfigError("STATE_BUCKET", f"{config.state_bucket!r} is not a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-')")


# CloudWatch Logs accepts only these retention periods.
_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def _storage_ceiling_floor(allocated_gib: int) -> int:
    """The lowest storage autoscaling ceiling RDS accepts above `allocated_gib` (rounded up to a whole GiB)."""
    return -(-allocated_gib * (100 + STORAGE_CEILING_HEADROOM_PERCENT) // 100)


def _in_own_range(config: DeploymentConfig, field_name: str) -> None:
    """Check a setting against the range its field declares (the README's table shows the same range)."""
    metadata = _FIELDS[field_name].metadata
    low, high = metadata["between"]
    _in_range(metadata["env"], getattr(config, field_name), low, high)


def _in_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}, got {value}")


def _vpc_network(name: str, cidr: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        raise ConfigError(name, f"{cidr!r} is not an IPv4 CIDR such as 10.0.0.0/16") from None
    if str(network) != cidr:
        raise ConfigError(name, f"{cidr} is not aligned to its prefix; did you mean {network}?")
    if not 16 <= network.prefixlen <= 24:
        raise ConfigError(
            name, f"prefix must be /16 to /24 (AWS allows /16 to /28 and we carve 12 subnets), got /{network.prefixlen}"
        )
    if not network.is_private:
        raise ConfigError(name, f"{cidr} is not a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
    return network


def _validate_certificates(config: DeploymentConfig) -> None:
    pairs = (
        ("PRIMARY_CERTIFICATE_ARN", config.primary_certificate_arn, config.primary_region),
        ("SECONDARY_CERTIFICATE_ARN", config.secondary_certificate_arn, config.secondary_region),
    )
    for name, arn, region in pairs:
        if arn is None:
            continue
        match = _CERTIFICATE_ARN.match(arn)
        if not match:
            raise ConfigError(name, f"{arn!r} is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)")
        if match["region"] != region:
            raise ConfigError(
                name, f"certificate is in {match['region']}, but its load balancer is in {region}; ACM certificates are regional"
            )
    if (config.primary_certificate_arn is None) != (config.secondary_certificate_arn is None):
        missing = "SECONDARY_CERTIFICATE_ARN" if config.secondary_certificate_arn is None else "PRIMARY_CERTIFICATE_ARN"
        raise ConfigError(missing, "HTTPS needs a certificate in both regions: set both certificate ARNs or neither")
