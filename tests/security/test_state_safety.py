"""State safety on the local emulator: the S3 lock file, and no secret value in any state object.

A small stack made of the real parts — ``RemoteStateStack`` (the S3 backend with
``use_lockfile``) and ``AppSecrets`` (ephemeral and write-only values) — is
applied with Terraform against the emulator:

1. an apply waits at its approval prompt, holding the lock;
2. a second apply of the same stack fails with "Error acquiring the state lock",
   a third one with a lock timeout waits, and applies once the first is done;
3. the state object is intact (valid, one lineage, the secrets in it, a plan
   shows no changes), and the lock file is gone;
4. no value the secrets hold (read back from the emulator) appears in any
   version of any object in the state bucket, and the operator's values survive
   a later apply.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from constructs import Construct

from config import DeploymentConfig, load_config
from constructs_lib.app_secrets import AppSecrets
from stacks.base import RemoteStateStack
from tests.emulator.launch import running_emulator

STACK = "secrets"
REGION = "eu-west-2"
TIMEOUT_SECONDS = 300
LOCK_ERROR = "Error acquiring the state lock"


class SecretsStack(RemoteStateStack):
    """The app's secrets alone, in a stack with the project's backend."""

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id, config=config)
        self.secrets = AppSecrets(
            self,
            "Secrets",
            provider=self.primary_provider(),
            region=config.primary_region,
            name_prefix=config.project_name,
            recovery_window_days=0,
        )


class Emulated:
    """Terraform and boto3 pointed at the emulator."""

    def __init__(self, url: str, stack_dir: Path, config: DeploymentConfig) -> None:
        self.stack_dir = stack_dir
        self.config = config
        self.state_key = f"{config.project_name}/{STACK}.tfstate"
        # cdktf's validation in tests/infra sets TF_CLI_ARGS_init=-backend=false; this needs the backend.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_CLI_ARGS"))}
        self.env.update(
            AWS_ENDPOINT_URL=url,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_REGION=REGION,
            AWS_EC2_METADATA_DISABLED="true",
            CHECKPOINT_DISABLE="1",
        )
        self.url = url

    def client(self, service: str) -> Any:
        return boto3.client(
            service, region_name=REGION, endpoint_url=self.url, aws_access_key_id="test", aws_secret_access_key="test"
        )

    def terraform(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            ["terraform", *args, "-no-color"],
            cwd=self.stack_dir,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, *args: str) -> tuple[int, str]:
        process = self.terraform(*args)
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
        return process.returncode, output

    def objects(self) -> dict[str, bytes]:
        """Every version of every object in the state bucket, by "key@version"."""
        s3 = self.client("s3")
        found = {}
        for version in s3.list_object_versions(Bucket=self.config.state_bucket).get("Versions", []):
            body = s3.get_object(Bucket=self.config.state_bucket, Key=version["Key"], VersionId=version["VersionId"])[
                "Body"
            ].read()
            found[f"{version['Key']}@{version['VersionId']}"] = body
        return found

    def state(self) -> dict:
        body = self.client("s3").get_object(Bucket=self.config.state_bucket, Key=self.state_key)["Body"].read()
        return json.loads(body)


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    from cdktf import App

    workdir = tmp_path_factory.mktemp("state-safety")
    config = load_config(
        {
            "PROJECT_NAME": "lockcheck",
            "PRIMARY_AWS_REGION": REGION,
            "STATE_BUCKET": "lockcheck-state",
            "S3_USE_PATH_STYLE": "true",
        },
        {},
    )
    app = App(outdir=str(workdir / "cdktf.out"))
    SecretsStack(app, STACK, config=config)
    app.synth()
    with running_emulator(workdir / "emulator.log") as url:
        emulated = Emulated(url, workdir / "cdktf.out" / "stacks" / STACK, config)
        s3 = emulated.client("s3")
        s3.create_bucket(Bucket=config.state_bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=config.state_bucket, VersioningConfiguration={"Status": "Enabled"})
        returncode, output = emulated.run("init", "-input=false")
        assert returncode == 0, output
        yield emulated


def _wait_for(predicate, what: str, timeout: float = TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_concurrent_applies_are_serialized_by_the_lock_file_and_the_state_stays_intact(emulated: Emulated) -> None:
    lock_key = f"{emulated.state_key}.tflock"
    s3 = emulated.client("s3")

    def lock_held() -> bool:
        return any(o["Key"] == lock_key for o in s3.list_objects_v2(Bucket=emulated.config.state_bucket).get("Contents", []))

    first = emulated.terraform("apply", "-input=true")  # waits at "Enter a value:", holding the lock
    try:
        _wait_for(lock_held, "the first apply to take the lock")
        returncode, output = emulated.run("apply", "-auto-approve", "-input=false", "-lock-timeout=0s")
        assert returncode != 0 and LOCK_ERROR in output, output
        waiting = emulated.terraform("apply", "-auto-approve", "-input=false", "-lock-timeout=120s")
        time.sleep(3)
        assert waiting.poll() is None, "the apply with a lock timeout should wait for the lock"
        first_output, _ = first.communicate("yes\n", timeout=TIMEOUT_SECONDS)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, first_output
    assert "Apply complete! Resources: 6 added" in first_output, first_output
    waiting_output, _ = waiting.communicate(timeout=TIMEOUT_SECONDS)
    assert waiting.returncode == 0, waiting_output
    assert "Apply complete! Resources: 0 added, 0 changed, 0 destroyed" in waiting_output, waiting_output

    assert not lock_held()
    state = emulated.state()
    assert state["version"] == 4 and state["lineage"]
    assert (
        sorted(r["type"] for r in state["resources"])
        == ["aws_secretsmanager_secret"] * 3 + ["aws_secretsmanager_secret_version"] * 3
    )
    returncode, output = emulated.run("plan", "-detailed-exitcode", "-input=false")
    assert returncode == 0, f"the state no longer matches the emulator:\n{output}"


def test_no_secret_value_in_any_state_object_and_operator_values_survive(emulated: Emulated) -> None:
    """An operator sets the GitHub credentials (twice: a typo fixed), then deploys again.

    After the second put the version Terraform wrote has no AWS staging label; AWS
    deletes such versions (the emulator does so at once), and the provider would
    then write the placeholder again as AWSCURRENT. It must not, and the plan
    after it must be clean.
    """
    secrets = emulated.client("secretsmanager")
    prefix = emulated.config.project_name
    names = {
        entry["Name"].rsplit("-", 1)[0]: entry["Name"]
        for entry in secrets.list_secrets(Filters=[{"Key": "name", "Values": [f"{prefix}/"]}])["SecretList"]
    }
    operator_values = {
        names[f"{prefix}/github-client-id"]: "Iv1.operatorclientid42",
        names[f"{prefix}/github-client-secret"]: "0a1b2c3d4e5f-operator-secret",
    }
    for name, value in operator_values.items():
        secrets.put_secret_value(SecretId=name, SecretString=f"{value}-typo")
        secrets.put_secret_value(SecretId=name, SecretString=value)
    returncode, output = emulated.run("apply", "-auto-approve", "-input=false")
    assert returncode == 0, output
    returncode, output = emulated.run("plan", "-detailed-exitcode", "-input=false")
    assert returncode == 0, f"a deploy after the operator's values still wants changes:\n{output}"

    key_base = names[f"{prefix}/secret-key-base"]
    values = {name: secrets.get_secret_value(SecretId=name)["SecretString"] for name in (key_base, *operator_values)}
    assert {name: values[name] for name in operator_values} == operator_values, "a later apply overwrote the operator's values"
    assert len(values[key_base]) == 64
    objects = emulated.objects()
    assert any(key.startswith(emulated.state_key + "@") for key in objects)
    for key, body in objects.items():
        for name, value in values.items():
            assert value.encode() not in body, f"the value of {name} is in {key}"
