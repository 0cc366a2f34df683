"""One emulator for the session, started as ``python -m emulator`` on a free port.

Global Accelerator's interfaces linger ``GA_INTERFACE_LINGER_SECONDS`` there, so
a test sees them both block a subnet's deletion and go away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3
import pytest

from tests.emulator.launch import running_emulator

GA_INTERFACE_LINGER_SECONDS = 2.0


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with running_emulator(log, ga_interface_linger_seconds=GA_INTERFACE_LINGER_SECONDS) as url:
        yield url


@pytest.fixture(scope="session")
def client(emulator_url: str) -> Callable[..., Any]:
    """``client("ec2", "eu-west-1")``: a boto3 client talking to the emulator, as its
    administrator (keys test/test) or with ``credentials``, the ``Credentials`` of an
    STS AssumeRole answer."""

    def make(service: str, region: str = "us-east-1", credentials: Mapping[str, Any] | None = None) -> Any:
        keys = credentials or {"AccessKeyId": "test", "SecretAccessKey": "test"}
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=emulator_url,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys.get("SessionToken"),
        )

    return make
