"""Helpers for the realtime tests: polling with a deadline, node processes, inboxes."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from livebeats.devdb import POSTGRES_BIN_DIR

NODE_SCRIPT = Path(__file__).with_name("node_process.py")
APP_DIR = Path(__file__).resolve().parents[2]


async def wait_until(condition: Callable[[], Any], *, timeout: float, what: str) -> float:
    """Poll `condition` (sync or async) until true; returns the seconds it took.

    Fails the test after `timeout` seconds, so no test waits longer than it must.
    """
    started = time.monotonic()
    while not await _holds(condition):
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def _holds(condition: Callable[[], Any]) -> bool:
    result = condition()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


def free_port() -> int:
    """A local port nothing listens on (for a database that is not there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ClusterControl:
    """Stop, start and restart the cluster behind a DSN, as an operator would with pg_ctl."""

    def __init__(self, data_dir: str, options: str) -> None:
        self.data_dir = data_dir
        self.options = options

    @classmethod
    async def of(cls, dsn: str) -> ClusterControl:
        """Read where the cluster lives and how it was started, while it is up."""
        conn = await asyncpg.connect(dsn)
        try:
            data_dir = await conn.fetchval("SHOW data_directory")
        finally:
            await conn.close()
        started_with = shlex.split(Path(data_dir, "postmaster.opts").read_text())
        options = [arg for arg in started_with[1:] if arg not in ("-D", data_dir)]
        return cls(data_dir, shlex.join(options))

    async def stop(self) -> None:
        await self._pg_ctl("-m", "fast", "stop")

    async def start(self) -> None:
        await self._pg_ctl("-o", self.options, "start")

    async def restart(self) -> None:
        """Fast shutdown drops every connection, then the same server comes back."""
        await self._pg_ctl("-m", "fast", "restart")

    async def _pg_ctl(self, *args: str) -> None:
        command = [
            str(POSTGRES_BIN_DIR / "pg_ctl"),
            "-D",
            self.data_dir,
            "-w",
            "-l",
            str(Path(self.data_dir).parent / "postgres.log"),
            *args,
        ]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


class NodeProcess:
    """A hub in another OS process (see node_process.py), with its output collected."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append(json.loads(line))

    async def command(self, cmd: str, **fields: Any) -> None:
        """Send a command and wait until the node has carried it out."""
        done_before = sum(1 for line in self.lines if line.get("done") == cmd)
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        await self.process.stdin.drain()
        await wait_until(
            lambda: sum(1 for line in self.lines if line.get("done") == cmd) > done_before,
            timeout=10,
            what=f"node process to do {cmd}",
        )

    async def presence(self, topic: str) -> list[dict[str, Any]]:
        await self.command("presence", topic=topic)
        return [line["presence"] for line in self.lines if "presence" in line][-1]

    def received(self, client: str) -> list[dict[str, Any]]:
        return [line["message"] for line in self.lines if line.get("client") == client]

    def kill(self) -> None:
        """SIGKILL: the hub gets no chance to say goodbye."""
        self.process.send_signal(signal.SIGKILL)

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
        await self._reader


class Inbox:
    """Everything a client receives, collected by a background reader."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.messages: list[dict[str, Any]] = []
        self.closed = False
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while (message := await self.client.next_message()) is not None:
            self.messages.append(message)
        self.closed = True

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message.get("type") == kind]

    def stop(self) -> None:
        self._task.cancel()
