"""Security group rules as one call each: one TCP port, to or from one range or one group."""

from __future__ import annotations

from typing import Literal

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct


def allow_tcp(
    scope: Construct,
    id: str,
    *,
    provider: AwsProvider,
    group: SecurityGroup,
    direction: Literal["in", "out"],
    port: int,
    description: str,
    cidr: str | None = None,
    peer: SecurityGroup | None = None,
) -> VpcSecurityGroupIngressRule | VpcSecurityGroupEgressRule:
    """Admit (``in``) or allow out (``out``) one TCP port, for exactly one CIDR or one peer group.

    One rule resource per port and peer (not inline rules) so that adding a
    peer never rewrites the group, and every rule carries its own description.
    """
    if (cidr is None) == (peer is None):
        raise ValueError(f"{id}: give exactly one of cidr and peer")
    rule = VpcSecurityGroupIngressRule if direction == "in" else VpcSecurityGroupEgressRule
    return rule(
        scope,
        id,
        provider=provider,
        security_group_id=group.id,
        description=description,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        cidr_ipv4=cidr,
        referenced_security_group_id=peer.id if peer is not None else None,
    )
