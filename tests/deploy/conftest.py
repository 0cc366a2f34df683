"""The deployment the tests in tests/deploy share, made the way a user makes it.

One emulator per session. ``deployment`` deploys ``bootstrap`` then ``foundation database
app routing`` into it ONCE, with ``make deploy`` (so ``scripts/cdktf.sh``, the path users
type), and at the end of the session destroys them with ``make destroy`` and checks that
nothing of ours is left. Tests that need the emulator *before* any deploy use
``undeployed`` and must sort before the first test that requests ``deployment`` (their
file name sorts first).

The make targets install nothing here: the test session runs after ``make setup`` (``make
test`` does that first), and the session stops at once if the Python environment or the
cdktf CLI is out of date, rather than reinstalling a shared one.

Wall times go to ``artifacts/deploy-cycle-timings.json``; the synthesized stacks, the
emulator's log and one log per step to ``.local/deploy-tests``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest

from config import DeploymentConfig, load_config
from tests.emulator.launch import REPO, running_emulator

STACKS = ("foundation", "database", "app", "routing")
COMMAND_TIMEOUT_SECONDS = 1800
TIMINGS = REPO / "artifacts" / "deploy-cycle-timings.json"
WORKDIR = REPO / ".local" / "deploy-tests"
STACK_DONE = re.compile(r"(Apply|Destroy) complete!")
# Terminal control sequences and the progress spinner the cdktf CLI prints.
TERMINAL_NOISE = re.compile(
    r"\x1b\[[0-9;]*[A-Za-z]|^\S\s+(Starting|Synthesizing|Processing).*$|^\d+ Stacks? (deploying|destroying).*$"
)


class Deployment:
    """The stacks on the session's emulator, and how the tests reach them."""

    def __init__(self, emulator_url: str, workdir: Path) -> None:
        self.emulator_url = emulator_url
        self.outdir = workdir / "cdktf.out"
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = _user_environment(emulator_url, self.outdir)
        self.config: DeploymentConfig = load_config(self.env, {})
        self.timings: dict[str, Any] = {}
        self.deployed = False

    def make(self, step: str, *targets: str, cwd: Path | None = None, on_line: Callable[[str], None] | None = None) -> str:
        """``make <targets>`` as a user runs it, in the repo or another clone; asserts it succeeds.

        Keeps the output in ``logs/<step>.log`` and, per stack, when its apply or destroy
        completed (cdktf works through the stacks one after another, in dependency order).
        In another clone the synth directory is that clone's own ``cdktf.out``. ``on_line``
        sees each line of output as it comes.
        """
        env = dict(self.env)
        if cwd is not None and cwd.resolve() != REPO:
            env.pop("CDKTF_OUTPUT")
        return self._run(step, ["make", "--no-print-directory", *targets], cwd=cwd or REPO, env=env, on_line=on_line)

    def cdktf_sh(self, step: str, *args: str) -> str:
        """``scripts/cdktf.sh <args>``, for what has no make target (``destroy bootstrap``)."""
        return self._run(step, [str(REPO / "scripts" / "cdktf.sh"), *args], cwd=REPO, env=self.env)

    def _run(
        self, step: str, command: list[str], *, cwd: Path, env: dict[str, str], on_line: Callable[[str], None] | None = None
    ) -> str:
        done_at: dict[str, float] = {}
        current_stack = ""
        lines = []
        started = time.monotonic()
        with subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            for raw_line in process.stdout:
                line = TERMINAL_NOISE.sub("", raw_line).rstrip()
                if not line.strip():
                    continue
                lines.append(line + "\n")
                if on_line is not None:
                    on_line(line)
                first_word = line.strip().split(" ", 1)[0].rstrip(":")
                if first_word in ("bootstrap", *STACKS):
                    current_stack = first_word
                if current_stack and STACK_DONE.search(line):
                    done_at.setdefault(current_stack, round(time.monotonic() - started, 1))
            returncode = process.wait(timeout=COMMAND_TIMEOUT_SECONDS)
        output = "".join(lines)
        (self.logs / f"{step}.log").write_text(output)
        self.timings[step] = {"total": round(time.monotonic() - started, 1), "done_at": done_at}
        assert returncode == 0, f"{' '.join(command)} failed (log: {self.logs / step}.log):\n{output[-6000:]}"
        return output

    def plan(self, stack: str) -> tuple[int, str]:
        """``terraform plan -detailed-exitcode`` in the stack's synthesized directory: (exit code, output)."""
        started = time.monotonic()
        result = self._terraform(stack, "plan", "-detailed-exitcode", "-input=false", "-no-color")
        self.timings.setdefault("re-plan", {})[stack] = round(time.monotonic() - started, 1)
        (self.logs / f"plan-{stack}.log").write_text(result.stdout + result.stderr)
        return result.returncode, result.stdout + result.stderr

    def output(self, stack: str, name: str) -> str:
        """``terraform output -raw <name>`` of a stack."""
        result = self._terraform(stack, "output", "-raw", name)
        assert result.returncode == 0, f"terraform output {name} of {stack} failed:\n{result.stderr}"
        return result.stdout

    def client(self, service: str, region: str, credentials: Mapping[str, str] | None = None) -> Any:
        """A boto3 client on the emulator: admin keys, or an STS AssumeRole answer's ``Credentials``."""
        keys = (
            {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
            if credentials is None
            else {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        )
        return boto3.client(service, region_name=region, endpoint_url=self.emulator_url, **keys)

    def _terraform(self, stack: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["terraform", *args],
            cwd=self.outdir / "stacks" / stack,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
        )


def _user_environment(emulator_url: str, outdir: Path) -> dict[str, str]:
    """What a user exports for the emulator (README), and nothing of the caller's AWS or Terraform setup.

    (The synth tests' ``TF_CLI_ARGS_init`` turns backends off, for one.) ``STATE_BUCKET``
    is the default ``scripts/cdktf.sh`` derives, spelled out so ``config`` names it too.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_CLI_", "CDKTF_"))}
    env.update(
        AWS_ENDPOINT_URL=emulator_url,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="eu-west-2",
        AWS_EC2_METADATA_DISABLED="true",
        S3_USE_PATH_STYLE="true",
        THROWAWAY="true",
        APP_IMAGE="public.ecr.aws/docker/library/nginx:stable",
        CDKTF_OUTPUT=str(outdir),
        CHECKPOINT_DISABLE="1",
    )
    cli_config = subprocess.run(
        [str(REPO / "scripts" / "terraform-cli-config.sh")], capture_output=True, text=True, check=True
    ).stdout.strip()
    if cli_config:
        env["TF_CLI_CONFIG_FILE"] = cli_config
    env["STATE_BUCKET"] = subprocess.run(
        [str(REPO / "scripts" / "cdktf.sh"), "state-bucket"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    return env


def fresh_clone(target: Path, *, link_installed: bool = True) -> Path:
    """A copy of the repository's files as a fresh ``git clone`` has them (nothing ignored or
    generated: no cdktf.out, no .local), uncommitted edits included. Modification times are
    kept and ``.venv`` and ``node_modules`` linked to this checkout's, so make installs nothing."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if name in (".venv", "node_modules") or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    if link_installed:
        for name in (".venv", "node_modules"):
            (target / name).symlink_to((REPO / name).resolve())
    return target


def _require_installed() -> None:
    """The make targets must find everything installed: never reinstall a shared environment from a test."""
    stale = subprocess.run(["make", "-q", ".venv/.synced", "node_modules/.installed"], cwd=REPO, capture_output=True).returncode
    if stale:
        pytest.exit("tests/deploy: the Python environment or the cdktf CLI is out of date; run `make setup` first", 2)


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    _require_installed()
    with running_emulator(WORKDIR / "emulator.log") as url:
        yield url


@pytest.fixture(scope="session")
def undeployed(emulator_url: str) -> Deployment:
    """The session's emulator before anything is deployed (request it before ``deployment``)."""
    return Deployment(emulator_url, WORKDIR)


@pytest.fixture(scope="session")
def deployment(undeployed: Deployment) -> Iterator[Deployment]:
    """bootstrap, then foundation database app routing, deployed once per session with ``make deploy``;
    at the end destroyed with ``make destroy``, then nothing of ours may be left but the state
    bucket. (``destroy bootstrap`` is not run: moto cannot empty a versioned bucket that holds
    delete markers, which the S3 lock file leaves.)"""
    deployment = undeployed
    deployment.make("deploy", "deploy")
    deployment.deployed = True
    yield deployment
    try:
        interfaces = LingeringAcceleratorInterfaces(deployment)
        interfaces.create()
        deployment.make("destroy", "destroy", on_line=interfaces.on_line)
        assert interfaces.deleted_while_subnets_existed, (
            f"make destroy did not wait for Global Accelerator's interfaces {interfaces.interfaces}"
        )
        assert_nothing_of_ours_left(deployment)
    finally:
        TIMINGS.parent.mkdir(exist_ok=True)
        TIMINGS.write_text(json.dumps(deployment.timings, indent=2) + "\n")
        print(f"\ndeploy timings (s), also in {TIMINGS}:\n{json.dumps(deployment.timings, indent=2)}")


class LingeringAcceleratorInterfaces:
    """Global Accelerator's client-IP-preservation interfaces, as AWS leaves them after a destroy.

    AWS creates one in every subnet of an endpoint and deletes it some minutes after the
    endpoint group is gone; until then the subnet cannot be deleted. They are made here
    with the tag AWS puts on them, and deleted only once ``make destroy`` says it waits
    for them: each subnet must then still exist (foundation not destroyed yet). Without
    the wait they are never deleted, and the subnets go first.
    """

    WAITING = "waiting for Global Accelerator to delete"

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.interfaces: list[tuple[str, str, str]] = []
        self.deleted_while_subnets_existed = False

    def create(self) -> None:
        for region in self.deployment.config.regions:
            ec2 = self.deployment.client("ec2", region)
            for load_balancer in self.deployment.client("elbv2", region).describe_load_balancers()["LoadBalancers"]:
                for zone in load_balancer["AvailabilityZones"]:
                    interface = ec2.create_network_interface(
                        SubnetId=zone["SubnetId"],
                        Description="GlobalAccelerator client IP preservation (simulated)",
                        TagSpecifications=[
                            {
                                "ResourceType": "network-interface",
                                "Tags": [{"Key": "AWSServiceName", "Value": "GlobalAccelerator"}],
                            }
                        ],
                    )["NetworkInterface"]
                    self.interfaces.append((region, interface["NetworkInterfaceId"], zone["SubnetId"]))
        assert self.interfaces, "no load balancer subnets to put interfaces in"

    def on_line(self, line: str) -> None:
        if self.WAITING not in line or self.deleted_while_subnets_existed:
            return
        subnets_exist = True
        for region, interface_id, subnet_id in self.interfaces:
            ec2 = self.deployment.client("ec2", region)
            subnets_exist &= bool(ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["Subnets"])
            ec2.delete_network_interface(NetworkInterfaceId=interface_id)
        self.deleted_while_subnets_existed = subnets_exist


def assert_nothing_of_ours_left(deployment: Deployment) -> None:
    config = deployment.config
    for region in config.regions:
        ec2 = deployment.client("ec2", region)
        assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == [], region
        assert deployment.client("rds", region).describe_db_instances()["DBInstances"] == [], region
        ecs = deployment.client("ecs", region)
        clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
        assert [c["clusterName"] for c in clusters if c["status"] == "ACTIVE"] == [], region
        assert deployment.client("elbv2", region).describe_load_balancers()["LoadBalancers"] == [], region
        assert deployment.client("secretsmanager", region).list_secrets()["SecretList"] == [], region
        assert deployment.client("logs", region).describe_log_groups()["logGroups"] == [], region
    accelerators = deployment.client("globalaccelerator", config.global_accelerator_region).list_accelerators()
    assert accelerators["Accelerators"] == []
    buckets = [b["Name"] for b in deployment.client("s3", config.primary_region).list_buckets()["Buckets"]]
    assert buckets == [config.state_bucket]
    roles = deployment.client("iam", config.primary_region).list_roles()["Roles"]
    assert [r["RoleName"] for r in roles if not r["Path"].startswith("/aws-service-role/")] == []
