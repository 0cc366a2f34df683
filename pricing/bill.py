"""The monthly bill of a synthesized deployment: a pure function of its Terraform JSON, a price table and usage.

Every resource of every stack is either priced (one or more lines), known to
cost nothing by itself (``FREE``, each with the reason), or reported as
unpriced — an unknown resource type, an unknown region, or a price the table
lacks is named on the bill, never counted as free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pricing.table import PriceTable, UnknownPrice
from pricing.usage import IDLE, STATED_LOAD, Usage

FREE_EGRESS_GB = 100.0
"""Internet egress AWS does not charge: the first 100 GB a month, account-wide, all regions together."""

# Container Insights (standard) metrics "are charged as custom metrics" (CloudWatch User
# Guide, "Amazon ECS Container Insights metrics"). Eight resource metrics (CPU and memory
# reserved/utilized, network rx/tx, storage read/write), plus ephemeral storage
# reserved/utilized on Fargate, are published for each of three dimension sets: cluster,
# service, task family. The cluster adds ServiceCount and TaskCount; the service adds
# deployment, desired, pending, running and task-set counts. An estimate: AWS adds metrics.
CONTAINER_INSIGHTS_METRICS = {"cluster": 12, "service": 15, "task_family": 10}
ALARMS_PER_TARGET_TRACKING_POLICY = 2
ACCELERATOR_IPV4_ADDRESSES = 2

_ALWAYS_FREE_METRICS = "CloudWatch's always-free 10 metrics and 10 alarms per account are not deducted (other workloads use them)"

Quantity = Callable[[Usage], float]


@dataclass(frozen=True)
class Charge:
    """``quantity(usage)`` units of the price ``key`` (optionally of one ``variant``, e.g. an instance class)."""

    item: str
    key: str
    quantity: Quantity
    variant: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Line:
    stack: str
    address: str
    region: str
    item: str
    key: str
    idle_quantity: float
    load_quantity: float
    unit_price: float
    estimated: bool
    note: str

    @property
    def idle(self) -> float:
        return self.idle_quantity * self.unit_price

    @property
    def load(self) -> float:
        return self.load_quantity * self.unit_price


@dataclass(frozen=True)
class Unpriced:
    stack: str
    address: str
    region: str
    reason: str


@dataclass
class Bill:
    lines: list[Line]
    unpriced: list[Unpriced]
    free: list[tuple[str, str, str]]
    """(stack, address, reason) of every resource that costs nothing by itself."""
    idle_usage: Usage
    load_usage: Usage
    table: PriceTable

    @property
    def idle_total(self) -> float:
        return sum(line.idle for line in self.lines)

    @property
    def load_total(self) -> float:
        return sum(line.load for line in self.lines)

    def totals_by_region(self) -> dict[str, tuple[float, float]]:
        totals: dict[str, tuple[float, float]] = {}
        for line in self.lines:
            idle, load = totals.get(line.region, (0.0, 0.0))
            totals[line.region] = (idle + line.idle, load + line.load)
        return dict(sorted(totals.items()))

    def public_ipv4_addresses(self) -> float:
        """Public IPv4 addresses the deployment holds while idle (each billed by the hour)."""
        return sum(line.idle_quantity for line in self.lines if line.key == "public_ipv4_hour") / self.table.hours_per_month


@dataclass(frozen=True)
class Resource:
    stack: str
    type: str
    name: str
    body: Mapping[str, Any]
    region: str | None

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


class Deployment:
    """All stacks' resources, with the lookups pricing needs (references, counts)."""

    def __init__(self, stacks: Mapping[str, Mapping[str, Any]]) -> None:
        self.stacks = stacks
        self.resources: list[Resource] = []
        for stack_name, stack in stacks.items():
            regions = _provider_regions(stack)
            for type_, by_name in stack.get("resource", {}).items():
                for name, body in by_name.items():
                    provider = body.get("provider", type_.split("_", 1)[0])
                    self.resources.append(Resource(stack_name, type_, name, body, regions.get(provider)))

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def referenced(self, resource: Resource, expression: Any, type_: str) -> Resource | None:
        """The resource of ``type_`` in the same stack that ``expression`` (``${type.name.attr}``) names."""
        match = re.search(rf"\b{re.escape(type_)}\.([A-Za-z0-9_-]+)\.", str(expression))
        if match is None:
            return None
        for candidate in self.of_type(type_):
            if candidate.stack == resource.stack and candidate.name == match[1]:
                return candidate
        return None

    def log_group_named(self, name: str) -> Resource | None:
        return next((g for g in self.of_type("aws_cloudwatch_log_group") if g.body.get("name") == name), None)


