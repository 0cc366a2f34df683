"""What a user meets before anything is deployed: the state bucket's name, ``make diff``,
deploying asking for nothing but what deploying needs, and a state bucket left by an
earlier version (its state lost) being adopted.

Runs on the session's emulator before ``deployment`` deploys into it (this file sorts first).
"""

from __future__ import annotations

import subprocess

import boto3

from tests.deploy.conftest import REPO, Deployment, fresh_clone
from tests.emulator.launch import running_emulator


def state_bucket(undeployed: Deployment, **settings: str) -> str:
    env = {k: v for k, v in undeployed.env.items() if k != "STATE_BUCKET"} | settings
    result = subprocess.run(
        [str(REPO / "scripts" / "cdktf.sh"), "state-bucket"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_default_state_bucket_is_unique_per_account_and_region(undeployed: Deployment) -> None:
    # Bucket names are global: a fixed default would belong to whoever took it first.
    assert state_bucket(undeployed) == "livebeats-tfstate-123456789012-eu-west-2"
    assert state_bucket(undeployed, PRIMARY_AWS_REGION="eu-central-1", PROJECT_NAME="beats") == (
        "beats-tfstate-123456789012-eu-central-1"
    )
    assert state_bucket(undeployed, STATE_BUCKET="my-own-state") == "my-own-state"


def test_make_diff_before_the_first_deploy_plans_what_it_can_and_says_what_waits(undeployed: Deployment) -> None:
    output = undeployed.make("diff-before-deploy", "diff")
    bucket = undeployed.config.state_bucket
    for stack in ("bootstrap", "foundation"):
        assert f"{stack}: planned against an empty state (no state in s3://{bucket} yet)" in output
    assert output.count("to add, 0 to change, 0 to destroy") == 2, output[-4000:]
    assert "database: no plan yet: it reads the outputs of foundation, not deployed yet" in output
    assert "app: no plan yet" in output and "routing: no plan yet: it reads the outputs of app" in output
    # A preview creates nothing.
    assert undeployed.client("s3", undeployed.config.primary_region).list_buckets()["Buckets"] == []


def test_deploy_diff_and_destroy_install_no_system_packages(tmp_path) -> None:
    # A clone with nothing installed: what would make run? (-n: print, do not run)
    clone = fresh_clone(tmp_path / "clone", link_installed=False)
    for target in ("deploy", "diff", "destroy"):
        plan = subprocess.run(["make", "-n", target], cwd=clone, capture_output=True, text=True, check=True).stdout
        assert "sync --dev" in plan and "npm ci" in plan and "check-terraform.sh" in plan, plan
        for unwanted in ("install-system-packages", "apt-get", "postgresql", "chromium"):
            assert unwanted not in plan, f"make {target} would run {unwanted}:\n{plan}"


def test_a_state_bucket_without_its_state_is_adopted_not_created_again(undeployed: Deployment, tmp_path) -> None:
    # An earlier version kept bootstrap's state in cdktf.out/: on a fresh clone the bucket
    # exists and its state does not. Made here by deploying, then deleting that state, on an
    # emulator of its own (moto cannot empty a versioned bucket holding delete markers, so
    # this bucket cannot be destroyed there).
    with running_emulator(tmp_path / "emulator.log") as url:
        env = undeployed.env | {
            "AWS_ENDPOINT_URL": url,
            "STATE_BUCKET": "livebeats-adoption-check",
            "CDKTF_OUTPUT": str(tmp_path / "cdktf.out"),
        }
        s3 = boto3.client("s3", region_name="eu-west-2", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test")

        def cdktf_sh(*args: str) -> str:
            result = subprocess.run(
                [str(REPO / "scripts" / "cdktf.sh"), *args], cwd=REPO, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, f"scripts/cdktf.sh {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-4000:]}"
            return result.stdout

        first = cdktf_sh("deploy", "bootstrap")
        assert "creating the state bucket" in first and "not synthesizing again" not in first
        s3.delete_object(Bucket="livebeats-adoption-check", Key="livebeats/bootstrap.tfstate")

        adopted = cdktf_sh("deploy", "bootstrap")
        assert "exists without its state: importing it" in adopted and "7 imported, 0 added" in adopted, adopted[-4000:]
        assert "synthesized from these inputs already" in adopted, "the same inputs: the first deploy's synth is reused"
        plan = subprocess.run(
            ["terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color"],
            cwd=tmp_path / "cdktf.out" / "stacks" / "bootstrap",
            env=env,
            capture_output=True,
            text=True,
        )
        assert plan.returncode == 0, plan.stdout[-4000:] + plan.stderr
