"""One region's network: a VPC with public, app and isolated subnets across zones."""

from __future__ import annotations

import ipaddress

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_availability_zones import DataAwsAvailabilityZones, DataAwsAvailabilityZonesFilter
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Construct

from constructs_lib.iam import service_role
from constructs_lib.logs import retained_log_group
from constructs_lib.policy_checks import skip_check

ANYWHERE = "0.0.0.0/0"
TIERS = ("public", "app", "isolated")

# Only a Region's own Availability Zones: no Local Zones or Wavelength Zones, which
# an account may have opted in to and which sort among them (``us-west-2-lax-1a``
# before ``us-west-2a``). Load balancers, NAT gateways, RDS subnet groups and
# Global Accelerator endpoints need real Availability Zones. The provider's
# documented recipe is ``opt-in-status = opt-in-not-required`` ("Only Availability
# Zones (no Local Zones)", registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/data-sources/availability_zones);
# ``zone-type = availability-zone`` says the same directly (DescribeAvailabilityZones
# filters, docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html)
# and is the one of the two the emulator evaluates (moto ignores opt-in-status).
ZONE_FILTERS = {"zone-type": ["availability-zone"], "opt-in-status": ["opt-in-not-required"]}


def carve_subnets(vpc_cidr: str, az_count: int) -> dict[str, list[str]]:
    """Split the VPC into equal quarters (public, app, isolated, spare), each into four zone slots.

    Fixed slots keep every subnet's range stable when AZ_COUNT grows, so adding
    a zone never renumbers (and so replaces) an existing subnet.
    """
    quarters = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=2))
    return {
        tier: [str(net) for net in list(quarter.subnets(prefixlen_diff=2))[:az_count]]
        for tier, quarter in zip(TIERS, quarters, strict=False)  # the fourth quarter stays free
    }