def _provider_regions(stack: Mapping[str, Any]) -> dict[str, str]:
    """Provider address (``aws`` or ``aws.<alias>``) to region, from the stack's provider blocks."""
    regions = {}
    for block in stack.get("provider", {}).get("aws", []):
        if "region" in block:
            regions[f"aws.{block['alias']}" if "alias" in block else "aws"] = block["region"]
    return regions


class NotPriced(Exception):
    """A resource whose configuration the pricing does not cover (named on the bill)."""


def price_deployment(
    stacks: Mapping[str, Mapping[str, Any]], table: PriceTable, *, idle: Usage = IDLE, load: Usage = STATED_LOAD
) -> Bill:
    """Price every resource of ``stacks`` (stack name to synthesized ``cdk.tf.json``) for one month."""
    deployment = Deployment(stacks)
    bill = Bill(lines=[], unpriced=[], free=[], idle_usage=idle, load_usage=load, table=table)
    for resource in deployment.resources:
        if resource.type in FREE:
            bill.free.append((resource.stack, resource.address, FREE[resource.type]))
            continue
        handler = PRICED.get(resource.type)
        region = resource.region or "?"
        if handler is None:
            bill.unpriced.append(
                Unpriced(resource.stack, resource.address, region, f"resource type {resource.type} is not in the pricing")
            )
            continue
        try:
            charges = list(handler(resource, deployment, table.hours_per_month))
        except NotPriced as reason:
            bill.unpriced.append(Unpriced(resource.stack, resource.address, region, str(reason)))
            continue
        for charge_region, charge in charges:
            try:
                unit_price = table.get(charge.key, charge_region, charge.variant)
            except UnknownPrice as missing:
                bill.unpriced.append(Unpriced(resource.stack, resource.address, charge_region, f"{charge.item}: {missing}"))
                continue
            bill.lines.append(
                Line(
                    stack=resource.stack,
                    address=resource.address,
                    region=charge_region,
                    item=charge.item,
                    key=charge.key,
                    idle_quantity=charge.quantity(idle),
                    load_quantity=charge.quantity(load),
                    unit_price=unit_price,
                    estimated=table.is_estimated(charge.key, charge_region, charge.variant),
                    note=charge.note,
                )
            )
    return bill


# ---- resource types -----------------------------------------------------------

Handler = Callable[[Resource, Deployment, float], Iterable[tuple[str, Charge]]]


def _regional(resource: Resource, charges: Iterable[Charge]) -> Iterator[tuple[str, Charge]]:
    if resource.region is None:
        raise NotPriced("no region: its provider block names none")
    for charge in charges:
        yield resource.region, charge


def _constant(value: float) -> Quantity:
    return lambda _usage: value


def _retention_days(group: Resource | None) -> int | None:
    if group is None:
        return None
    days = group.body.get("retention_in_days")
    return int(days) if days else None


def _log_charges(what: str, ingest_key: str, gb: Quantity, group: Resource | None) -> list[Charge]:
    """Ingestion of ``gb`` a month into ``group``, and its storage at the group's retention."""
    retention = _retention_days(group)
    if retention is None:
        storage = Charge(
            f"{what}: storage",
            "logs_storage_gb_month",
            gb,
            note="no retention on the group: storage grows by this every month",
        )
    else:
        storage = Charge(
            f"{what}: storage ({retention} days kept)",
            "logs_storage_gb_month",
            lambda u: gb(u) * retention / 30,
        )
    return [Charge(f"{what}: ingestion", ingest_key, gb), storage]


