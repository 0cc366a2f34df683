"""``database``: the PostgreSQL instance in the primary region, and with DB_REPLICA its replica in the secondary."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.database import PostgresDatabase
from constructs_lib.database_replica import CrossRegionReplica
from constructs_lib.network import RegionalNetwork
from stacks.base import RemoteStateStack


class DatabaseStack(RemoteStateStack):
    """One writer for both regions, as in the original; DB_REPLICA adds a cross-region replica to fail over to."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        network: RegionalNetwork,
        secondary_network: RegionalNetwork,
        client_cidrs: Sequence[str],
    ) -> None:
        super().__init__(scope, id, config=config)
        self.database = PostgresDatabase(
            self,
            "Database",
            provider=self.primary_provider(),
            region=config.primary_region,
            project_name=config.project_name,
            network=network,
            client_cidrs=client_cidrs,
            engine_version=config.db_engine_version,
            instance_class=config.db_instance_class,
            allocated_storage=config.db_allocated_storage,
            max_allocated_storage=config.db_max_allocated_storage,
            backup_retention_days=config.db_backup_retention_days,
            multi_az=config.db_multi_az,
            log_retention_days=config.log_retention_days,
            deletion_protection=not config.throwaway,
            final_snapshot=not config.throwaway,
            secret_recovery_window_days=config.secret_recovery_window_days,
            replica_regions=(config.secondary_region,) if config.db_replica else (),
        )
        TerraformOutput(self, "database_endpoint", value=self.database.instance.endpoint)
        TerraformOutput(
            self,
            "database_credentials_secret_arn",
            value=self.database.credentials_secret_arn,
            description="Secret with the master username and password (JSON); the app reads it whenever it connects",
        )
        self.replica: CrossRegionReplica | None = None
        if config.db_replica:
            self.replica = CrossRegionReplica(
                self,
                "Replica",
                provider=self.secondary_provider(),
                source=self.database,
                network=secondary_network,
                client_cidrs=client_cidrs,
                project_name=config.project_name,
                engine_version=config.db_engine_version,
                instance_class=config.db_instance_class,
                max_allocated_storage=config.db_max_allocated_storage,
                log_retention_days=config.log_retention_days,
                deletion_protection=not config.throwaway,
            )
            TerraformOutput(
                self,
                "database_replica_endpoint",
                value=self.replica.instance.endpoint,
                description="Read replica in the secondary region; `make failover` promotes it",
            )