class RegionalNetwork(Construct):
    """VPC, subnets in every zone, internet gateway, route tables, optional NAT, flow logs.

    NAT modes: ``none`` routes the app subnets straight to the internet gateway
    (tasks get public IPs and are shielded by their security group, as the
    original did); ``single`` and ``per_az`` keep tasks private behind NAT.
    The isolated subnets (the database) have no route out at all.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        name: str,
        cidr: str,
        az_count: int,
        nat_mode: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, id)
        self.cidr = cidr
        self.nat_mode = nat_mode
        self.subnet_cidrs = carve_subnets(cidr, az_count)

        self.vpc = Vpc(
            self,
            "Vpc",
            provider=provider,
            cidr_block=cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
        )
        # Closing the default group means nothing is reachable by accident.
        DefaultSecurityGroup(
            self, "DefaultSecurityGroup", provider=provider, vpc_id=self.vpc.id, tags={"Name": f"{name}-default-closed"}
        )
        zones = self._zones(provider)
        gateway = InternetGateway(self, "InternetGateway", provider=provider, vpc_id=self.vpc.id, tags={"Name": name})

        subnets: dict[str, list[Subnet]] = {}
        for tier in TIERS:
            subnets[tier] = [
                Subnet(
                    self,
                    f"{tier.capitalize()}Subnet{index}",
                    provider=provider,
                    vpc_id=self.vpc.id,
                    cidr_block=subnet_cidr,
                    availability_zone=Fn.element(zones.names, index),
                    tags={"Name": f"{name}-{tier}-{index}", "Tier": tier},
                    # A subnet stays in the zone it was created in (see _zones).
                    lifecycle=TerraformResourceLifecycle(ignore_changes=["availability_zone"]),
                )
                for index, subnet_cidr in enumerate(self.subnet_cidrs[tier])
            ]
        self.public_subnets = subnets["public"]
        self.app_subnets = subnets["app"]
        self.isolated_subnets = subnets["isolated"]

        public_table = RouteTable(
            self, "PublicRouteTable", provider=provider, vpc_id=self.vpc.id, tags={"Name": f"{name}-public"}
        )
        Route(
            self,
            "PublicInternetRoute",
            provider=provider,
            route_table_id=public_table.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=gateway.id,
        )
        isolated_table = RouteTable(
            self, "IsolatedRouteTable", provider=provider, vpc_id=self.vpc.id, tags={"Name": f"{name}-isolated"}
        )
        app_tables = [
            RouteTable(self, f"AppRouteTable{index}", provider=provider, vpc_id=self.vpc.id, tags={"Name": f"{name}-app-{index}"})
            for index in range(az_count)
        ]
        nat_gateways = self._nat_gateways(provider, name, az_count, gateway)
        for index, table in enumerate(app_tables):
            if nat_gateways:
                nat = nat_gateways[index % len(nat_gateways)]
                Route(
                    self,
                    f"AppEgressRoute{index}",
                    provider=provider,
                    route_table_id=table.id,
                    destination_cidr_block=ANYWHERE,
                    nat_gateway_id=nat.id,
                )
            else:
                Route(
                    self,
                    f"AppEgressRoute{index}",
                    provider=provider,
                    route_table_id=table.id,
                    destination_cidr_block=ANYWHERE,
                    gateway_id=gateway.id,
                )

        for tier, tables in (
            ("public", [public_table] * az_count),
            ("app", app_tables),
            ("isolated", [isolated_table] * az_count),
        ):
            for index, (subnet, table) in enumerate(zip(subnets[tier], tables, strict=True)):
                RouteTableAssociation(
                    self,
                    f"{tier.capitalize()}Association{index}",
                    provider=provider,
                    subnet_id=subnet.id,
                    route_table_id=table.id,
                )
        self.route_tables = [public_table, *app_tables, isolated_table]

        self._flow_logs(provider, name, log_retention_days)

    def _zones(self, provider: AwsProvider) -> DataAwsAvailabilityZones:
        """The Region's Availability Zones, in a list that a zone's health does not reorder.

        Subnet ``index`` goes into ``names[index]``. Filtering on ``state =
        available`` (as before) would drop a zone while it is ``impaired`` or
        ``unavailable``, shift every later index and so move, that is replace,
        every subnet after it. Without a state filter the list is the Region's
        zones open to the account, whatever their health; the provider sorts
        the names, and a zone AWS adds to a Region takes the next letter, so it
        lands at the end. And a subnet ignores later changes of its zone: should
        the list still change (AWS retires a zone, the account gains one that
        sorts earlier), an existing subnet is never moved; only subnets created
        afterwards follow the new list. Pinning zone names in the configuration
        would also hold them, at the cost of two more settings that must name
        zones of the account's Regions.
        """
        zones = DataAwsAvailabilityZones(
            self,
            "Zones",
            provider=provider,
            filter=[DataAwsAvailabilityZonesFilter(name=name, values=values) for name, values in ZONE_FILTERS.items()],
        )
        skip_check(
            zones,
            "CKV_AWS_394",
            "Subnets take the first AZ_COUNT Availability Zones of the region by index; pinning zone names would "
            "tie the stack to one region and account, and a zone AWS adds later is not used until AZ_COUNT grows",
        )
        return zones

    @property
    def tasks_need_public_ip(self) -> bool:
        """Without NAT the app subnets reach ECR and Secrets Manager only through public IPs."""
        return self.nat_mode == "none"

    def _nat_gateways(self, provider: AwsProvider, name: str, az_count: int, gateway: InternetGateway) -> list[NatGateway]:
        """NAT gateways (and their addresses) wait for the internet gateway.

        Neither references the internet gateway, so without ``depends_on``
        Terraform may create them first; the provider's ``aws_nat_gateway`` docs:
        "To ensure proper ordering, it is recommended to add an explicit
        dependency on the Internet Gateway for the VPC", and ``aws_eip``'s: an
        EIP "may require IGW to exist prior to association. Use depends_on to
        set an explicit dependency on the IGW." The emulator does not enforce it.
        """
        count = {"none": 0, "single": 1, "per_az": az_count}[self.nat_mode]
        gateways = []
        for index in range(count):
            address = Eip(
                self,
                f"NatAddress{index}",
                provider=provider,
                domain="vpc",
                tags={"Name": f"{name}-nat-{index}"},
                depends_on=[gateway],
            )
            gateways.append(
                NatGateway(
                    self,
                    f"NatGateway{index}",
                    provider=provider,
                    allocation_id=address.id,
                    subnet_id=self.public_subnets[index].id,
                    tags={"Name": f"{name}-nat-{index}"},
                    depends_on=[gateway],
                )
            )
        return gateways

    def _flow_logs(self, provider: AwsProvider, name: str, retention_days: int) -> None:
        log_group = retained_log_group(
            self, "FlowLogGroup", provider=provider, name=f"/vpc/{name}/flow-logs", retention_days=retention_days
        )
        role = service_role(
            self,
            "FlowLogRole",
            provider=provider,
            name=f"{name}-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            statements=[
                {
                    "actions": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "resources": [log_group.arn, f"{log_group.arn}:*"],
                }
            ],
        )
        FlowLog(
            self,
            "FlowLog",
            provider=provider,
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.role.arn,
            tags={"Name": name},
            depends_on=[role.policy] if role.policy is not None else [],  # never None: the role is allowed its statements
        )
