"""The defaults users expect (terraform-aws-modules as reference) that other suites do not pin yet."""

from __future__ import annotations

from config import DeploymentConfig
from constructs_lib.private_bucket import NONCURRENT_VERSION_DAYS
from tests.infra.conftest import Synthesized
from tests.security.policy_scan import STACKS


def _rules(synth: Synthesized, stack: str) -> dict[str, dict]:
    (configuration,) = synth.resources(stack, "aws_s3_bucket_lifecycle_configuration").values()
    return {rule["id"]: rule for rule in configuration["rule"]}


def test_every_log_group_keeps_logs_for_the_configured_retention(
    synthesized: Synthesized, default_config: DeploymentConfig
) -> None:
    groups = [g for stack in STACKS for g in synthesized.resources(stack, "aws_cloudwatch_log_group").values()]
    assert len(groups) == 6  # flow logs and app logs in both regions, the database's two exported logs
    assert {g["retention_in_days"] for g in groups} == {default_config.log_retention_days}


def test_state_bucket_aborts_stale_uploads_and_keeps_earlier_states_for_a_while(synthesized: Synthesized) -> None:
    rule = _rules(synthesized, "bootstrap")["housekeeping"]
    assert rule["status"] == "Enabled" and rule["filter"] == [{}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": NONCURRENT_VERSION_DAYS}]


def test_songs_bucket_expires_songs_and_aborts_stale_uploads(synthesized: Synthesized) -> None:
    rules = _rules(synthesized, "app")
    assert rules["expire-songs"]["filter"] == [{"prefix": "songs/"}]
    assert rules["housekeeping"]["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]
    assert "noncurrent_version_expiration" not in rules["housekeeping"]


def test_throwaway_turns_off_load_balancer_deletion_protection(variant: Synthesized) -> None:
    assert {lb["enable_deletion_protection"] for lb in variant.resources("app", "aws_lb").values()} == {False}


def test_database_forces_tls_and_exports_its_logs(synthesized: Synthesized) -> None:
    parameters = {p["name"]: p["value"] for p in synthesized.one("database", "aws_db_parameter_group")["parameter"]}
    assert parameters["rds.force_ssl"] == "1"
    instance = synthesized.one("database", "aws_db_instance")
    assert instance["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    assert instance["multi_az"] is False  # DB_MULTI_AZ's default; the policy scan records why


def test_built_image_repository_is_kms_encrypted(variant: Synthesized) -> None:
    repository = variant.one("app", "aws_ecr_repository")
    assert repository["encryption_configuration"] == [{"encryption_type": "KMS"}]
