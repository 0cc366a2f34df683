"""The default configuration's Terraform, synthesized once per session (the provider bindings take ~20 s to load)."""

from __future__ import annotations

import os

import pytest

from config import DeploymentConfig, load_config

DEFAULT_ENVIRONMENT = {"PRIMARY_AWS_REGION": "eu-west-2", "AWS_CONFIG_FILE": os.devnull}
"""What a user who sets nothing deploys (the README's figures are for eu-west-2 + us-west-2)."""


@pytest.fixture(scope="session")
def default_config() -> DeploymentConfig:
    return load_config(DEFAULT_ENVIRONMENT, {})


@pytest.fixture(scope="session")
def default_stacks(default_config: DeploymentConfig) -> dict[str, dict]:
    from pricing.__main__ import synthesized_stacks

    return synthesized_stacks(default_config)
