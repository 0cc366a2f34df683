"""State: the bootstrap bucket, one encrypted, locked S3 key per stack, and cross-stack wiring."""

from __future__ import annotations

import pytest

from tests.infra.conftest import Synthesized

DEPLOYED = ("foundation", "database", "app", "routing")


def test_synth_yields_exactly_the_five_stacks(synthesized: Synthesized) -> None:
    assert sorted(p.name for p in (synthesized.outdir / "stacks").iterdir()) == sorted(
        ["bootstrap", "foundation", "database", "app", "routing"]
    )


def test_bootstrap_state_bucket_is_versioned_encrypted_private(synthesized: Synthesized) -> None:
    assert synthesized.one("bootstrap", "aws_s3_bucket")["bucket"] == "livebeats-terraform-state"
    assert synthesized.one("bootstrap", "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    assert synthesized.one("bootstrap", "aws_s3_bucket_server_side_encryption_configuration")
    block = synthesized.one("bootstrap", "aws_s3_bucket_public_access_block")
    assert block["block_public_acls"] and block["restrict_public_buckets"]
    assert "aws:SecureTransport" in synthesized.one("bootstrap", "aws_s3_bucket_policy")["policy"]


@pytest.mark.parametrize("stack", ("bootstrap", *DEPLOYED))
def test_each_stack_has_its_own_encrypted_locked_key(synthesized: Synthesized, stack: str) -> None:
    backend = synthesized.stack(stack)["terraform"]["backend"]["s3"]
    assert backend == {
        "bucket": "livebeats-terraform-state",
        "key": f"livebeats/{stack}.tfstate",
        "region": "eu-west-2",
        "encrypt": True,
        "use_lockfile": True,
    }


def test_path_style_reaches_backends_and_cross_stack_reads(variant: Synthesized) -> None:
    for stack in DEPLOYED:
        assert variant.stack(stack)["terraform"]["backend"]["s3"]["use_path_style"] is True
        for remote in variant.stack(stack).get("data", {}).get("terraform_remote_state", {}).values():
            assert remote["config"]["use_path_style"] is True
        for provider in variant.stack(stack)["provider"]["aws"]:
            assert provider["s3_use_path_style"] is True


def test_cross_stack_references_become_outputs_and_remote_state(synthesized: Synthesized) -> None:
    reads = {stack: sorted(synthesized.stack(stack).get("data", {}).get("terraform_remote_state", {})) for stack in DEPLOYED}
    assert reads == {
        "foundation": [],
        "database": ["cross-stack-reference-input-foundation"],
        "app": ["cross-stack-reference-input-database", "cross-stack-reference-input-foundation"],
        "routing": ["cross-stack-reference-input-app"],
    }
    foundation_outputs = synthesized.stack("foundation")["output"]
    assert any("aws_vpcPrimaryNetwork_Vpc" in name for name in foundation_outputs)
    assert any("IsolatedSubnet" in name for name in foundation_outputs)
    database_outputs = synthesized.stack("database")["output"]
    assert any(name.endswith("address") for name in database_outputs)
    assert any(name.endswith("secret_arn") for name in database_outputs)
    assert sum(name.endswith("arn") and "aws_lb" in name for name in synthesized.stack("app")["output"]) == 2
