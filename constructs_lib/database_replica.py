"""A cross-region read replica of the database, in the secondary region: what `make failover` promotes."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.database import (
    EXPORTED_LOGS,
    PostgresDatabase,
    database_parameters,
    isolated_subnet_group,
    postgres_security_group,
)
from constructs_lib.logs import retained_log_group
from constructs_lib.network import RegionalNetwork
from constructs_lib.policy_checks import skip_check
from constructs_lib.ports import POSTGRES_PORT


def replica_identifier(project_name: str) -> str:
    """The replica's RDS identifier; `scripts/failover.py` promotes the instance of this name."""
    return f"{project_name}-db-replica"


class CrossRegionReplica(Construct):
    """RDS read replica of ``source`` in another region, streaming asynchronously.

    Why each part is here:

    * **A key in this region.** An encrypted cross-region replica must name a
      KMS key of the destination region; keys do not cross regions (RDS API
      reference, CreateDBInstanceReadReplica, ``KmsKeyId``). Rotation on.
    * **Its own subnet group, security group and parameter group**: each is a
      regional object. The parameter group is of the source's family with the
      same settings (TLS only), so the promoted instance behaves as the old one.
    * **Reachable from both regions' app subnets** on 5432, like the source: the
      app is given both hosts and connects to whichever accepts writes, so the
      primary's tasks keep working against the promoted replica if only the
      primary's database failed.
    * **Lifecycle after promotion.** `make failover` promotes the replica with
      RDS's API (Terraform cannot: the primary region's API may be gone). The
      instance then has no ``replicate_source_db``; ``ignore_changes`` keeps a
      later plan from trying to turn it back into a replica (RDS cannot) or
      replace it. README "Regional failure" says how the configuration is
      brought in line afterwards.
    * **The credentials need nothing here**: the master password is the
      source's (a replica has no password of its own), kept in the credentials
      secret, which is replicated to this region. A replica is possible only
      because the deployment owns that password: RDS cannot create a read
      replica of an instance whose master password RDS manages (RDS User Guide,
      "Password management with Amazon RDS and AWS Secrets Manager").
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        source: PostgresDatabase,
        network: RegionalNetwork,
        client_cidrs: Sequence[str],
        project_name: str,
        engine_version: str,
        instance_class: str,
        max_allocated_storage: int,
        log_retention_days: int,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, id)
        identifier = replica_identifier(project_name)
        self.key = KmsKey(
            self,
            "Key",
            provider=provider,
            description=f"Encrypts the {identifier} read replica (a cross-region replica needs a key of its own region)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
        )
        skip_check(
            self.key,
            "CKV2_AWS_64",
            "The default key policy (this account's IAM decides) is what RDS needs; no other account uses the key",
        )
        KmsAlias(self, "KeyAlias", provider=provider, name=f"alias/{identifier}", target_key_id=self.key.key_id)
        self.security_group = postgres_security_group(
            self,
            provider=provider,
            name=identifier,
            description="PostgreSQL replica, reachable only from the app subnets of both regions",
            network=network,
            client_cidrs=client_cidrs,
        )
        self.subnet_group = isolated_subnet_group(
            self,
            provider=provider,
            name=identifier,
            description="Isolated subnets of the secondary region: no route to or from the internet",
            network=network,
        )
        parameters: DbParameterGroup = database_parameters(
            self, "Parameters", provider=provider, name=identifier, engine_version=engine_version
        )
        log_groups = [
            retained_log_group(
                self,
                f"{log.title()}Logs",
                provider=provider,
                name=f"/aws/rds/instance/{identifier}/{log}",
                retention_days=log_retention_days,
            )
            for log in EXPORTED_LOGS
        ]
        self.instance = DbInstance(
            self,
            "Instance",
            provider=provider,
            identifier=identifier,
            # Cross-region: the source is named by its ARN (the provider's aws_db_instance docs).
            replicate_source_db=source.instance.arn,
            instance_class=instance_class,
            storage_type="gp3",
            max_allocated_storage=max_allocated_storage,
            storage_encrypted=True,
            kms_key_id=self.key.arn,
            auto_minor_version_upgrade=True,
            port=POSTGRES_PORT,
            db_subnet_group_name=self.subnet_group.name,
            parameter_group_name=parameters.name,
            vpc_security_group_ids=[self.security_group.id],
            publicly_accessible=False,
            copy_tags_to_snapshot=True,
            deletion_protection=deletion_protection,
            # Deleting a replica takes no final snapshot; once promoted, its
            # automated backups (set by the promotion) protect it.
            skip_final_snapshot=True,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=list(EXPORTED_LOGS),
            tags={"Name": identifier},
            depends_on=log_groups,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["replicate_source_db"]),
        )
        skip_check(self.instance, "CKV_AWS_157", "One replica in another region is the standby; Multi-AZ would double it")
        skip_check(self.instance, "CKV_AWS_353", "As the source: slow statements are logged and exported instead")
        skip_check(
            self.instance, "CKV_AWS_118", "As the source: standard RDS metrics; enhanced monitoring is the operator's choice"
        )
        if not deletion_protection:
            skip_check(self.instance, "CKV_AWS_293", "THROWAWAY=true: a disposable environment is destroyed by design")

    @property
    def address(self) -> str:
        return self.instance.address