def _fargate_service(resource: Resource, deployment: Deployment, hours: float) -> Iterator[tuple[str, Charge]]:
    body = resource.body
    if body.get("launch_type", "FARGATE") != "FARGATE":
        raise NotPriced(f"launch type {body.get('launch_type')} is not priced (Fargate only)")
    task = deployment.referenced(resource, body.get("task_definition"), "aws_ecs_task_definition")
    if task is None:
        raise NotPriced("its task definition is not in the same stack")
    platform = task.body.get("runtime_platform") or {}
    if platform.get("operating_system_family", "LINUX") != "LINUX":
        raise NotPriced(f"operating system {platform['operating_system_family']} is not priced (Linux only)")
    architecture = {"X86_64": "x86", "ARM64": "arm"}[platform.get("cpu_architecture", "X86_64")]
    tasks = int(body.get("desired_count", 0))
    vcpu = int(task.body["cpu"]) / 1024
    memory_gb = int(task.body["memory"]) / 1024
    label = f"{tasks} task(s) × {vcpu:g} vCPU, {memory_gb:g} GB, {platform.get('cpu_architecture', 'X86_64')}"
    charges = [
        Charge(f"Fargate vCPU, {label}", f"fargate_{architecture}_vcpu_hour", _constant(tasks * vcpu * hours)),
        Charge(f"Fargate memory, {label}", f"fargate_{architecture}_gb_hour", _constant(tasks * memory_gb * hours)),
    ]
    if (body.get("network_configuration") or {}).get("assign_public_ip"):
        charges.append(
            Charge(
                f"public IPv4 of {tasks} task(s)",
                "public_ipv4_hour",
                _constant(tasks * hours),
                note="NAT_MODE=none: each task reaches ECR, Secrets Manager and GitHub through its own public address",
            )
        )
    log_group = deployment.referenced(task, task.body.get("container_definitions"), "aws_cloudwatch_log_group")
    charges += _log_charges("task logs", "logs_ingest_gb", lambda u: tasks * u.app_log_gb_per_task, log_group)
    cluster = deployment.referenced(resource, body.get("cluster"), "aws_ecs_cluster")
    if cluster is not None and _container_insights(cluster):
        metrics = CONTAINER_INSIGHTS_METRICS["service"] + CONTAINER_INSIGHTS_METRICS["task_family"]
        charges += [
            Charge(
                f"Container Insights: {metrics} service and task-family metrics",
                "metric_month",
                _constant(metrics),
                note=_ALWAYS_FREE_METRICS,
            ),
            Charge(
                "Container Insights: performance events ingested",
                "logs_ingest_gb",
                lambda u: tasks * u.container_insights_log_gb_per_task,
            ),
        ]
    return _regional(resource, charges)


def _container_insights(cluster: Resource) -> bool:
    return any(
        s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced")
        for s in cluster.body.get("setting", [])
    )


