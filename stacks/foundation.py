"""``foundation``: a network in each region, peered across regions."""

from __future__ import annotations

from typing import TypedDict

from constructs import Construct

from config import DeploymentConfig
from constructs_lib.network import RegionalNetwork
from constructs_lib.peering import CrossRegionPeering
from stacks.base import RemoteStateStack


class NetworkSettings(TypedDict):
    """What both regions' networks share."""

    az_count: int
    nat_mode: str
    log_retention_days: int


class FoundationStack(RemoteStateStack):
    """The two VPCs and the peering between them; everything else is placed in these."""

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id, config=config)
        primary_provider = self.primary_provider()
        secondary_provider = self.secondary_provider()
        network_settings = NetworkSettings(
            az_count=config.az_count, nat_mode=config.nat_mode, log_retention_days=config.log_retention_days
        )
        self.primary = RegionalNetwork(
            self,
            "PrimaryNetwork",
            provider=primary_provider,
            name=f"{config.project_name}-primary",
            cidr=config.primary_vpc_cidr,
            **network_settings,
        )
        self.secondary = RegionalNetwork(
            self,
            "SecondaryNetwork",
            provider=secondary_provider,
            name=f"{config.project_name}-secondary",
            cidr=config.secondary_vpc_cidr,
            **network_settings,
        )
        self.peering = CrossRegionPeering(
            self,
            "Peering",
            name=f"{config.project_name}-peering",
            requester=self.primary,
            requester_provider=primary_provider,
            accepter=self.secondary,
            accepter_provider=secondary_provider,
            accepter_region=config.secondary_region,
        )

    @property
    def app_subnet_cidrs(self) -> list[str]:
        """Where app tasks run in either region: the only clients the database admits."""
        return [*self.primary.subnet_cidrs["app"], *self.secondary.subnet_cidrs["app"]]
