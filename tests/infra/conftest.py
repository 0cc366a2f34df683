"""Synthesizes the whole app once per test session (loading the provider bindings takes ~20 s).

Two configurations cover the switches users flip: the defaults with a
prebuilt image, and an HTTPS, NAT-per-zone, build-from-source variant.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from config import DeploymentConfig, load_config

# cdktf's to_be_valid_terraform runs a plain `terraform init`; validation needs
# no state, and the state bucket does not exist here. Terraform reads extra
# init arguments from this variable (the jsii runtime copies it at cdktf's import).
os.environ["TF_CLI_ARGS_init"] = "-backend=false"  # noqa: SIM112 - Terraform spells it so
PRIMARY_CERTIFICATE = "arn:aws:acm:eu-west-2:123456789012:certificate/0f2b6a59-3d07-4c39-8a4f-6a1d3c1b2e90"
SECONDARY_CERTIFICATE = "arn:aws:acm:us-west-2:123456789012:certificate/7c1f0d1e-2a4b-4c5d-9e8f-0a1b2c3d4e5f"
PREBUILT_IMAGE = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/livebeats/app:v1"
APP_HOSTNAME = "live.example.com"


@dataclass
class Synthesized:
    """The Terraform JSON of every stack of one ``app.synth()``."""

    app: object
    outdir: Path

    def stack(self, name: str) -> dict:
        return json.loads((self.outdir / "stacks" / name / "cdk.tf.json").read_text())

    def text(self, name: str) -> str:
        return (self.outdir / "stacks" / name / "cdk.tf.json").read_text()

    def resources(self, stack: str, type_: str) -> dict[str, dict]:
        return self.stack(stack).get("resource", {}).get(type_, {})

    def one(self, stack: str, type_: str) -> dict:
        found = self.resources(stack, type_)
        assert len(found) == 1, f"expected one {type_} in {stack}, found {sorted(found)}"
        return next(iter(found.values()))


# One synth per configuration for the whole session, also for the suites that
# import these fixtures into their own conftest (tests/security).
_SYNTHESIZED: dict[DeploymentConfig, Synthesized] = {}


def _synth(config: DeploymentConfig, tmp_path_factory: pytest.TempPathFactory, name: str) -> Synthesized:
    if config not in _SYNTHESIZED:
        from main import build_app

        outdir = tmp_path_factory.mktemp(name)
        app = build_app(config, outdir=str(outdir))
        app.synth()
        _SYNTHESIZED[config] = Synthesized(app=app, outdir=outdir)
    return _SYNTHESIZED[config]


@pytest.fixture(scope="session")
def default_config() -> DeploymentConfig:
    return load_config({"APP_IMAGE": PREBUILT_IMAGE, "PRIMARY_AWS_REGION": "eu-west-2"}, {})


@pytest.fixture(scope="session")
def synthesized(default_config: DeploymentConfig, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return _synth(default_config, tmp_path_factory, "cdktf-default")


@pytest.fixture(scope="session")
def variant_config(default_config: DeploymentConfig) -> DeploymentConfig:
    return replace(
        default_config,
        app_image=None,
        nat_mode="per_az",
        az_count=3,
        primary_certificate_arn=PRIMARY_CERTIFICATE,
        secondary_certificate_arn=SECONDARY_CERTIFICATE,
        app_hostname=APP_HOSTNAME,  # HTTPS needs the name the certificates cover
        desired_count=2,
        max_count=2,
        container_insights=True,
        throwaway=True,
        s3_use_path_style=True,
        public_profiles=True,
    )


@pytest.fixture(scope="session")
def variant(variant_config: DeploymentConfig, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return _synth(variant_config, tmp_path_factory, "cdktf-variant")