def _ecs_cluster(resource: Resource, _deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    charges = []
    if _container_insights(resource):
        metrics = CONTAINER_INSIGHTS_METRICS["cluster"]
        charges.append(
            Charge(
                f"Container Insights: {metrics} cluster metrics", "metric_month", _constant(metrics), note=_ALWAYS_FREE_METRICS
            )
        )
    return _regional(resource, charges)


def _load_balancer(resource: Resource, deployment: Deployment, hours: float) -> Iterator[tuple[str, Charge]]:
    body = resource.body
    if body.get("load_balancer_type", "application") != "application":
        raise NotPriced(f"load balancer type {body['load_balancer_type']} is not priced (application only)")
    share = 1 / len(deployment.of_type("aws_lb"))

    def lcu_hours(u: Usage) -> float:
        # An LCU-hour is the largest of: 25 new connections/s, 3,000 active connections/min,
        # 1 GB processed/h (targets are IPs), 1,000 rule evaluations/s (the first 10 rules are free).
        new_connections = u.requests * share / (hours * 3600) / 25
        active = u.open_pages * share / 3000
        processed = u.gb_out * share / hours
        return max(new_connections, active, processed) * hours

    charges = [
        Charge("ALB hours", "alb_hour", _constant(hours)),
        Charge("ALB capacity units", "alb_lcu_hour", lcu_hours, note="health checks are not billed as LCUs"),
    ]
    if not body.get("internal", False):
        zones = len(body.get("subnets", [])) or len(body.get("subnet_mapping", []))
        charges.append(
            Charge(
                f"public IPv4 of the internet-facing ALB ({zones} zones)",
                "public_ipv4_hour",
                _constant(zones * hours),
                note="one address per zone at least; an ALB under load may add nodes",
            )
        )
    charges.append(
        Charge(
            "data out to the internet",
            "internet_out_gb",
            lambda u: max(0.0, (u.gb_out - FREE_EGRESS_GB) * share),
            note=f"after the account's free {FREE_EGRESS_GB:g} GB a month, shared between load balancers",
        )
    )
    return _regional(resource, charges)


def _nat_gateway(resource: Resource, _deployment: Deployment, hours: float) -> Iterator[tuple[str, Charge]]:
    return _regional(
        resource,
        [
            Charge("NAT gateway hours", "nat_gateway_hour", _constant(hours)),
            Charge("NAT gateway data processed", "nat_gateway_gb", lambda u: u.nat_gb_per_gateway),
        ],
    )


def _elastic_ip(resource: Resource, _deployment: Deployment, hours: float) -> Iterator[tuple[str, Charge]]:
    return _regional(resource, [Charge("Elastic IP (public IPv4)", "public_ipv4_hour", _constant(hours))])


def _accelerator(resource: Resource, _deployment: Deployment, hours: float) -> Iterator[tuple[str, Charge]]:
    # Global: the fixed fee and the public IPv4 price are the same everywhere.
    yield "global", Charge("accelerator fixed fee", "accelerator_hour", _constant(hours))
    yield (
        "global",
        Charge(
            f"public IPv4 of the accelerator ({ACCELERATOR_IPV4_ADDRESSES} static addresses)",
            "public_ipv4_hour",
            _constant(ACCELERATOR_IPV4_ADDRESSES * hours),
            note="AWS's IPv4 announcement lists Global Accelerator among service-managed addresses; "
            "its pricing page shows no separate line. Counted here to stay on the safe side",
        ),
    )


def _endpoint_group(resource: Resource, deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    region = resource.body.get("endpoint_group_region") or resource.region
    if region is None:
        raise NotPriced("no endpoint_group_region")
    share = 1 / len(deployment.of_type("aws_globalaccelerator_endpoint_group"))
    yield (
        region,
        Charge(
            "accelerator DT-Premium",
            "accelerator_premium_gb",
            lambda u: u.gb_out * share,
            note="users in the same continent as the region",
        ),
    )


def _database(resource: Resource, deployment: Deployment, hours: float) -> Iterator[tuple[str, Charge]]:
    body = resource.body
    if body.get("engine") != "postgres" and "replicate_source_db" not in body:
        raise NotPriced(f"engine {body.get('engine')} is not priced (PostgreSQL only)")
    storage_type = body.get("storage_type", "gp2")
    if storage_type not in ("gp2", "gp3"):
        raise NotPriced(f"storage type {storage_type} is not priced (gp2/gp3 only)")
    copies = 2 if body.get("multi_az") else 1
    zones = "Multi-AZ" if copies == 2 else "single-AZ"
    storage_gb = float(body.get("allocated_storage", 20))
    charges = [
        Charge(
            f"{body['instance_class']} {zones}", "rds_postgres_hour", _constant(copies * hours), variant=body["instance_class"]
        ),
        Charge(
            f"{storage_gb:g} GB {storage_type} storage, {zones}",
            "rds_gp3_gb_month",
            _constant(copies * storage_gb),
            note=f"grows toward max_allocated_storage ({body.get('max_allocated_storage', storage_gb)} GB) only when nearly full",
        ),
        Charge(
            f"automated backups ({body.get('backup_retention_period', 1)} days)",
            "rds_backup_gb_month",
            _constant(0.0),
            note="free up to the provisioned storage; a database this small with 7 days' changes stays within it",
        ),
    ]
    if body.get("manage_master_user_password"):
        charges.append(Charge("master password secret (managed by RDS)", "secret_month", _constant(1)))
    if body.get("publicly_accessible"):
        charges.append(Charge("public IPv4 of the instance", "public_ipv4_hour", _constant(hours)))
    if body.get("enabled_cloudwatch_logs_exports"):
        group = deployment.log_group_named(f"/aws/rds/instance/{body.get('identifier')}/postgresql")
        charges += _log_charges("exported PostgreSQL logs", "logs_ingest_gb", lambda u: u.database_log_gb, group)
    return _regional(resource, charges)


def _secret(resource: Resource, deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    copies = 1 + len(resource.body.get("replica", []))
    secrets = len(deployment.of_type("aws_secretsmanager_secret"))
    return _regional(
        resource,
        [
            Charge("secret" if copies == 1 else f"secret and {copies - 1} replica(s)", "secret_month", _constant(copies)),
            Charge("secret API calls", "secret_api_10k", lambda u: u.secret_reads / secrets / 10_000),
        ],
    )


def _bucket(resource: Resource, _deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    return _regional(
        resource,
        [
            Charge("S3 Standard storage", "s3_standard_gb_month", lambda u: u.stored_gb_per_bucket),
            Charge("S3 PUT/LIST requests", "s3_put_1k", lambda u: u.s3_puts / 1000),
            Charge("S3 GET requests", "s3_get_1k", lambda u: u.s3_gets / 1000),
        ],
    )


def _repository(resource: Resource, _deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    return _regional(resource, [Charge("ECR image storage", "ecr_gb_month", lambda u: u.image_gb)])


def _peering(resource: Resource, _deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    return _regional(
        resource,
        [
            Charge(
                "traffic between the regions",
                "inter_region_gb",
                lambda u: u.inter_region_gb,
                note="the secondary's database traffic over the peering, songs and image layers read from the primary",
            )
        ],
    )


def _flow_log(resource: Resource, deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    destination = resource.body.get("log_destination_type", "cloud-watch-logs")
    if destination != "cloud-watch-logs":
        raise NotPriced(f"flow logs to {destination} are not priced (CloudWatch Logs only)")
    group = deployment.referenced(resource, resource.body.get("log_destination"), "aws_cloudwatch_log_group")
    traffic = resource.body.get("traffic_type", "ALL")
    return _regional(
        resource, _log_charges(f"flow logs ({traffic})", "vended_logs_ingest_gb", lambda u: u.flow_log_gb_per_vpc, group)
    )


def _scaling_policy(resource: Resource, _deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    if resource.body.get("policy_type") != "TargetTrackingScaling":
        raise NotPriced(f"policy type {resource.body.get('policy_type')} is not priced")
    return _regional(
        resource,
        [
            Charge(
                "alarms created by target tracking",
                "alarm_month",
                _constant(ALARMS_PER_TARGET_TRACKING_POLICY),
                note=_ALWAYS_FREE_METRICS,
            )
        ],
    )


def _kms_key(resource: Resource, _deployment: Deployment, _hours: float) -> Iterator[tuple[str, Charge]]:
    return _regional(resource, [Charge("customer-managed KMS key", "kms_key_month", _constant(1))])


PRICED: dict[str, Handler] = {
    "aws_ecs_service": _fargate_service,
    "aws_ecs_cluster": _ecs_cluster,
    "aws_lb": _load_balancer,
    "aws_nat_gateway": _nat_gateway,
    "aws_eip": _elastic_ip,
    "aws_globalaccelerator_accelerator": _accelerator,
    "aws_globalaccelerator_endpoint_group": _endpoint_group,
    "aws_db_instance": _database,
    "aws_secretsmanager_secret": _secret,
    "aws_s3_bucket": _bucket,
    "aws_ecr_repository": _repository,
    "aws_vpc_peering_connection": _peering,
    "aws_flow_log": _flow_log,
    "aws_appautoscaling_policy": _scaling_policy,
    "aws_kms_key": _kms_key,
}

_CONFIGURATION = "configuration of a priced resource; no charge of its own"
FREE: dict[str, str] = {
    "aws_vpc": "no charge for a VPC",
    "aws_subnet": "no charge for a subnet",
    "aws_route_table": "no charge for routing",
    "aws_route": "no charge for routing",
    "aws_route_table_association": "no charge for routing",
    "aws_internet_gateway": "no charge for the gateway; data out is priced at the load balancers",
    "aws_default_security_group": "security groups are free",
    "aws_security_group": "security groups are free",
    "aws_vpc_security_group_ingress_rule": "security groups are free",
    "aws_vpc_security_group_egress_rule": "security groups are free",
    "aws_iam_role": "IAM is free",
    "aws_iam_role_policy": "IAM is free",
    "aws_iam_policy": "IAM is free",
    "aws_iam_role_policy_attachment": "IAM is free",
    "aws_vpc_peering_connection_accepter": "peering has no hourly charge; its traffic is priced at the requester",
    "aws_vpc_peering_connection_options": _CONFIGURATION,
    "aws_db_subnet_group": _CONFIGURATION,
    "aws_db_parameter_group": _CONFIGURATION,
    "aws_lb_listener": "listeners are included in the ALB's price",
    "aws_lb_target_group": "target groups are included in the ALB's price",
    "aws_ecs_task_definition": "priced at the service that runs it",
    "aws_appautoscaling_target": "Application Auto Scaling is free; its alarms are priced at the policy",
    "aws_cloudwatch_log_group": "priced at what writes into it (tasks, flow logs, RDS)",
    "aws_s3_bucket_lifecycle_configuration": _CONFIGURATION,
    "aws_s3_bucket_ownership_controls": _CONFIGURATION,
    "aws_s3_bucket_policy": _CONFIGURATION,
    "aws_s3_bucket_public_access_block": _CONFIGURATION,
    "aws_s3_bucket_server_side_encryption_configuration": "SSE-S3 encryption is free",
    "aws_s3_bucket_versioning": "earlier versions are stored objects, within the bucket's stored GB",
    "aws_secretsmanager_secret_version": "priced per secret, not per version",
    "aws_ecr_lifecycle_policy": _CONFIGURATION,
    "aws_ecr_replication_configuration": "replication itself is free; the copy is stored and transferred like any image (DB_REPLICA)",
    "aws_globalaccelerator_listener": "included in the accelerator's fixed fee",
    "aws_kms_alias": "aliases are free",
    "docker_image": "built on the deploying machine; stored in ECR, priced at the repository",
    "docker_registry_image": "pushed to ECR, priced at the repository",
    "terraform_data": "no cloud resource",
}
