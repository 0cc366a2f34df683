"""Narrow fixes to moto 5.2.1 where it answers differently from AWS.

Each one broke the deployment of our stacks on the emulator: a request AWS
would serve was refused, or a second ``terraform plan`` showed changes AWS would
not. They patch moto's models or responses at start-up, before any request;
each docstring says what AWS does and where that is documented.
"""

from __future__ import annotations

import json
from typing import Any

from botocore import xform_name
from moto.core.responses import ActionResult
from moto.ec2.models.security_groups import SecurityGroupRule
from moto.ec2.responses.vpc_peering_connections import VPCPeeringConnections
from moto.ecs.models import Service
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.rds.models import RDSBackend, rds_backends
from moto.rds.responses import RDSResponse
from moto.s3.models import FakeBucket


def describe_vpc_peering_connections(self: VPCPeeringConnections) -> ActionResult:
    """DescribeVpcPeeringConnections returns the tags of the side asked.

    "When a cross-account or an inter-region VPC Peering Connection is
    created, a VPC Peering Connection resource is automatically created in the
    accepter's account" (and Region): each side is its own EC2 resource with its
    own tags, set by CreateTags in that Region and returned by
    DescribeVpcPeeringConnections in that Region.
    https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/vpc_peering_connection_accepter
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcPeeringConnections.html
    moto shares one object between the Regions and always answered with the
    requester's tags, though it stored the accepter's in the accepter's Region.
    """
    ids = self._get_param("VpcPeeringConnectionIds", [])
    connections = self.ec2_backend.describe_vpc_peering_connections(vpc_peering_ids=ids)
    return ActionResult(
        {
            "VpcPeeringConnections": [
                {
                    "VpcPeeringConnectionId": connection.id,
                    "Status": connection.status,
                    "RequesterVpcInfo": connection.requester_vpc_info,
                    "AccepterVpcInfo": connection.accepter_vpc_info,
                    "Tags": [
                        {"Key": tag["key"], "Value": tag["value"]}
                        for tag in self.ec2_backend.describe_tags(filters={"resource-id": [connection.id]})
                    ],
                }
                for connection in connections
            ]
        }
    )


def describe_db_parameters(self: RDSResponse, original: Any) -> ActionResult:
    """DescribeDBParameters reports each parameter's ``Source``.

    ``Source`` is ``user`` for a value set with Create/ModifyDBParameterGroup,
    else ``system`` or ``engine-default``; the request's ``Source`` filters by it.
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Parameter.html
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameters.html
    moto keeps only the parameters a user set, and returned them without a source.
    """
    parameters = original(self).result["Parameters"]
    if self.params.get("Source") not in (None, "user"):
        parameters = []
    return ActionResult({"Parameters": [{**parameter, "Source": "user"} for parameter in parameters]})


# CreateService parameters moto drops, with the value ECS uses when one is not given.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
ECS_SERVICE_DEFAULTS = {
    # "when no value is specified for AvailabilityZoneRebalancing, Amazon ECS
    # defaults the value to ENABLED"
    "availabilityZoneRebalancing": "ENABLED",
    "enableECSManagedTags": False,
    "enableExecuteCommand": False,
    # "If you don't specify a health check grace period value, the default value of 0 is used."
    "healthCheckGracePeriodSeconds": 0,
}


def create_service(self: EC2ContainerServiceResponse, original: Any) -> ActionResult:
    """CreateService keeps the parameters in ``ECS_SERVICE_DEFAULTS``.

    DescribeServices returns them as the ``Service`` shape describes:
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html
    moto dropped them on create (it stores every UpdateService parameter under
    the same attribute names), so a re-plan wanted to set them again.
    """
    result = original(self)
    service = result.result["service"]
    for parameter, default in ECS_SERVICE_DEFAULTS.items():
        value = self._get_param(parameter)
        setattr(service, xform_name(parameter), default if value is None else value)
    return result


