"""The one PostgreSQL database, in the primary region's isolated subnets."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from constructs_lib.logs import retained_log_group
from constructs_lib.network import RegionalNetwork
from constructs_lib.policy_checks import skip_check
from constructs_lib.ports import POSTGRES_PORT
from constructs_lib.security_rules import allow_tcp
from constructs_lib.write_once_secret import ephemeral_password, replica_arn, write_once_secret

MASTER_USERNAME = "livebeats"
EXPORTED_LOGS = ("postgresql", "upgrade")


def database_parameters(scope: Construct, id: str, *, provider: AwsProvider, name: str, engine_version: str) -> DbParameterGroup:
    """The parameter group of the database and of its replica: TLS only, slow statements logged."""
    # A new major version needs a parameter group of the new family while the
    # instance still uses the old one: create the new group first (a unique
    # name per version), switch the instance, then delete the old group.
    return DbParameterGroup(
        scope,
        id,
        provider=provider,
        name_prefix=f"{name}-postgres{engine_version}-",
        family=f"postgres{engine_version}",
        description="TLS only; slow statements logged",
        parameter=[
            DbParameterGroupParameter(name="rds.force_ssl", value="1"),
            DbParameterGroupParameter(name="log_min_duration_statement", value="1000"),
        ],
        lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
    )


def postgres_security_group(
    scope: Construct,
    *,
    provider: AwsProvider,
    name: str,
    description: str,
    network: RegionalNetwork,
    client_cidrs: Sequence[str],
) -> SecurityGroup:
    """A database's security group (``SecurityGroup`` in ``scope``): 5432 from ``client_cidrs`` only."""
    group = SecurityGroup(
        scope, "SecurityGroup", provider=provider, name=name, description=description, vpc_id=network.vpc.id, tags={"Name": name}
    )
    for index, cidr in enumerate(client_cidrs):
        allow_tcp(
            scope,
            f"AppSubnetIngress{index}",
            provider=provider,
            group=group,
            direction="in",
            port=POSTGRES_PORT,
            description=f"PostgreSQL from app subnet {cidr}",
            cidr=cidr,
        )
    return group


def isolated_subnet_group(
    scope: Construct, *, provider: AwsProvider, name: str, description: str, network: RegionalNetwork
) -> DbSubnetGroup:
    """A database's subnet group (``SubnetGroup`` in ``scope``): the region's isolated subnets, no internet route."""
    return DbSubnetGroup(
        scope,
        "SubnetGroup",
        provider=provider,
        name=name,
        description=description,
        subnet_ids=[subnet.id for subnet in network.isolated_subnets],
    )


