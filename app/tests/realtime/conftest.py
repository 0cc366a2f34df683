"""Fixtures for the realtime tests: a real PostgreSQL, hubs, and node processes.

Every test gets its own NOTIFY channel, so hubs of one test never hear those
of another even though they share the cluster.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from livebeats.devdb import throwaway_postgres
from livebeats.realtime import RealtimeHub

from .support import APP_DIR, NODE_SCRIPT, NodeProcess, wait_until


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    with throwaway_postgres() as dsn:
        yield dsn


@pytest.fixture
def channel() -> str:
    return f"realtime_test_{uuid.uuid4().hex[:12]}"


@pytest_asyncio.fixture
async def make_hub(postgres_dsn: str, channel: str) -> AsyncIterator[Callable[..., Awaitable[RealtimeHub]]]:
    """Start hubs on the test's channel; all are stopped at the end of the test."""
    hubs: list[RealtimeHub] = []

    async def make(node_id: str, *, dsn: str | None = None, region: str = "eu-west-2", **options: Any) -> RealtimeHub:
        hub = RealtimeHub(dsn or postgres_dsn, node_id, region, channel=channel, **options)
        await hub.start()
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        await hub.stop()


@pytest_asyncio.fixture
async def spawn_node(postgres_dsn: str, channel: str) -> AsyncIterator[Callable[..., Awaitable[NodeProcess]]]:
    """Start hub processes on the test's channel; all are killed at the end of the test."""
    nodes: list[NodeProcess] = []

    async def spawn(node_id: str, *, region: str = "us-east-1", timings: tuple[float, ...] = ()) -> NodeProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(NODE_SCRIPT),
            postgres_dsn,
            node_id,
            region,
            channel,
            *map(str, timings),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(APP_DIR)},
        )
        node = NodeProcess(process)
        nodes.append(node)
        await wait_until(lambda: any("ready" in line for line in node.lines), timeout=20, what=f"node process {node_id} to start")
        return node

    yield spawn
    for node in nodes:
        await node.close()
