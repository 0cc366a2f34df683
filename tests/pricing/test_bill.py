"""The bill of small hand-written stacks, with answers worked out from the price table by hand."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from pricing import Usage, load_price_table, price_deployment

TABLE = load_price_table()
HOURS = 730
NOTHING = Usage(**{f.name: (f.name if f.name == "name" else 0) for f in fields(Usage)})
"""A month with no traffic, logs or storage at all: only what a resource costs by being there."""


def stack(region: str, resources: dict[str, dict[str, dict]]) -> dict:
    for by_name in resources.values():
        for body in by_name.values():
            body.setdefault("provider", "aws.primary")
    return {"provider": {"aws": [{"alias": "primary", "region": region}]}, "resource": resources}


def service(architecture: str, *, tasks: int = 2, public_ip: bool = True) -> dict[str, dict[str, dict]]:
    return {
        "aws_ecs_cluster": {"Cluster": {"name": "c"}},
        "aws_ecs_task_definition": {
            "Task": {
                "cpu": "256",
                "memory": "512",
                "runtime_platform": {"cpu_architecture": architecture, "operating_system_family": "LINUX"},
            }
        },
        "aws_ecs_service": {
            "Service": {
                "cluster": "${aws_ecs_cluster.Cluster.arn}",
                "task_definition": "${aws_ecs_task_definition.Task.arn}",
                "desired_count": tasks,
                "launch_type": "FARGATE",
                "network_configuration": {"assign_public_ip": public_ip},
            }
        },
    }


def bill(stacks: dict, usage: Usage = NOTHING):
    return price_deployment(stacks, TABLE, idle=usage, load=usage)


def test_two_graviton_tasks_with_public_ips_in_oregon() -> None:
    result = bill({"app": stack("us-west-2", service("ARM64"))})
    vcpu = 2 * 0.25 * HOURS * 0.03238
    memory = 2 * 0.5 * HOURS * 0.00356
    addresses = 2 * HOURS * 0.005
    assert result.idle_total == pytest.approx(vcpu + memory + addresses)
    assert result.public_ipv4_addresses() == 2
    assert not result.unpriced


def test_graviton_costs_a_fifth_less_than_x86() -> None:
    arm = bill({"app": stack("eu-west-2", service("ARM64", public_ip=False))}).idle_total
    x86 = bill({"app": stack("eu-west-2", service("X86_64", public_ip=False))}).idle_total
    assert x86 == pytest.approx(2 * HOURS * (0.25 * 0.04656 + 0.5 * 0.00511))
    assert arm / x86 == pytest.approx(0.8, abs=0.01)


def test_private_tasks_hold_no_public_address() -> None:
    assert bill({"app": stack("us-west-2", service("ARM64", public_ip=False))}).public_ipv4_addresses() == 0


def test_an_internet_facing_load_balancer_pays_for_one_address_per_zone() -> None:
    lb = {"internal": False, "load_balancer_type": "application", "subnets": ["${a}", "${b}", "${c}"]}
    public = bill({"app": stack("eu-west-2", {"aws_lb": {"Lb": lb}})})
    internal = bill({"app": stack("eu-west-2", {"aws_lb": {"Lb": {**lb, "internal": True}}})})
    assert internal.idle_total == pytest.approx(HOURS * 0.0264)
    assert public.idle_total == pytest.approx(HOURS * 0.0264 + 3 * HOURS * 0.005)
    assert public.public_ipv4_addresses() == 3


def test_load_balancer_capacity_units_follow_the_busiest_dimension() -> None:
    lb = {"internal": True, "subnets": ["${a}", "${b}"]}
    busy = replace(NOTHING, gb_out=730.0, requests=0, open_pages=0)  # 1 GB an hour: one LCU all month
    result = price_deployment({"app": stack("us-west-2", {"aws_lb": {"Lb": lb}})}, TABLE, idle=NOTHING, load=busy)
    lcu = next(line for line in result.lines if line.key == "alb_lcu_hour")
    assert lcu.load == pytest.approx(HOURS * 0.008)
    egress = next(line for line in result.lines if line.key == "internet_out_gb")
    assert egress.load == pytest.approx((730 - 100) * 0.09)


def test_nat_gateways_and_their_addresses() -> None:
    resources = {
        "aws_eip": {"Nat0": {"domain": "vpc"}, "Nat1": {"domain": "vpc"}},
        "aws_nat_gateway": {"Gw0": {"allocation_id": "${aws_eip.Nat0.id}"}, "Gw1": {"allocation_id": "${aws_eip.Nat1.id}"}},
    }
    result = bill({"foundation": stack("us-east-1", resources)})
    assert result.idle_total == pytest.approx(2 * HOURS * 0.045 + 2 * HOURS * 0.005)
    assert result.public_ipv4_addresses() == 2


def test_multi_az_doubles_the_instance_and_its_storage() -> None:
    def database(multi_az: bool) -> dict:
        instance = {
            "engine": "postgres",
            "instance_class": "db.t4g.micro",
            "allocated_storage": 20,
            "storage_type": "gp3",
            "multi_az": multi_az,
            "manage_master_user_password": True,
        }
        return {"database": stack("eu-west-2", {"aws_db_instance": {"Db": instance}})}

    single = bill(database(False)).idle_total
    assert single == pytest.approx(HOURS * 0.018 + 20 * 0.133 + 0.40)
    assert bill(database(True)).idle_total == pytest.approx(2 * (HOURS * 0.018 + 20 * 0.133) + 0.40)


def test_the_accelerator_is_priced_globally_with_its_two_addresses() -> None:
    result = bill({"routing": stack("us-west-2", {"aws_globalaccelerator_accelerator": {"Ga": {"ip_address_type": "IPV4"}}})})
    assert {line.region for line in result.lines} == {"global"}
    assert result.idle_total == pytest.approx(HOURS * 0.025 + 2 * HOURS * 0.005)


def test_an_unknown_resource_type_is_named_not_free() -> None:
    result = bill({"app": stack("us-west-2", {"aws_instance": {"Bastion": {"instance_type": "t4g.nano"}}})})
    assert result.idle_total == 0
    assert [(u.address, u.reason) for u in result.unpriced] == [
        ("aws_instance.Bastion", "resource type aws_instance is not in the pricing")
    ]


def test_an_unknown_region_is_named_not_free() -> None:
    lb = {"internal": False, "subnets": ["${a}", "${b}"]}
    result = bill({"app": stack("ap-south-1", {"aws_lb": {"Lb": lb}})})
    reasons = [u.reason for u in result.unpriced]
    assert "ALB hours: no price 'alb_hour' for region 'ap-south-1'" in reasons
    # Prices that are the same everywhere (public IPv4) are still counted.
    assert result.public_ipv4_addresses() == 2


def test_an_instance_class_without_a_price_is_named() -> None:
    instance = {"engine": "postgres", "instance_class": "db.r7g.large", "allocated_storage": 20, "storage_type": "gp3"}
    result = bill({"database": stack("us-west-2", {"aws_db_instance": {"Db": instance}})})
    assert [u.reason for u in result.unpriced] == [
        "db.r7g.large single-AZ: no price 'rds_postgres_hour[db.r7g.large]' for region 'us-west-2'"
    ]


def test_log_storage_follows_the_retention_of_the_group_written_to() -> None:
    resources = {
        "aws_cloudwatch_log_group": {"Flow": {"retention_in_days": 60}},
        "aws_flow_log": {"Flow": {"traffic_type": "ALL", "log_destination": "${aws_cloudwatch_log_group.Flow.arn}"}},
    }
    month = replace(NOTHING, flow_log_gb_per_vpc=10.0)
    result = bill({"foundation": stack("us-west-2", resources)}, month)
    assert result.idle_total == pytest.approx(10 * 0.50 + 10 * 2 * 0.03)
