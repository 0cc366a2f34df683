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
            "manage_master_user_password": True,
            "backup_retention_period": 7,
            "allocated_storage": 20,
            "max_allocated_storage": 100,
            "deletion_protection": True,
            "skip_final_snapshot": False,
            "provider": "aws.primary",
        },
    )
    instance = synthesized.one("database", "aws_db_instance")
    assert "password" not in instance
    assert instance["final_snapshot_identifier"]


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
