"""The whole deployment, as a user runs it, against the local emulator.

``cdktf diff`` before anything exists, deploy ``bootstrap`` then ``foundation
database app routing`` with the cdktf CLI, re-plan every stack (no changes),
deploy again (nothing changes), destroy, and check the emulator holds nothing
of ours. Terraform's real plan/apply does the work; the emulator stands in for
AWS. Wall times per stack go to ``artifacts/deploy-cycle-timings.json``, the
logs of every step to ``.local/deploy-cycle/logs``.

It takes 10-18 minutes on two cores; ``pytest --ignore=tests/deploy`` leaves it out
while iterating on something else.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from config import DeploymentConfig, load_config
from tests.emulator.launch import REPO, running_emulator

STACKS = ("foundation", "database", "app", "routing")
CDKTF = REPO / "node_modules" / ".bin" / "cdktf"
COMMAND_TIMEOUT_SECONDS = 1800
# A provider waiting on something the emulator never reports would hang the run.
CYCLE_TIMEOUT_SECONDS = 3600
TIMINGS = REPO / "artifacts" / "deploy-cycle-timings.json"
STACK_DONE = re.compile(r"(Apply|Destroy) complete!")
# The synthesized stacks, the emulator's log and one log per step, kept after the run.
WORKDIR = REPO / ".local" / "deploy-cycle"
# Terminal control sequences and the progress spinner the cdktf CLI prints.
TERMINAL_NOISE = re.compile(
    r"\x1b\[[0-9;]*[A-Za-z]|^\S\s+(Starting|Synthesizing|Processing).*$|^\d+ Stacks? (deploying|destroying).*$"
)


class Cycle:
    """Runs cdktf and terraform against the emulator and keeps each stack's wall time."""

    def __init__(self, emulator_url: str, workdir: Path) -> None:
        self.outdir = workdir / "cdktf.out"
        self.logs = workdir / "logs"
        self.logs.mkdir()
        self.env = self._environment(emulator_url)
        self.config: DeploymentConfig = load_config(self.env, {})
        self.timings: dict[str, Any] = {}

    def _environment(self, emulator_url: str) -> dict[str, str]:
        # Nothing of the caller's AWS or Terraform setup (the synth tests' TF_CLI_ARGS_init
        # turns backends off, for one) may reach a real deployment.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_CLI_"))}
        env.update(
            AWS_ENDPOINT_URL=emulator_url,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_REGION="eu-west-2",
            AWS_EC2_METADATA_DISABLED="true",
            S3_USE_PATH_STYLE="true",
            THROWAWAY="true",
            APP_IMAGE="public.ecr.aws/docker/library/nginx:stable",
            JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
            CHECKPOINT_DISABLE="1",
        )
        cli_config = subprocess.run(
            ["bash", str(REPO / "scripts" / "terraform-cli-config.sh")], capture_output=True, text=True, check=True
        ).stdout.strip()
        if cli_config:
            env["TF_CLI_CONFIG_FILE"] = cli_config
        return env

    def cdktf(self, step: str, *args: str) -> str:
        """Run ``cdktf <args>``, recording when the stacks' output began (synthesis
        done) and when each stack's apply or destroy completed.

        cdktf initializes every stack first, then works through them one after
        another in dependency order, so a stack's own time is the gap between its
        "done" time and the previous stack's.
        """
        command = [str(CDKTF), *args, "--app", f"{sys.executable} main.py", "--output", str(self.outdir)]
        done_at: dict[str, float] = {}
        first_stack_line_at = 0.0
        current_stack = ""
        lines = []
        started = time.monotonic()
        with subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process:
            for raw_line in process.stdout:
                line = TERMINAL_NOISE.sub("", raw_line).strip()
                if not line:
                    continue
                lines.append(line + "\n")
                now = round(time.monotonic() - started, 1)
                if line.split(" ", 1)[0] in ("bootstrap", *STACKS):
                    current_stack = line.split(" ", 1)[0]
                    first_stack_line_at = first_stack_line_at or now
                if current_stack and STACK_DONE.search(line):
                    done_at.setdefault(current_stack, now)
            returncode = process.wait(timeout=COMMAND_TIMEOUT_SECONDS)
        output = "".join(lines)
        (self.logs / f"{step}.log").write_text(output)
        self.timings[step] = {
            "total": round(time.monotonic() - started, 1),
            "stacks_output_from": first_stack_line_at,
            "done_at": done_at,
        }
        assert returncode == 0, f"cdktf {' '.join(args)} failed (log: {self.logs / step}.log):\n{output[-6000:]}"
        return output

    def plan(self, stack: str) -> tuple[int, str]:
        """``terraform plan -detailed-exitcode`` in the stack's synthesized directory."""
        started = time.monotonic()
        result = subprocess.run(
            ["terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color"],
            cwd=self.outdir / "stacks" / stack,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
        )
        self.timings.setdefault("re-plan", {})[stack] = round(time.monotonic() - started, 1)
        (self.logs / f"plan-{stack}.log").write_text(result.stdout + result.stderr)
        return result.returncode, result.stdout + result.stderr

    def client(self, service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


@pytest.fixture(scope="module")
def cycle() -> Iterator[Cycle]:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    with running_emulator(WORKDIR / "emulator.log") as url:
        cycle = Cycle(url, WORKDIR)
        yield cycle
    TIMINGS.parent.mkdir(exist_ok=True)
    TIMINGS.write_text(json.dumps(cycle.timings, indent=2) + "\n")
    print(f"\ndeploy cycle timings (s), also in {TIMINGS}:\n{json.dumps(cycle.timings, indent=2)}")


@pytest.mark.timeout(CYCLE_TIMEOUT_SECONDS)
def test_deploy_replan_redeploy_destroy(cycle: Cycle) -> None:
    assert "to add" in cycle.cdktf("diff-bootstrap-before-deploy", "diff", "bootstrap", "--skip-provider-lock")
    cycle.cdktf("deploy-bootstrap", "deploy", "bootstrap", "--auto-approve", "--skip-provider-lock")
    assert "to add" in cycle.cdktf("diff-foundation-before-deploy", "diff", "foundation", "--skip-provider-lock")

    cycle.cdktf("deploy", "deploy", *STACKS, "--auto-approve", "--skip-provider-lock")

    changed = {}
    for stack in ("bootstrap", *STACKS):
        returncode, output = cycle.plan(stack)
        assert returncode in (0, 2), f"terraform plan of {stack} failed:\n{output[-4000:]}"
        if returncode == 2:
            changed[stack] = output[-4000:]
    assert not changed, "a second plan shows changes:\n" + "\n".join(f"--- {s}\n{o}" for s, o in changed.items())

    redeploy = cycle.cdktf("redeploy", "deploy", *STACKS, "--auto-approve", "--skip-provider-lock")
    for word in ("Creating...", "Modifying...", "Destroying..."):
        assert word not in redeploy, f"the second deploy changed something ({word}):\n{redeploy[-4000:]}"

    cycle.cdktf("destroy", "destroy", *reversed(STACKS), "--auto-approve")
    assert_nothing_of_ours_left(cycle)


def assert_nothing_of_ours_left(cycle: Cycle) -> None:
    config = cycle.config
    for region in config.regions:
        ec2 = cycle.client("ec2", region)
        assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == [], region
        assert cycle.client("rds", region).describe_db_instances()["DBInstances"] == [], region
        clusters = cycle.client("ecs", region).describe_clusters(
            clusters=cycle.client("ecs", region).list_clusters()["clusterArns"]
        )["clusters"]
        assert [c["clusterName"] for c in clusters if c["status"] == "ACTIVE"] == [], region
        assert cycle.client("elbv2", region).describe_load_balancers()["LoadBalancers"] == [], region
        assert cycle.client("secretsmanager", region).list_secrets()["SecretList"] == [], region
        assert cycle.client("logs", region).describe_log_groups()["logGroups"] == [], region
    accelerators = cycle.client("globalaccelerator", config.global_accelerator_region).list_accelerators()
    assert accelerators["Accelerators"] == []
    buckets = [b["Name"] for b in cycle.client("s3", config.primary_region).list_buckets()["Buckets"]]
    assert buckets == [config.state_bucket]
    roles = cycle.client("iam", config.primary_region).list_roles()["Roles"]
    assert [r["RoleName"] for r in roles if not r["Path"].startswith("/aws-service-role/")] == []
