"""Synthesize, deploy, preview and destroy the stacks: what ``scripts/cdktf.sh`` (and so
``make deploy | diff | destroy``) runs, with the project's Python environment.

It synthesizes once, then drives the pinned cdktf CLI, and Terraform itself where cdktf
has no verb for the step:

* The synth (the provider bindings alone take ~20 s to load) is skipped when the synth
  directory already holds one of the same inputs: the configuration as resolved, the code
  that builds the stacks, the locks of the provider bindings and of the CLI, and the app's
  build context when the image is built from it. Their sha256 is written to
  ``.synth-inputs.sha256`` in that directory after each synth. ``synth`` always synthesizes.
* ``bootstrap`` keeps its state in the bucket it creates (``<PROJECT_NAME>/bootstrap.tfstate``),
  so a fresh clone, a second operator or CI finds it. The first deploy cannot use that
  backend yet: it applies with a local state file, then moves the state into the bucket
  (``terraform init -migrate-state``). A bucket that exists without that state (made by an
  earlier version, whose state stayed in ``cdktf.out/``) is adopted with ``import`` blocks
  instead of being created again (``BucketAlreadyOwnedByYou``).
* ``diff`` before the first deploy: a stack whose state bucket does not exist yet is planned
  against an empty local state; a stack that reads another stack's outputs is planned once
  that stack is deployed, and said so.
* ``destroy`` waits, before ``foundation``, until Global Accelerator has deleted the network
  interfaces (and security group) it created for client IP preservation in the load
  balancers' subnets: it does so some minutes after the endpoint groups are deleted, and
  until then the subnets and VPC cannot be deleted (DependencyViolation,
  hashicorp/terraform-provider-aws#11476).

``STATE_BUCKET`` defaults to ``<PROJECT_NAME>-tfstate-<account id>-<PRIMARY_AWS_REGION>``:
bucket names are global, so a fixed default would almost surely be taken; the account id
makes it unique, and it needs AWS credentials, which only these commands (not synthesis in
the tests, not ``config/``) have.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config import ConfigError, DeploymentConfig, load_config
from constructs_lib.build_context import source_digest

REPO = Path(__file__).resolve().parents[1]
CDKTF = REPO / "node_modules" / ".bin" / "cdktf"
BOOTSTRAP = "bootstrap"
FOUNDATION = "foundation"
# Global Accelerator tags what it creates for client IP preservation with this tag (its
# service-linked role may delete only resources carrying it: AWSGlobalAcceleratorSLRPolicy),
# and EC2 reports its interfaces with this interface type (DescribeNetworkInterfaces).
ACCELERATOR_TAG = ("AWSServiceName", "GlobalAccelerator")
ACCELERATOR_INTERFACE_TYPE = "global_accelerator_managed"
# AWS documents no upper bound for removing them; minutes are usual.
ACCELERATOR_CLEANUP_TIMEOUT_SECONDS = 30 * 60
ACCELERATOR_POLL_SECONDS = 10
# What a synth reads besides the configuration, relative to the repository: the code that
# builds the stacks, the CLI's settings and the locks of the provider bindings and the CLI.
SYNTH_SOURCES = ("main.py", "cdktf.json", "Pipfile.lock", "package-lock.json")
SYNTH_SOURCE_PACKAGES = ("config", "constructs_lib", "stacks")
SYNTH_INPUTS_RECORD = ".synth-inputs.sha256"
# Every resource of the bootstrap stack is an S3 bucket or one of its configurations,
# each imported by the bucket's name.
ADOPTABLE_PREFIX = "aws_s3_bucket"


class DeployError(Exception):
    """A step failed; the message says which and what to do."""


class Stacks:
    """The synthesized stacks of one configuration and the commands run on them."""

    def __init__(self, config: DeploymentConfig, env: dict[str, str]) -> None:
        self.config = config
        self.env = env
        self.outdir = Path(env.get("CDKTF_OUTPUT") or REPO / "cdktf.out").resolve()
        self.cli_flags: list[str] = ["--skip-provider-lock"] if "TF_CLI_CONFIG_FILE" in env else []
        self._session = boto3.session.Session()
        self._client_config = Config(s3={"addressing_style": "path"} if config.s3_use_path_style else {})
        # Where bootstrap's state lives while it cannot be in the bucket (first deploy, teardown).
        self.bootstrap_local_state = REPO / ".local" / f"bootstrap-{config.state_bucket}.tfstate"

    # --- cdktf and terraform ------------------------------------------------------

    def synth(self) -> None:
        """Synthesize into the synth directory, and record from which inputs.

        The inputs are read before the synth starts, so an edit made during it makes the
        next command synthesize again; the old record goes first, so a synth that stops
        part-way leaves none.
        """
        inputs = synth_inputs_digest(self.config)
        record = self.outdir / SYNTH_INPUTS_RECORD
        record.unlink(missing_ok=True)
        self.outdir.parent.mkdir(parents=True, exist_ok=True)  # cdktf makes only the last directory
        self._run([str(CDKTF), "synth", "--app", f"{sys.executable} main.py", "--output", str(self.outdir)], cwd=REPO)
        record.write_text(inputs + "\n")

    def synth_unless_current(self) -> None:
        """Synthesize, unless the synth directory holds the synth of exactly the current inputs."""
        if self.synth_is_current():
            print(f"{self.outdir}: synthesized from these inputs already ({SYNTH_INPUTS_RECORD}); not synthesizing again")
            return
        self.synth()

    def synth_is_current(self) -> bool:
        record = self.outdir / SYNTH_INPUTS_RECORD
        return record.is_file() and record.read_text().strip() == synth_inputs_digest(self.config)

    def cdktf(self, verb: str, *stacks: str) -> None:
        """``cdktf <verb> <stacks>`` on the synthesized stacks, without prompting."""
        flags = ["--skip-synth", "--output", str(self.outdir), *self.cli_flags]
        if verb in ("deploy", "destroy"):
            flags.append("--auto-approve")
        self._run([str(CDKTF), verb, *stacks, "--app", f"{sys.executable} main.py", *flags], cwd=REPO)

    def terraform(self, stack: str, *args: str, data_dir: Path | None = None) -> None:
        """Terraform in the stack's directory; ``data_dir`` in place of its ``.terraform`` (TF_DATA_DIR)."""
        env = self.env if data_dir is None else {**self.env, "TF_DATA_DIR": str(data_dir)}
        self._run(["terraform", *args, "-input=false"], cwd=self.stack_dir(stack), env=env)

    def _run(self, command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
        result = subprocess.run(command, cwd=cwd, env=env or self.env)
        if result.returncode != 0:
            raise DeployError(f"`{' '.join(command[:3])} …` failed (exit {result.returncode}) in {cwd}")

    # --- the synthesized Terraform ------------------------------------------------

    def stack_dir(self, stack: str) -> Path:
        return self.outdir / "stacks" / stack

    def document(self, stack: str) -> dict[str, Any]:
        return json.loads((self.stack_dir(stack) / "cdk.tf.json").read_text())

    def state_key(self, stack: str) -> str:
        return self.document(stack)["terraform"]["backend"]["s3"]["key"]

    def upstream(self, stack: str) -> list[str]:
        """The stacks whose outputs ``stack`` reads (cdktf's remote-state reads)."""
        stack_by_key = {self.state_key(s): s for s in self.all_stacks()}
        reads = self.document(stack).get("data", {}).get("terraform_remote_state", {}).values()
        return [stack_by_key[read["config"]["key"]] for read in reads]

    def all_stacks(self) -> list[str]:
        return sorted(p.name for p in (self.outdir / "stacks").iterdir() if (p / "cdk.tf.json").is_file())

    @contextmanager
    def local_backend(
        self,
        stack: str,
        state: Path,
        imports: Sequence[dict[str, str]] = (),
        *,
        migrate: bool = False,
        data_dir: Path | None = None,
    ) -> Iterator[None]:
        """Run ``stack`` on a local state file (and optional import blocks) instead of its S3 backend.

        Terraform override files replace the backend block of the synthesized configuration
        (https://developer.hashicorp.com/terraform/language/files/override); they are removed
        again afterwards, so the next ``init`` sees the S3 backend. ``migrate`` copies the
        current (S3) state into the local file first. ``data_dir`` keeps this backend out of
        the stack's ``.terraform``, which cdktf then finds still on S3.
        """
        state.parent.mkdir(parents=True, exist_ok=True)
        written = [self.stack_dir(stack) / "local_backend_override.tf.json"]
        written[0].write_text(json.dumps({"terraform": {"backend": {"local": {"path": str(state)}}}}))
        if imports:
            written.append(self.stack_dir(stack) / "adopt_imports.tf.json")
            written[1].write_text(json.dumps({"import": list(imports)}))
        try:
            init = ("-migrate-state", "-force-copy") if migrate else ("-reconfigure",)
            self.terraform(stack, "init", *init, data_dir=data_dir)
            yield
        finally:
            for path in written:
                path.unlink(missing_ok=True)

    # --- AWS ----------------------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        return self._session.client(service, region_name=region, config=self._client_config)

    def bucket_status(self) -> str:
        """``ours``, ``missing``, or ``foreign`` (the name is taken by another account)."""
        try:
            self.client("s3", self.config.primary_region).head_bucket(Bucket=self.config.state_bucket)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("404", "NoSuchBucket", "NotFound"):
                return "missing"
            if code in ("403", "AccessDenied", "Forbidden"):
                return "foreign"
            raise
        return "ours"

    def has_state(self, stack: str) -> bool:
        try:
            self.client("s3", self.config.primary_region).head_object(Bucket=self.config.state_bucket, Key=self.state_key(stack))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def require_bucket_not_foreign(self, status: str) -> None:
        if status == "foreign":
            raise DeployError(
                f"STATE_BUCKET: the bucket {self.config.state_bucket!r} exists but this account may not use it "
                "(bucket names are global); set STATE_BUCKET to another name, or leave it unset for "
                "<PROJECT_NAME>-tfstate-<account id>-<PRIMARY_AWS_REGION>"
            )

    # --- deploy -------------------------------------------------------------------

    def deploy(self, stacks: Sequence[str]) -> None:
        self.synth_unless_current()
        if BOOTSTRAP in stacks:
            self.deploy_bootstrap()
        rest = [s for s in stacks if s != BOOTSTRAP]
        if rest:
            self.cdktf("deploy", *rest)

    def deploy_bootstrap(self) -> None:
        status = self.bucket_status()
        self.require_bucket_not_foreign(status)
        if status == "ours" and self.has_state(BOOTSTRAP) and not self.bootstrap_local_state.exists():
            self.cdktf("deploy", BOOTSTRAP)
            return
        imports: list[dict[str, str]] = []
        if status == "missing":
            print(f"bootstrap: creating the state bucket {self.config.state_bucket}; its state moves into it afterwards")
        elif self.bootstrap_local_state.exists():
            print(f"bootstrap: finishing with the local state {self.bootstrap_local_state}")
        else:
            imports = self.adoption_imports()
            print(f"bootstrap: the state bucket {self.config.state_bucket} exists without its state: importing it")
        with self.local_backend(BOOTSTRAP, self.bootstrap_local_state, imports):
            self.terraform(BOOTSTRAP, "apply", "-auto-approve")
        # Back to the S3 backend, copying the local state into the bucket.
        self.terraform(BOOTSTRAP, "init", "-migrate-state", "-force-copy")
        for path in (
            self.bootstrap_local_state,
            self.bootstrap_local_state.with_name(self.bootstrap_local_state.name + ".backup"),
        ):
            path.unlink(missing_ok=True)
        print(f"bootstrap: state now in s3://{self.config.state_bucket}/{self.state_key(BOOTSTRAP)}")

    def adoption_imports(self) -> list[dict[str, str]]:
        """One import block per resource of the bootstrap stack, each identified by the bucket's name."""
        imports = []
        for resource_type, resources in self.document(BOOTSTRAP).get("resource", {}).items():
            if not resource_type.startswith(ADOPTABLE_PREFIX):
                raise DeployError(f"bootstrap: cannot adopt a {resource_type} (only the bucket and its configurations)")
            for name, body in resources.items():
                imports.append({"to": f"{resource_type}.{name}", "id": self.config.state_bucket, "provider": body["provider"]})
        return imports

    # --- diff ---------------------------------------------------------------------

    def diff(self, stacks: Sequence[str]) -> None:
        self.synth_unless_current()
        status = self.bucket_status()
        self.require_bucket_not_foreign(status)
        deployed = {s for s in self.all_stacks() if status == "ours" and self.has_state(s)}
        for stack in stacks:
            missing = [s for s in self.upstream(stack) if s not in deployed]
            if missing:
                print(
                    f"\n{stack}: no plan yet: it reads the outputs of {', '.join(missing)}, not deployed yet; "
                    f"`make deploy` creates every resource of {stack} after {'them' if len(missing) > 1 else 'it'}\n"
                )
            elif stack == BOOTSTRAP and stack not in deployed:
                self.plan_locally(stack, self.bootstrap_local_state if self.bootstrap_local_state.exists() else None)
            elif status == "missing":
                self.plan_locally(stack, None)
            else:
                self.cdktf("diff", stack)

    def plan_locally(self, stack: str, state: Path | None) -> None:
        """Plan against an empty (or the given local) state: the stack's backend does not exist yet."""
        print(
            f"\n{stack}: planned against {'the local state ' + str(state) if state else 'an empty state'} "
            f"(no state in s3://{self.config.state_bucket} yet)"
        )
        preview = self.outdir / "preview" / stack
        shutil.rmtree(preview, ignore_errors=True)
        imports = self.adoption_imports() if stack == BOOTSTRAP and state is None and self.bucket_status() == "ours" else []
        try:
            with self.local_backend(stack, state or preview / "empty.tfstate", imports, data_dir=preview / "data"):
                self.terraform(stack, "plan", "-lock=false", data_dir=preview / "data")
        finally:
            shutil.rmtree(preview, ignore_errors=True)

    # --- destroy ------------------------------------------------------------------

    def destroy(self, stacks: Sequence[str]) -> None:
        self.synth_unless_current()
        first = [s for s in stacks if s not in (FOUNDATION, BOOTSTRAP)]
        if first:
            self.cdktf("destroy", *first)
        if FOUNDATION in stacks:
            self.wait_for_accelerator_cleanup()
            # Its dependants are destroyed by now (or were never deployed).
            self.cdktf("destroy", FOUNDATION, "--ignore-missing-stack-dependencies")
        if BOOTSTRAP in stacks:
            self.destroy_bootstrap()

    def destroy_bootstrap(self) -> None:
        """Move bootstrap's state out of the bucket it is about to delete, then destroy it."""
        if not self.bootstrap_local_state.exists():
            self.terraform(BOOTSTRAP, "init", "-reconfigure")
            with self.local_backend(BOOTSTRAP, self.bootstrap_local_state, migrate=True):
                pass
        with self.local_backend(BOOTSTRAP, self.bootstrap_local_state):
            self.terraform(BOOTSTRAP, "destroy", "-auto-approve")
        self.bootstrap_local_state.unlink(missing_ok=True)

    def wait_for_accelerator_cleanup(self) -> None:
        """Wait (bounded) until no Global Accelerator interface or security group is left in our VPCs."""
        deadline = time.monotonic() + ACCELERATOR_CLEANUP_TIMEOUT_SECONDS
        announced = False
        while True:
            left = self.accelerator_leftovers()
            if not left:
                if announced:
                    print("Global Accelerator's network interfaces are gone")
                return
            if time.monotonic() > deadline:
                raise DeployError(
                    "foundation not destroyed: Global Accelerator has not yet deleted what it created for client IP "
                    f"preservation ({', '.join(left)}) after {ACCELERATOR_CLEANUP_TIMEOUT_SECONDS // 60} minutes; "
                    "the subnets cannot be deleted before. Run `make destroy` again later."
                )
            if not announced:
                print(
                    f"waiting for Global Accelerator to delete {', '.join(left)} (it does so minutes after its "
                    f"endpoint groups are gone; at most {ACCELERATOR_CLEANUP_TIMEOUT_SECONDS // 60} minutes)",
                    flush=True,
                )
                announced = True
            time.sleep(ACCELERATOR_POLL_SECONDS)

    def accelerator_leftovers(self) -> list[str]:
        """``region/id`` of every accelerator-made interface and security group in this project's VPCs."""
        left = []
        for region in self.config.regions:
            ec2 = self.client("ec2", region)
            vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Project", "Values": [self.config.project_name]}])["Vpcs"]
            if not vpcs:
                continue
            in_vpcs = [{"Name": "vpc-id", "Values": [v["VpcId"] for v in vpcs]}]
            for interface in ec2.describe_network_interfaces(Filters=in_vpcs)["NetworkInterfaces"]:
                if interface.get("InterfaceType") == ACCELERATOR_INTERFACE_TYPE or _tagged(interface.get("TagSet", [])):
                    left.append(f"{region}/{interface['NetworkInterfaceId']}")
            for group in ec2.describe_security_groups(Filters=in_vpcs)["SecurityGroups"]:
                if _tagged(group.get("Tags", [])):
                    left.append(f"{region}/{group['GroupId']}")
        return left

    # --- output -------------------------------------------------------------------

    def output(self, stacks: Sequence[str]) -> None:
        self.cdktf("output", *stacks)


def synth_inputs_digest(config: DeploymentConfig, repo: Path = REPO) -> str:
    """sha256 of what the synthesized Terraform depends on: a synth of equal inputs writes the same files.

    The configuration is taken as resolved (environment, ``cdktf.json`` context, defaults),
    so a setting changed in either place, or a default changed in ``config/``, counts. The
    app's build context counts only when the image is built from it (``APP_IMAGE`` unset):
    its digest is the image tag in the app stack.
    """
    digest = hashlib.sha256(repr(config).encode())
    sources = [repo / name for name in SYNTH_SOURCES]
    sources += sorted(path for package in SYNTH_SOURCE_PACKAGES for path in (repo / package).rglob("*.py"))
    for path in sources:
        digest.update(f"\0{path.relative_to(repo)}\0".encode())
        digest.update(path.read_bytes())
    if config.app_image is None:  # the architecture is in the configuration already
        digest.update(source_digest(repo / "app", platform=config.cpu_architecture).encode())
    return digest.hexdigest()


def _tagged(tags: list[dict[str, str]]) -> bool:
    key, value = ACCELERATOR_TAG
    return any(t.get("Key") == key and t.get("Value") == value for t in tags)


def environment() -> tuple[DeploymentConfig, dict[str, str]]:
    """The configuration and the environment of every command, ``STATE_BUCKET`` defaulted."""
    env = dict(os.environ)
    context = json.loads((REPO / "cdktf.json").read_text()).get("context", {})
    config = load_config(env, context)
    if "STATE_BUCKET" not in env and "STATE_BUCKET" not in context:
        try:
            account = boto3.client("sts", region_name=config.primary_region).get_caller_identity()["Account"]
        except (BotoCoreError, ClientError) as error:  # no credentials, no network: say which setting avoids the call
            raise DeployError(
                f"STATE_BUCKET is not set and the AWS account could not be read to derive it ({error}); "
                "set AWS credentials, or STATE_BUCKET"
            ) from None
        env["STATE_BUCKET"] = f"{config.project_name}-tfstate-{account}-{config.primary_region}"
        config = load_config(env, context)
    cli_config = subprocess.run(
        [str(REPO / "scripts" / "terraform-cli-config.sh")], capture_output=True, text=True, check=True
    ).stdout.strip()
    if cli_config:
        env["TF_CLI_CONFIG_FILE"] = cli_config
    return config, env


USAGE = "usage: scripts/cdktf.sh synth | state-bucket | deploy STACK... | diff STACK... | destroy STACK... | output STACK..."


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in ("synth", "state-bucket", "deploy", "diff", "destroy", "output"):
        print(USAGE, file=sys.stderr)
        return 2
    command, stacks = argv[0], list(argv[1:])
    try:
        config, env = environment()
        if command == "state-bucket":
            print(config.state_bucket)
            return 0
        runner = Stacks(config, env)
        if command == "synth":
            runner.synth()
        elif not stacks:
            print(USAGE, file=sys.stderr)
            return 2
        else:
            getattr(runner, command)(stacks)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except DeployError as error:
        print(f"\n{command} stopped: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
