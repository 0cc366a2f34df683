"""Where moto 5.2.1 answered differently from AWS, the launcher answers as AWS does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def test_aws_managed_policies_are_loaded(client: Callable[..., Any]) -> None:
    arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    assert client("iam").get_policy(PolicyArn=arn)["Policy"]["Arn"] == arn


def test_each_side_of_a_cross_region_peering_has_its_own_tags(client: Callable[..., Any]) -> None:
    requester, accepter = client("ec2", "us-east-1"), client("ec2", "eu-central-1")
    vpc = requester.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    peer_vpc = accepter.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    peering = requester.create_vpc_peering_connection(
        VpcId=vpc,
        PeerVpcId=peer_vpc,
        PeerRegion="eu-central-1",
        TagSpecifications=[{"ResourceType": "vpc-peering-connection", "Tags": [{"Key": "Side", "Value": "Requester"}]}],
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    accepter.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
    accepter.create_tags(Resources=[peering], Tags=[{"Key": "Side", "Value": "Accepter"}])

    def tags(ec2: Any) -> list[dict[str, str]]:
        (connection,) = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering])["VpcPeeringConnections"]
        assert connection["Status"]["Code"] == "active"
        return connection["Tags"]

    assert tags(requester) == [{"Key": "Side", "Value": "Requester"}]
    assert tags(accepter) == [{"Key": "Side", "Value": "Accepter"}]


def test_db_parameters_report_their_source(client: Callable[..., Any]) -> None:
    rds = client("rds")
    rds.create_db_parameter_group(DBParameterGroupName="beats", DBParameterGroupFamily="postgres16", Description="beats")
    rds.modify_db_parameter_group(
        DBParameterGroupName="beats",
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}],
    )
    (parameter,) = rds.describe_db_parameters(DBParameterGroupName="beats")["Parameters"]
    assert (parameter["ParameterName"], parameter["Source"]) == ("rds.force_ssl", "user")
    assert rds.describe_db_parameters(DBParameterGroupName="beats", Source="user")["Parameters"] == [parameter]
    assert rds.describe_db_parameters(DBParameterGroupName="beats", Source="engine-default")["Parameters"] == []


def test_ecs_service_keeps_its_create_parameters(client: Callable[..., Any]) -> None:
    ecs, ec2, elbv2 = client("ecs"), client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    target_group = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0][
        "TargetGroupArn"
    ]
    ecs.create_cluster(clusterName="parameters")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "web:1", "memory": 512}])

    def described(service: str) -> dict[str, Any]:
        (found,) = ecs.describe_services(cluster="parameters", services=[service])["services"]
        return found

    ecs.create_service(cluster="parameters", serviceName="defaults", taskDefinition="web", desiredCount=1)
    defaults = described("defaults")
    assert defaults["availabilityZoneRebalancing"] == "ENABLED"
    assert defaults["enableECSManagedTags"] is False
    assert defaults["enableExecuteCommand"] is False
    assert defaults["healthCheckGracePeriodSeconds"] == 0

    ecs.create_service(
        cluster="parameters",
        serviceName="given",
        taskDefinition="web",
        desiredCount=1,
        loadBalancers=[{"targetGroupArn": target_group, "containerName": "web", "containerPort": 80}],
        availabilityZoneRebalancing="DISABLED",
        enableECSManagedTags=True,
        enableExecuteCommand=True,
        healthCheckGracePeriodSeconds=60,
    )
    given = described("given")
    assert given["availabilityZoneRebalancing"] == "DISABLED"
    assert given["enableECSManagedTags"] is True
    assert given["enableExecuteCommand"] is True
    assert given["healthCheckGracePeriodSeconds"] == 60

    ecs.update_service(
        cluster="parameters", service="given", availabilityZoneRebalancing="ENABLED", healthCheckGracePeriodSeconds=30
    )
    assert described("given")["availabilityZoneRebalancing"] == "ENABLED"
    assert described("given")["healthCheckGracePeriodSeconds"] == 30


def test_ecs_service_reaches_a_steady_state(client: Callable[..., Any]) -> None:
    """No containers run here: a service reports its desired tasks running, as a working one on AWS does."""
    ecs = client("ecs")
    ecs.create_cluster(clusterName="steady")
    ecs.register_task_definition(family="steady", containerDefinitions=[{"name": "web", "image": "web:1", "memory": 512}])
    ecs.create_service(cluster="steady", serviceName="web", taskDefinition="steady", desiredCount=2)
    # The SDK's own waiter: one deployment and runningCount == desiredCount, as wait_for_steady_state checks.
    ecs.get_waiter("services_stable").wait(cluster="steady", services=["web"], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    (service,) = ecs.describe_services(cluster="steady", services=["web"])["services"]
    assert (service["desiredCount"], service["runningCount"], service["pendingCount"]) == (2, 2, 0)
    (deployment,) = service["deployments"]
    assert (deployment["runningCount"], deployment["rolloutState"]) == (2, "COMPLETED")

    ecs.update_service(cluster="steady", service="web", desiredCount=3)
    ecs.get_waiter("services_stable").wait(cluster="steady", services=["web"], WaiterConfig={"Delay": 1, "MaxAttempts": 2})


def test_security_group_rule_keeps_its_description(client: Callable[..., Any]) -> None:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    tasks = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    balancer = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=vpc)["GroupId"]
    (created,) = ec2.authorize_security_group_ingress(
        GroupId=tasks,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 4000,
                "ToPort": 4000,
                "UserIdGroupPairs": [{"GroupId": balancer, "Description": "from the load balancer"}],
            }
        ],
    )["SecurityGroupRules"]
    assert created["Description"] == "from the load balancer"
    (described,) = ec2.describe_security_group_rules(SecurityGroupRuleIds=[created["SecurityGroupRuleId"]])["SecurityGroupRules"]
    assert described["Description"] == "from the load balancer"
    # Same account: the referenced group is its bare id (moto already did this right).
    assert described["ReferencedGroupInfo"]["GroupId"] == balancer


def test_policy_statement_applies_only_when_its_condition_holds(client: Callable[..., Any]) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="tls-only")
    s3.put_bucket_policy(
        Bucket="tls-only",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Sid": "DenyReads",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::tls-only/secret",
                    },
                ],
            }
        ),
    )
    s3.put_object(Bucket="tls-only", Key="state", Body=b"{}")
    assert s3.get_object(Bucket="tls-only", Key="state")["Body"].read() == b"{}"
    s3.put_object(Bucket="tls-only", Key="secret", Body=b"x")
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket="tls-only", Key="secret")
    assert error.value.response["Error"]["Code"] in ("403", "AccessDenied")
