"""One emulator for the session, started as ``python -m emulator`` on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from tests.emulator.launch import running_emulator


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_emulator(tmp_path_factory.mktemp("emulator") / "emulator.log") as url:
        yield url


@pytest.fixture(scope="session")
def client(emulator_url: str) -> Callable[..., Any]:
    """``client("ec2", "eu-west-1")``: a boto3 client talking to the emulator."""

    def make(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=emulator_url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    return make
