"""database: private, encrypted, backed-up PostgreSQL reachable only from the app subnets."""

from __future__ import annotations

from cdktf import Testing

from tests.infra.conftest import Synthesized


def test_rds_postgres_flags_users_rely_on(synthesized: Synthesized) -> None:
    assert Testing.to_have_resource_with_properties(
        synthesized.text("database"),
        "aws_db_instance",
        {
            "engine": "postgres",
            "engine_version": "16",
            "publicly_accessible": False,
            "storage_encrypted": True,
            "password_wo_version": 1,
            "allow_major_version_upgrade": True,
            "backup_retention_period": 7,
            "allocated_storage": 20,
            "max_allocated_storage": 100,
            "deletion_protection": True,
            "skip_final_snapshot": False,
            "provider": "aws.primary",
        },
    )
    instance = synthesized.one("database", "aws_db_instance")
    assert "password" not in instance and "manage_master_user_password" not in instance


def test_final_snapshot_name_is_unique_per_instance(synthesized: Synthesized) -> None:
    """Destroy, deploy, destroy: a fixed final-snapshot name would already exist the second time."""
    instance = synthesized.one("database", "aws_db_instance")
    assert instance["final_snapshot_identifier"] == 'livebeats-db-final-${formatdate("YYYYMMDDhhmmss", timestamp())}'
    # Fixed at creation: otherwise every plan would show a new name.
    assert instance["lifecycle"]["ignore_changes"] == ["final_snapshot_identifier"]


def test_major_version_upgrade_can_be_applied(synthesized: Synthesized) -> None:
    """The new family's parameter group is created before the old one, still in use, is destroyed."""
    instance = synthesized.one("database", "aws_db_instance")
    group = synthesized.one("database", "aws_db_parameter_group")
    assert instance["allow_major_version_upgrade"] is True
    assert group["name_prefix"] == "livebeats-db-postgres16-" and "name" not in group
    assert group["family"] == "postgres16"
    assert group["lifecycle"] == {"create_before_destroy": True}


def test_exported_log_groups_exist_first_with_a_retention(synthesized: Synthesized) -> None:
    """RDS would create /aws/rds/instance/<id>/<log> itself, kept forever."""
    instance = synthesized.one("database", "aws_db_instance")
    groups = synthesized.resources("database", "aws_cloudwatch_log_group")
    assert sorted(g["name"] for g in groups.values()) == [
        f"/aws/rds/instance/livebeats-db/{log}" for log in sorted(instance["enabled_cloudwatch_logs_exports"])
    ]
    assert {g["retention_in_days"] for g in groups.values()} == {30}
    assert sorted(instance["depends_on"]) == sorted(f"aws_cloudwatch_log_group.{logical}" for logical in groups)


def test_password_is_owned_by_the_deployment_and_kept_in_a_write_once_secret(synthesized: Synthesized) -> None:
    """One ephemeral value, in the same apply, to the instance and to the credentials secret; in no state."""
    instance = synthesized.one("database", "aws_db_instance")
    version = synthesized.one("database", "aws_secretsmanager_secret_version")
    secret = synthesized.one("database", "aws_secretsmanager_secret")
    password = "ephemeral.aws_secretsmanager_random_password.database_password.random_password"
    assert instance["password_wo"] == f"${{{password}}}"
    assert version["secret_string_wo"] == f'${{jsonencode({{"username" = "livebeats", "password" = {password}}})}}'
    assert version["secret_string_wo_version"] == 1
    assert secret["name_prefix"] == "livebeats/database-credentials-"
    ephemeral = synthesized.stack("database")["ephemeral"]["aws_secretsmanager_random_password"]["database_password"]
    assert ephemeral == {"provider": "aws.primary", "password_length": 40, "exclude_punctuation": True}


def test_throwaway_environment_skips_protection_and_final_snapshot(variant: Synthesized) -> None:
    instance = variant.one("database", "aws_db_instance")
    assert instance["deletion_protection"] is False
    assert instance["skip_final_snapshot"] is True


def test_database_lives_in_the_isolated_subnets(synthesized: Synthesized) -> None:
    group = synthesized.one("database", "aws_db_subnet_group")
    assert len(group["subnet_ids"]) == 2
    assert all("IsolatedSubnet" in subnet for subnet in group["subnet_ids"])


def test_postgres_port_only_from_the_app_subnets_of_both_regions(synthesized: Synthesized) -> None:
    rules = synthesized.resources("database", "aws_vpc_security_group_ingress_rule").values()
    assert sorted(r["cidr_ipv4"] for r in rules) == ["10.0.64.0/20", "10.0.80.0/20", "10.1.64.0/20", "10.1.80.0/20"]
    assert {(r["from_port"], r["to_port"], r["ip_protocol"]) for r in rules} == {(5432, 5432, "tcp")}
    assert not synthesized.resources("database", "aws_vpc_security_group_egress_rule")
