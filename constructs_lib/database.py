"""The one PostgreSQL database, in the primary region's isolated subnets."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.network import RegionalNetwork
from constructs_lib.security_rules import allow_tcp
from constructs_lib.policy_checks import skip_check

POSTGRES_PORT = 5432


class PostgresDatabase(Construct):
    """RDS PostgreSQL: private, encrypted, backed up, storage autoscaling, password managed by RDS.

    The master password is generated and rotated by RDS in Secrets Manager
    (``manage_master_user_password``), so it never passes through Terraform
    state. Only the app subnets of both regions may connect, on 5432.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        config: DeploymentConfig,
        network: RegionalNetwork,
        client_cidrs: Sequence[str],
        database_name: str = "livebeats",
    ) -> None:
        super().__init__(scope, id)
        name = f"{config.project_name}-db"
        self.database_name = database_name
        self.security_group = SecurityGroup(
            self,
            "SecurityGroup",
            provider=provider,
            name=name,
            description="PostgreSQL, reachable only from the app subnets of both regions",
            vpc_id=network.vpc.id,
            tags={"Name": name},
        )
        for index, cidr in enumerate(client_cidrs):
            allow_tcp(
                self,
                f"AppSubnetIngress{index}",
                provider=provider,
                group=self.security_group,
                direction="in",
                port=POSTGRES_PORT,
                description=f"PostgreSQL from app subnet {cidr}",
                cidr=cidr,
            )
        subnet_group = DbSubnetGroup(
            self,
            "SubnetGroup",
            provider=provider,
            name=name,
            description="Isolated subnets: no route to or from the internet",
            subnet_ids=[subnet.id for subnet in network.isolated_subnets],
        )
        parameters = DbParameterGroup(
            self,
            "Parameters",
            provider=provider,
            name=f"{name}-postgres{config.db_engine_version}",
            family=f"postgres{config.db_engine_version}",
            description="TLS only; slow statements logged",
            parameter=[
                DbParameterGroupParameter(name="rds.force_ssl", value="1"),
                DbParameterGroupParameter(name="log_min_duration_statement", value="1000"),
            ],
        )
        self.instance = DbInstance(
            self,
            "Instance",
            provider=provider,
            identifier=name,
            engine="postgres",
            engine_version=config.db_engine_version,
            auto_minor_version_upgrade=True,
            instance_class=config.db_instance_class,
            allocated_storage=config.db_allocated_storage,
            max_allocated_storage=config.db_max_allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=database_name,
            username="livebeats",
            manage_master_user_password=True,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnet_group.name,
            parameter_group_name=parameters.name,
            vpc_security_group_ids=[self.security_group.id],
            publicly_accessible=False,
            backup_retention_period=config.db_backup_retention_days,
            multi_az=config.db_multi_az,
            copy_tags_to_snapshot=True,
            deletion_protection=not config.throwaway,
            skip_final_snapshot=config.throwaway,
            final_snapshot_identifier=None if config.throwaway else f"{name}-final",
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            tags={"Name": name},
        )
        self._accepted_findings(config)

    def _accepted_findings(self, config: DeploymentConfig) -> None:
        """The policy-scan findings this database is accepted with, and why."""
        if not config.db_multi_az:
            skip_check(
                self.instance,
                "CKV_AWS_157",
                "Single zone by default, as the original, for cost: automated backups restore it elsewhere; "
                "DB_MULTI_AZ=true adds a standby with automatic failover",
            )
        if config.throwaway:
            skip_check(self.instance, "CKV_AWS_293", "THROWAWAY=true: a disposable environment is destroyed by design")
        skip_check(
            self.instance,
            "CKV_AWS_353",
            "Performance Insights is being retired in favour of CloudWatch Database Insights; queries slower "
            "than one second are logged (log_min_duration_statement) and exported to CloudWatch Logs",
        )
        skip_check(
            self.instance,
            "CKV_AWS_118",
            "Standard RDS metrics in CloudWatch cover this single small instance; enhanced (OS-level) "
            "monitoring needs a monitoring role and costs log ingestion, so it is the operator's choice",
        )

    @property
    def address(self) -> str:
        return self.instance.address

    @property
    def port(self) -> float:
        return self.instance.port

    @property
    def master_secret_arn(self) -> str:
        """ARN of the RDS-managed secret holding ``username`` and ``password``."""
        return self.instance.master_user_secret.get(0).secret_arn
