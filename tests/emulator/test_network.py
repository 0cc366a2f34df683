"""EC2 rules AWS enforces (emulator.network, emulator.client_ip_interfaces)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.conftest import GA_INTERFACE_LINGER_SECONDS

REGION = "eu-west-1"
GA_INTERFACES = [{"Name": "interface-type", "Values": ["global_accelerator_managed"]}]


def make_subnets(ec2: Any, count: int) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=zones[i % len(zones)])["Subnet"]["SubnetId"]
        for i in range(count)
    ]
    return vpc, subnets


def test_a_nat_gateway_without_an_internet_gateway_fails(client: Callable[..., Any]) -> None:
    ec2 = client("ec2", REGION)
    vpc, (subnet,) = make_subnets(ec2, 1)
    gateway = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])

    described = ec2.describe_nat_gateways(NatGatewayIds=[gateway["NatGateway"]["NatGatewayId"]])["NatGateways"][0]
    assert described["State"] == "failed"
    assert described["FailureCode"] == "Gateway.NotAttached"
    assert described["FailureMessage"] == f"Network {vpc} has no Internet gateway attached"


def test_a_nat_gateway_after_the_internet_gateway_is_available(client: Callable[..., Any]) -> None:
    ec2 = client("ec2", REGION)
    vpc, (subnet,) = make_subnets(ec2, 1)
    gateway_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway_id, VpcId=vpc)

    gateway = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])

    assert gateway["NatGateway"]["State"] == "available"


def add_endpoint_group(client: Callable[..., Any], load_balancer: str, *, preserve_client_ip: bool) -> str:
    ga = client("globalaccelerator", "us-west-2")
    accelerator = ga.create_accelerator(Name="interfaces", IdempotencyToken=str(uuid.uuid4()))["Accelerator"]
    listener = ga.create_listener(
        AcceleratorArn=accelerator["AcceleratorArn"],
        IdempotencyToken=str(uuid.uuid4()),
        Protocol="TCP",
        PortRanges=[{"FromPort": 80, "ToPort": 80}],
    )["Listener"]
    return ga.create_endpoint_group(
        ListenerArn=listener["ListenerArn"],
        EndpointGroupRegion=REGION,
        IdempotencyToken=str(uuid.uuid4()),
        EndpointConfigurations=[{"EndpointId": load_balancer, "ClientIPPreservationEnabled": preserve_client_ip}],
    )["EndpointGroup"]["EndpointGroupArn"]


def interfaces_in(ec2: Any, subnets: list[str]) -> list[dict[str, Any]]:
    return [i for i in ec2.describe_network_interfaces(Filters=GA_INTERFACES)["NetworkInterfaces"] if i["SubnetId"] in subnets]


def test_global_accelerator_interfaces_block_subnet_deletion_until_they_go(client: Callable[..., Any]) -> None:
    """hashicorp/terraform-provider-aws#11476: DependencyViolation right after the endpoint group is gone."""
    ec2 = client("ec2", REGION)
    _, subnets = make_subnets(ec2, 2)
    load_balancer = client("elbv2", REGION).create_load_balancer(
        Name=f"lb-{uuid.uuid4().hex[:8]}", Subnets=subnets, Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [add_endpoint_group(client, load_balancer, preserve_client_ip=True) for _ in range(2)]

    interfaces = interfaces_in(ec2, subnets)
    assert sorted(i["SubnetId"] for i in interfaces) == sorted(subnets), "one interface per subnet, shared"
    assert all(i["RequesterManaged"] and i["InterfaceType"] == "global_accelerator_managed" for i in interfaces)

    ga = client("globalaccelerator", "us-west-2")
    for group in groups:
        ga.delete_endpoint_group(EndpointGroupArn=group)
    with pytest.raises(ClientError) as error:
        ec2.delete_subnet(SubnetId=subnets[0])
    assert error.value.response["Error"]["Code"] == "DependencyViolation"

    deadline = time.monotonic() + GA_INTERFACE_LINGER_SECONDS + 30
    while interfaces_in(ec2, subnets) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert interfaces_in(ec2, subnets) == []
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)


def test_no_interfaces_without_client_ip_preservation(client: Callable[..., Any]) -> None:
    ec2 = client("ec2", REGION)
    _, subnets = make_subnets(ec2, 2)
    load_balancer = client("elbv2", REGION).create_load_balancer(
        Name=f"lb-{uuid.uuid4().hex[:8]}", Subnets=subnets, Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]

    add_endpoint_group(client, load_balancer, preserve_client_ip=False)

    assert interfaces_in(ec2, subnets) == []
    ec2.delete_subnet(SubnetId=subnets[0])