class PostgresDatabase(Construct):
    """RDS PostgreSQL: private, encrypted, backed up, storage autoscaling, TLS only.

    The deployment owns the master password: an ephemeral random password goes
    to the write-only ``password_wo`` and, in the same apply, into a write-once
    credentials secret (JSON ``username``/``password``), so it is in no plan or
    state. Not ``manage_master_user_password``: RDS cannot create a read replica
    of an instance whose master password it manages (RDS User Guide, "Password
    management with Amazon RDS and AWS Secrets Manager", limitations), which a
    cross-region replica needs. The app reads the
    secret whenever it opens a connection, so an operator's rotation
    (``ALTER USER`` or ``modify-db-instance``, then ``put-secret-value``) needs no
    restart. Only the app subnets of both regions may connect, on 5432.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        region: str,
        project_name: str,
        network: RegionalNetwork,
        client_cidrs: Sequence[str],
        engine_version: str,
        instance_class: str,
        allocated_storage: int,
        max_allocated_storage: int,
        backup_retention_days: int,
        multi_az: bool,
        log_retention_days: int,
        deletion_protection: bool,
        final_snapshot: bool,
        secret_recovery_window_days: int,
        replica_regions: Sequence[str] = (),
        database_name: str = "livebeats",
    ) -> None:
        """region: the provider's; replica_regions: where the credentials secret is replicated (DB_REPLICA's secondary)."""
        super().__init__(scope, id)
        name = f"{project_name}-db"
        self.database_name = database_name
        self._region = region
        self._replica_regions = tuple(replica_regions)
        self.security_group = postgres_security_group(
            self,
            provider=provider,
            name=name,
            description="PostgreSQL, reachable only from the app subnets of both regions",
            network=network,
            client_cidrs=client_cidrs,
        )
        subnet_group = isolated_subnet_group(
            self,
            provider=provider,
            name=name,
            description="Isolated subnets: no route to or from the internet",
            network=network,
        )
        parameters = database_parameters(self, "Parameters", provider=provider, name=name, engine_version=engine_version)
        # RDS creates the log groups it exports to without a retention (kept
        # forever); created here first, they have one.
        log_groups = [
            retained_log_group(
                self,
                f"{log.title()}Logs",
                provider=provider,
                name=f"/aws/rds/instance/{name}/{log}",
                retention_days=log_retention_days,
            )
            for log in EXPORTED_LOGS
        ]
        password = ephemeral_password(self, "database_password", provider=provider, length=40)
        self.credentials = write_once_secret(
            self,
            "Credentials",
            provider=provider,
            name_prefix=f"{project_name}/database-credentials-",
            description="Live Beats database master credentials (JSON username, password); generated at the first deploy",
            initial_value=f'${{jsonencode({{"username" = "{MASTER_USERNAME}", "password" = {password}}})}}',
            recovery_window_days=secret_recovery_window_days,
            replica_regions=replica_regions,
            rotation_note=(
                "Rotated by the operator (ALTER USER or modify-db-instance, then put-secret-value): the app reads "
                "this secret whenever it connects, so no restart is needed; RDS-managed rotation would forbid replicas"
            ),
        )
        self.instance = DbInstance(
            self,
            "Instance",
            provider=provider,
            identifier=name,
            engine="postgres",
            engine_version=engine_version,
            auto_minor_version_upgrade=True,
            instance_class=instance_class,
            allocated_storage=allocated_storage,
            max_allocated_storage=max_allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            allow_major_version_upgrade=True,
            db_name=database_name,
            username=MASTER_USERNAME,
            password_wo=f"${{{password}}}",
            password_wo_version=1,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnet_group.name,
            parameter_group_name=parameters.name,
            vpc_security_group_ids=[self.security_group.id],
            publicly_accessible=False,
            backup_retention_period=backup_retention_days,
            multi_az=multi_az,
            copy_tags_to_snapshot=True,
            deletion_protection=deletion_protection,
            skip_final_snapshot=not final_snapshot,
            # Unique per instance (its creation time, kept by ignore_changes): a
            # fixed name would make destroy, deploy, destroy fail on the first snapshot.
            final_snapshot_identifier=f'{name}-final-${{formatdate("YYYYMMDDhhmmss", timestamp())}}' if final_snapshot else None,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=list(EXPORTED_LOGS),
            tags={"Name": name},
            depends_on=log_groups,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["final_snapshot_identifier"]),
        )
        self._accepted_findings(multi_az=multi_az, deletion_protection=deletion_protection)

    def _accepted_findings(self, *, multi_az: bool, deletion_protection: bool) -> None:
        """The policy-scan findings this database is accepted with, and why."""
        if not multi_az:
            skip_check(
                self.instance,
                "CKV_AWS_157",
                "Single zone by default, as the original, for cost: automated backups restore it elsewhere; "
                "DB_MULTI_AZ=true adds a standby with automatic failover",
            )
        if not deletion_protection:
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
    def credentials_secret_arn(self) -> str:
        """ARN of the secret holding the JSON ``username`` and ``password`` the app connects with."""
        return self.credentials.arn

    def credentials_secret_arn_in(self, region: str) -> str:
        """The credentials secret as read in ``region``: itself, or its replica there."""
        if region == self._region:
            return self.credentials.arn
        if region not in self._replica_regions:
            raise ValueError(f"the database credentials are not replicated to {region}")
        return replica_arn(self.credentials.arn, source_region=self._region, region=region)