def service_runs_its_desired_tasks(self: Service, original: Any, *args: Any, **kwargs: Any) -> None:
    """A new ECS service reports its desired tasks running, its deployment completed.

    The emulator runs no containers, so it stands in for a working image: on AWS
    such a service reaches a steady state, one deployment with ``runningCount``
    equal to ``desiredCount`` and ``rolloutState`` ``COMPLETED``
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html),
    which is what the provider's ``wait_for_steady_state`` and ``aws ecs wait
    services-stable`` wait for. moto started every service with no task running
    (or ``MOTO_ECS_SERVICE_RUNNING`` of them), so such a deploy waited until it
    timed out. (moto already sets the running count to a new desired count on
    UpdateService.)
    """
    original(self, *args, **kwargs)
    self.running_count, self.pending_count = self.desired_count, 0
    for deployment in self.deployments:
        deployment.update(
            runningCount=self.desired_count,
            pendingCount=0,
            rolloutState="COMPLETED",
            rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
        )


def security_group_rule_description(self: SecurityGroupRule) -> str | None:
    """A security group rule's ``Description``, whatever the rule refers to.

    The description of a rule that references a security group travels in
    ``UserIdGroupPair.Description`` and is returned as the rule's
    ``SecurityGroupRule.Description``.
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_UserIdGroupPair.html
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRule.html
    moto returned it only for CIDR rules.
    """
    return self.ip_range.get("Description") or self.source_group.get("Description")


def bucket_permission(self: FakeBucket, original: Any, action: str, resource: str) -> PermissionResult:
    """A bucket policy statement applies only when its Condition holds.

    "If the key that you specify in a policy condition is not present in the
    request context, the values do not match", except with ``...IfExists``
    operators and ``Null``.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    moto passes no request context to bucket policies and skips the operators
    it cannot evaluate (all but StringEquals), so a conditional statement applied
    unconditionally: the state bucket's "Deny s3:* when aws:SecureTransport is
    false" refused every request (403). Statements are now kept only if their
    condition holds for a request context without those keys.
    """
    if self.policy is None:
        return original(self, action, resource)
    policy = json.loads(self.policy)
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    applicable = [s for s in statements if condition_holds_without_context(s.get("Condition", {}))]
    return IAMPolicy(json.dumps({**policy, "Statement": applicable})).is_action_permitted(action, resource)


def condition_holds_without_context(condition: dict[str, dict[str, Any]]) -> bool:
    """Whether a Condition block holds when none of its keys is in the request."""
    for operator, keys in condition.items():
        for expected in keys.values():
            holds = str(expected).lower() == "true" if operator == "Null" else operator.endswith("IfExists")
            if not holds:
                return False
    return True


def promote_read_replica(self: RDSBackend, original: Any, db_kwargs: dict[str, Any]) -> Any:
    """A promoted replica is standalone: DescribeDBInstances shows no ReadReplicaSourceDBInstanceIdentifier,
    and the source no longer lists it among its ReadReplicaDBInstanceIdentifiers (RDS User Guide, "Promoting a
    read replica to be a standalone DB instance"). moto 5.2.1 keeps both, so a promotion could never be seen."""
    database = original(self, db_kwargs)
    source_id = database.source_db_instance_identifier
    if source_id:
        for backend in rds_backends[self.account_id].values():
            for source in backend.databases.values():
                if source_id in (source.db_instance_identifier, source.db_instance_arn):
                    source.replicas = [
                        r for r in source.replicas if r not in (database.db_instance_identifier, database.db_instance_arn)
                    ]
        database.source_db_instance_identifier = None
    return database


def wrap(cls: type, name: str, replacement: Any) -> None:
    """Replace the method ``cls.name`` by one calling ``replacement(self, original, ...)``."""
    original = getattr(cls, name)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return replacement(self, original, *args, **kwargs)

    method.__doc__ = replacement.__doc__
    setattr(cls, name, method)


def install() -> None:
    """Apply every fix; once, before the server answers its first request."""
    VPCPeeringConnections.describe_vpc_peering_connections = describe_vpc_peering_connections
    wrap(RDSResponse, "describe_db_parameters", describe_db_parameters)
    wrap(RDSBackend, "promote_read_replica", promote_read_replica)
    wrap(EC2ContainerServiceResponse, "create_service", create_service)
    wrap(Service, "__init__", service_runs_its_desired_tasks)
    wrap(FakeBucket, "get_permission", bucket_permission)
    SecurityGroupRule.description = property(security_group_rule_description)
