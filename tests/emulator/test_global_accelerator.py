"""Global Accelerator through the launcher, with boto3 over real HTTP.

Requests skip botocore's own parameter checks so the emulator's validation is
what answers, as AWS's would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

LISTENER = {"PortRanges": [{"FromPort": 80, "ToPort": 80}], "Protocol": "TCP"}


@pytest.fixture(scope="module")
def ga(emulator_url: str) -> Any:
    return ga_client(emulator_url, "us-west-2")


def ga_client(emulator_url: str, region: str) -> Any:
    return boto3.client(
        "globalaccelerator",
        region_name=region,
        endpoint_url=emulator_url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(parameter_validation=False),
    )


def make_load_balancer(client: Callable[..., Any], region: str, name: str) -> str:
    ec2 = client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"][:2]]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(zones)
    ]
    elbv2 = client("elbv2", region)
    return elbv2.create_load_balancer(Name=name, Subnets=subnets, Type="application")["LoadBalancers"][0]["LoadBalancerArn"]


@pytest.fixture(scope="module")
def load_balancers(client: Callable[..., Any]) -> dict[str, str]:
    return {region: make_load_balancer(client, region, f"lb-{region}") for region in ("us-east-1", "eu-west-1")}


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def create_accelerator(ga: Any, name: str = "beats", **extra: Any) -> dict[str, Any]:
    """A new accelerator each call: a fresh IdempotencyToken every time."""
    return ga.create_accelerator(Name=name, IdempotencyToken=str(uuid.uuid4()), **extra)["Accelerator"]


def create_listener(ga: Any, accelerator_arn: str, **overrides: Any) -> dict[str, Any]:
    params = {**LISTENER, "ClientAffinity": "SOURCE_IP", **overrides}
    return ga.create_listener(AcceleratorArn=accelerator_arn, IdempotencyToken="listener", **params)["Listener"]


def test_full_lifecycle(ga: Any, load_balancers: dict[str, str]) -> None:
    accelerator = create_accelerator(ga, "lifecycle", Tags=[{"Key": "app", "Value": "beats"}])
    arn = accelerator["AcceleratorArn"]
    assert arn.startswith("arn:aws:globalaccelerator::123456789012:accelerator/")
    assert accelerator["Status"] == "DEPLOYED"
    assert accelerator["Enabled"] is True
    assert accelerator["IpAddressType"] == "IPV4"
    assert accelerator["DnsName"].endswith(".awsglobalaccelerator.com")
    assert len(accelerator["IpSets"][0]["IpAddresses"]) == 2
    assert ga.describe_accelerator(AcceleratorArn=arn)["Accelerator"]["Name"] == "lifecycle"
    assert arn in [a["AcceleratorArn"] for a in ga.list_accelerators()["Accelerators"]]

    assert ga.describe_accelerator_attributes(AcceleratorArn=arn)["AcceleratorAttributes"] == {"FlowLogsEnabled": False}
    attributes = ga.update_accelerator_attributes(
        AcceleratorArn=arn, FlowLogsEnabled=True, FlowLogsS3Bucket="logs", FlowLogsS3Prefix="ga/"
    )["AcceleratorAttributes"]
    assert attributes == {"FlowLogsEnabled": True, "FlowLogsS3Bucket": "logs", "FlowLogsS3Prefix": "ga/"}
    assert ga.describe_accelerator_attributes(AcceleratorArn=arn)["AcceleratorAttributes"] == attributes

    listener = create_listener(ga, arn)
    listener_arn = listener["ListenerArn"]
    assert listener_arn.startswith(f"{arn}/listener/")
    assert listener["ClientAffinity"] == "SOURCE_IP"
    assert ga.describe_listener(ListenerArn=listener_arn)["Listener"] == listener
    assert ga.list_listeners(AcceleratorArn=arn)["Listeners"] == [listener]
    updated = ga.update_listener(
        ListenerArn=listener_arn, PortRanges=[{"FromPort": 80, "ToPort": 80}, {"FromPort": 443, "ToPort": 443}]
    )["Listener"]
    assert updated["PortRanges"] == [{"FromPort": 80, "ToPort": 80}, {"FromPort": 443, "ToPort": 443}]
    assert updated["Protocol"] == "TCP" and updated["ClientAffinity"] == "SOURCE_IP"

    group = ga.create_endpoint_group(
        ListenerArn=listener_arn,
        EndpointGroupRegion="us-east-1",
        EndpointConfigurations=[{"EndpointId": load_balancers["us-east-1"], "ClientIPPreservationEnabled": True}],
        HealthCheckProtocol="HTTP",
        HealthCheckPath="/signin",
        IdempotencyToken="group",
    )["EndpointGroup"]
    group_arn = group["EndpointGroupArn"]
    assert group_arn.startswith(f"{listener_arn}/endpoint-group/")
    assert group["EndpointDescriptions"] == [
        {
            "EndpointId": load_balancers["us-east-1"],
            "Weight": 128,
            "ClientIPPreservationEnabled": True,
            "HealthState": "INITIAL",
        }
    ]
    assert (group["HealthCheckPort"], group["HealthCheckPath"], group["HealthCheckIntervalSeconds"]) == (80, "/signin", 30)
    assert (group["ThresholdCount"], group["TrafficDialPercentage"]) == (3, 100.0)
    assert ga.describe_endpoint_group(EndpointGroupArn=group_arn)["EndpointGroup"] == group
    assert ga.list_endpoint_groups(ListenerArn=listener_arn)["EndpointGroups"] == [group]

    updated_group = ga.update_endpoint_group(
        EndpointGroupArn=group_arn, EndpointConfigurations=[], TrafficDialPercentage=50, ThresholdCount=5
    )["EndpointGroup"]
    assert updated_group["EndpointDescriptions"] == []
    assert (updated_group["TrafficDialPercentage"], updated_group["ThresholdCount"]) == (50.0, 5)
    assert updated_group["HealthCheckPath"] == "/signin"

    ga.tag_resource(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
    ga.untag_resource(ResourceArn=arn, TagKeys=["app"])
    assert ga.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "dev"}]

    ga.delete_endpoint_group(EndpointGroupArn=group_arn)
    ga.delete_listener(ListenerArn=listener_arn)
    disabled = ga.update_accelerator(AcceleratorArn=arn, Enabled=False)["Accelerator"]
    assert disabled["Enabled"] is False and disabled["Status"] == "DEPLOYED"
    ga.delete_accelerator(AcceleratorArn=arn)
    with pytest.raises(ClientError) as error:
        ga.describe_accelerator(AcceleratorArn=arn)
    assert error_code(error) == "AcceleratorNotFoundException"


def test_same_idempotency_token_returns_the_same_accelerator(ga: Any) -> None:
    first = ga.create_accelerator(Name="once", IdempotencyToken="same")["Accelerator"]
    again = ga.create_accelerator(Name="once", IdempotencyToken="same")["Accelerator"]
    assert first["AcceleratorArn"] == again["AcceleratorArn"]


def test_dual_stack_accelerator_has_ipv6_addresses_and_name(ga: Any) -> None:
    accelerator = create_accelerator(ga, "dual", IpAddressType="DUAL_STACK")
    assert [s["IpFamily"] for s in accelerator["IpSets"]] == ["IPv4", "IPv6"]
    assert accelerator["DualStackDnsName"].endswith(".dualstack.awsglobalaccelerator.com")


def test_list_accelerators_pages(ga: Any) -> None:
    for name in ("page-a", "page-b"):
        create_accelerator(ga, name)
    first = ga.list_accelerators(MaxResults=1)
    second = ga.list_accelerators(MaxResults=1, NextToken=first["NextToken"])
    assert first["Accelerators"][0]["AcceleratorArn"] != second["Accelerators"][0]["AcceleratorArn"]


@pytest.mark.parametrize(
    "params",
    [
        {"Name": "-starts-with-hyphen"},
        {"Name": "has space"},
        {"Name": "x" * 65},
        {"Name": "ok", "IpAddressType": "IPV6"},
        {"Name": "ok", "Enabled": "yes"},
        {"Name": "ok", "Tags": [{"Key": "", "Value": "v"}]},
        {"Name": "ok", "IpAddresses": ["1.2.3.4", "1.2.3.5", "1.2.3.6"]},
    ],
)
def test_create_accelerator_rejects_invalid_input(ga: Any, params: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as error:
        ga.create_accelerator(IdempotencyToken=str(uuid.uuid4()), **params)
    assert error_code(error) == "InvalidArgumentException"


def test_flow_logs_need_a_bucket(ga: Any) -> None:
    arn = create_accelerator(ga, "flowlogs")["AcceleratorArn"]
    with pytest.raises(ClientError) as error:
        ga.update_accelerator_attributes(AcceleratorArn=arn, FlowLogsEnabled=True)
    assert error_code(error) == "InvalidArgumentException"


def test_enabled_accelerator_cannot_be_deleted(ga: Any) -> None:
    arn = create_accelerator(ga, "enabled")["AcceleratorArn"]
    with pytest.raises(ClientError) as error:
        ga.delete_accelerator(AcceleratorArn=arn)
    assert error_code(error) == "AcceleratorNotDisabledException"


def test_accelerator_with_listener_cannot_be_deleted(ga: Any) -> None:
    arn = create_accelerator(ga, "withlistener", Enabled=False)["AcceleratorArn"]
    create_listener(ga, arn)
    with pytest.raises(ClientError) as error:
        ga.delete_accelerator(AcceleratorArn=arn)
    assert error_code(error) == "AssociatedListenerFoundException"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"PortRanges": [{"FromPort": 0, "ToPort": 80}]}, "InvalidPortRangeException"),
        ({"PortRanges": [{"FromPort": 80, "ToPort": 65536}]}, "InvalidPortRangeException"),
        ({"PortRanges": [{"FromPort": 90, "ToPort": 80}]}, "InvalidPortRangeException"),
        ({"PortRanges": []}, "InvalidArgumentException"),
        ({"Protocol": "HTTP"}, "InvalidArgumentException"),
        ({"ClientAffinity": "STICKY"}, "InvalidArgumentException"),
    ],
)
def test_create_listener_rejects_invalid_input(ga: Any, params: dict[str, Any], code: str) -> None:
    arn = create_accelerator(ga, "listenerchecks")["AcceleratorArn"]
    with pytest.raises(ClientError) as error:
        create_listener(ga, arn, **params)
    assert error_code(error) == code


def test_listener_ports_must_be_unique_per_protocol(ga: Any) -> None:
    arn = create_accelerator(ga, "overlap")["AcceleratorArn"]
    create_listener(ga, arn, PortRanges=[{"FromPort": 80, "ToPort": 90}])
    create_listener(ga, arn, PortRanges=[{"FromPort": 80, "ToPort": 90}], Protocol="UDP")
    with pytest.raises(ClientError) as error:
        create_listener(ga, arn, PortRanges=[{"FromPort": 85, "ToPort": 85}])
    assert error_code(error) == "InvalidPortRangeException"


def test_listener_with_endpoint_group_cannot_be_deleted(ga: Any, load_balancers: dict[str, str]) -> None:
    listener_arn = create_listener(ga, create_accelerator(ga, "busy")["AcceleratorArn"])["ListenerArn"]
    ga.create_endpoint_group(
        ListenerArn=listener_arn,
        EndpointGroupRegion="us-east-1",
        EndpointConfigurations=[{"EndpointId": load_balancers["us-east-1"]}],
        IdempotencyToken="busy",
    )
    with pytest.raises(ClientError) as error:
        ga.delete_listener(ListenerArn=listener_arn)
    assert error_code(error) == "AssociatedEndpointGroupFoundException"


def test_one_endpoint_group_per_region(ga: Any, load_balancers: dict[str, str]) -> None:
    listener_arn = create_listener(ga, create_accelerator(ga, "perregion")["AcceleratorArn"])["ListenerArn"]
    for region in ("us-east-1", "eu-west-1"):
        ga.create_endpoint_group(
            ListenerArn=listener_arn,
            EndpointGroupRegion=region,
            EndpointConfigurations=[{"EndpointId": load_balancers[region]}],
            IdempotencyToken=region,
        )
    with pytest.raises(ClientError) as error:
        ga.create_endpoint_group(ListenerArn=listener_arn, EndpointGroupRegion="us-east-1", IdempotencyToken="again")
    assert error_code(error) == "EndpointGroupAlreadyExistsException"
    assert len(ga.list_endpoint_groups(ListenerArn=listener_arn)["EndpointGroups"]) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"EndpointConfigurations": [{"EndpointId": "i-0123456789abcdef0"}]},
        {"EndpointConfigurations": [{"EndpointId": "MISSING"}]},
        {"EndpointConfigurations": [{"EndpointId": "OTHER_REGION"}]},
        {"EndpointConfigurations": [{"EndpointId": "LB", "Weight": 256}]},
        {"EndpointConfigurations": [{"EndpointId": "LB"}, {"EndpointId": "LB"}]},
        {"EndpointGroupRegion": "moon-east-1"},
        {"HealthCheckIntervalSeconds": 5},
        {"HealthCheckProtocol": "ICMP"},
        {"HealthCheckPath": "signin"},
        {"HealthCheckPort": 70000},
        {"ThresholdCount": 11},
        {"TrafficDialPercentage": 101},
        {"PortOverrides": [{"ListenerPort": 8080, "EndpointPort": 80}]},
    ],
)
def test_create_endpoint_group_rejects_invalid_input(ga: Any, load_balancers: dict[str, str], params: dict[str, Any]) -> None:
    listener_arn = create_listener(ga, create_accelerator(ga, "groupchecks")["AcceleratorArn"])["ListenerArn"]
    existing = load_balancers["us-east-1"]
    stand_ins = {
        "LB": existing,
        "MISSING": existing.rsplit("/", 2)[0] + "/missing/0123456789abcdef",
        "OTHER_REGION": load_balancers["eu-west-1"],
    }
    for configuration in params.get("EndpointConfigurations", []):
        configuration["EndpointId"] = stand_ins.get(configuration["EndpointId"], configuration["EndpointId"])
    with pytest.raises(ClientError) as error:
        ga.create_endpoint_group(
            **{"ListenerArn": listener_arn, "EndpointGroupRegion": "us-east-1", "IdempotencyToken": "g", **params}
        )
    assert error_code(error) == "InvalidArgumentException"


@pytest.mark.parametrize(
    ("call", "arn", "code"),
    [
        (
            "describe_accelerator",
            {"AcceleratorArn": "arn:aws:globalaccelerator::123456789012:accelerator/nope"},
            "AcceleratorNotFoundException",
        ),
        (
            "describe_listener",
            {"ListenerArn": "arn:aws:globalaccelerator::123456789012:accelerator/a/listener/nope"},
            "ListenerNotFoundException",
        ),
        (
            "describe_endpoint_group",
            {"EndpointGroupArn": "arn:aws:globalaccelerator::123456789012:accelerator/a/listener/b/endpoint-group/nope"},
            "EndpointGroupNotFoundException",
        ),
        (
            "list_tags_for_resource",
            {"ResourceArn": "arn:aws:globalaccelerator::123456789012:accelerator/nope"},
            "AcceleratorNotFoundException",
        ),
    ],
)
def test_unknown_resources_are_not_found(ga: Any, call: str, arn: dict[str, str], code: str) -> None:
    with pytest.raises(ClientError) as error:
        getattr(ga, call)(**arn)
    assert error_code(error) == code


def test_no_cross_account_resources(ga: Any) -> None:
    assert ga.list_cross_account_resources(ResourceOwnerAwsAccountId="123456789012")["CrossAccountResources"] == []


def test_api_is_served_in_us_west_2_only(emulator_url: str) -> None:
    with pytest.raises(ClientError) as error:
        ga_client(emulator_url, "us-east-1").list_accelerators()
    assert "us-west-2" in error.value.response["Error"]["Message"]


def test_operations_not_emulated_say_so(ga: Any) -> None:
    with pytest.raises(ClientError) as error:
        ga.list_custom_routing_accelerators()
    assert error_code(error) == "UnknownOperationException"
    assert "does not implement" in error.value.response["Error"]["Message"]
