"""Cross-region VPC peering: requester in one region, accepter in the other, routes both ways."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.vpc_peering_connection import VpcPeeringConnection
from cdktf_cdktf_provider_aws.vpc_peering_connection_accepter import VpcPeeringConnectionAccepterA
from cdktf_cdktf_provider_aws.vpc_peering_connection_options import (
    VpcPeeringConnectionOptions,
    VpcPeeringConnectionOptionsAccepter,
    VpcPeeringConnectionOptionsRequester,
)
from constructs import Construct

from constructs_lib.network import RegionalNetwork


class CrossRegionPeering(Construct):
    """Peers two regional networks so app tasks in either region reach the database.

    Every route table of both VPCs gets a route to the peer's CIDR, and each side
    resolves the other's private DNS names (the RDS endpoint resolves to its
    private address from the secondary region).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        requester: RegionalNetwork,
        requester_provider: AwsProvider,
        accepter: RegionalNetwork,
        accepter_provider: AwsProvider,
        accepter_region: str,
    ) -> None:
        super().__init__(scope, id)
        self.connection = VpcPeeringConnection(
            self,
            "Connection",
            provider=requester_provider,
            vpc_id=requester.vpc.id,
            peer_vpc_id=accepter.vpc.id,
            peer_region=accepter_region,
            auto_accept=False,
            tags={"Name": name, "Side": "requester"},
        )
        accepted = VpcPeeringConnectionAccepterA(
            self,
            "Accepter",
            provider=accepter_provider,
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={"Name": name, "Side": "accepter"},
        )
        # DNS options can only be set once the connection is active, hence the accepter's id.
        VpcPeeringConnectionOptions(
            self,
            "RequesterDns",
            provider=requester_provider,
            vpc_peering_connection_id=accepted.id,
            requester=VpcPeeringConnectionOptionsRequester(allow_remote_vpc_dns_resolution=True),
        )
        VpcPeeringConnectionOptions(
            self,
            "AccepterDns",
            provider=accepter_provider,
            vpc_peering_connection_id=accepted.id,
            accepter=VpcPeeringConnectionOptionsAccepter(allow_remote_vpc_dns_resolution=True),
        )
        for side, network, peer, provider in (
            ("Requester", requester, accepter, requester_provider),
            ("Accepter", accepter, requester, accepter_provider),
        ):
            for index, table in enumerate(network.route_tables):
                Route(
                    self,
                    f"{side}Route{index}",
                    provider=provider,
                    route_table_id=table.id,
                    destination_cidr_block=peer.cidr,
                    vpc_peering_connection_id=accepted.id,
                )
