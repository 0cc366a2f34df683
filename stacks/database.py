"""``database``: the one PostgreSQL instance, in the primary region."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.database import PostgresDatabase
from constructs_lib.network import RegionalNetwork
from stacks.base import RemoteStateStack


class DatabaseStack(RemoteStateStack):
    """One database for both regions: simpler and cheaper than replication, as in the original."""

    def __init__(
        self, scope: Construct, id: str, *, config: DeploymentConfig, network: RegionalNetwork, client_cidrs: Sequence[str]
    ) -> None:
        super().__init__(scope, id, config=config)
        self.database = PostgresDatabase(
            self, "Database", provider=self.primary_provider(), config=config, network=network, client_cidrs=client_cidrs
        )
        TerraformOutput(self, "database_endpoint", value=self.database.instance.endpoint)
        TerraformOutput(
            self,
            "database_credentials_secret_arn",
            value=self.database.credentials_secret_arn,
            description="Secret with the master username and password (JSON); the app reads it whenever it connects",
        )
