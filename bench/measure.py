"""The measurement every fan-out benchmark here shares: listeners, actions, figures.

`Listener` is one page: a raw asyncio protocol with a minimal WebSocket
framing (no library), so that 5,000 of them in one client process cost less
than the server they measure (`act` prints both CPU figures). `act` sends the
owner's actions one after another, each once every listener got the last, and
records when each listener received each; `report` prints, per server process,
memory per connection and owner action -> receipt percentiles. `send_floor`
runs `send_floor.py` for the kernel's cost of one small send per socket.
Everything runs on 127.0.0.1; the servers are pinned to CPU 0, the client to CPU 1.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "app"))

SEQ_MARK = b'"seq":'
RT_PRIORITY = 10
"""SCHED_FIFO priority for --rt runs; the kernel still leaves 5% of each core to others."""


class Listener(asyncio.Protocol):
    """One browser tab: a WebSocket that records when each numbered event arrives."""

    arrivals: collections.Counter[int] = collections.Counter()
    """Receipts per event number over all listeners (of this class: a subclass may keep its own), so
    waiting costs O(1), not O(N)."""

    def __init__(self, path: str, port: int, cookie: str = "") -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n"
            + (f"Cookie: {cookie}\r\n" if cookie else "")
            + f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.closed = False
        self.close_code: int | None = None
        self.received: dict[int, float] = {}
        self.messages = 0
        self.last_message_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before the upgrade: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self.opened.set_exception(ConnectionError(status.decode()))
                return
            self.upgraded = True
            self.opened.set_result(None)
        while len(self.buffer) >= 2:
            opcode, length, offset = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                length, offset = int.from_bytes(self.buffer[2:4], "big"), 4
            elif length == 127:
                if len(self.buffer) < 10:
                    return
                length, offset = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < offset + length:
                return
            payload = bytes(self.buffer[offset : offset + length])
            del self.buffer[: offset + length]
            if opcode == 0x1:
                self.messages += 1
                self.last_message_at = now
                seq = self.event_number(payload)
                if seq is not None:
                    self.received[seq] = now
                    type(self).arrivals[seq] += 1
            elif opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                self.closed = True
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005

    def event_number(self, payload: bytes) -> int | None:
        """Which owner action this message reports, if any: the bench server echoes "seq"."""
        mark = payload.find(SEQ_MARK)
        if mark < 0:
            return None
        return int(payload[mark + len(SEQ_MARK) : payload.find(b"}", mark)])

    def send_text(self, text: str) -> None:
        self._send(0x1, text.encode())

    def _send(self, opcode: int, payload: bytes) -> None:
        """Client frames must be masked (RFC 6455); a zero mask keeps the payload as is."""
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
        assert self.transport is not None
        self.transport.write(header + b"\x00\x00\x00\x00" + payload)


@dataclass
class Node:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    listeners: list[Listener] = field(default_factory=list)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {self.name}")


def pinned(cpu: str, rt: bool) -> list[str]:
    """Command prefix: pin to `cpu`; with `rt`, also outrank other work there (SCHED_FIFO)."""
    return [*(["chrt", "-f", str(RT_PRIORITY)] if rt else []), "taskset", "-c", cpu]


def make_realtime() -> None:
    """Give this process SCHED_FIFO priority, so its receipt times are not other work's delays."""
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))


async def wait_for_port(node: Node, deadline: float) -> None:
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", node.port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline or node.process.poll() is not None:
                raise RuntimeError(f"server {node.name} did not start") from None
            await asyncio.sleep(0.1)


async def wait_quiet(listeners: list[Listener], quiet: float, limit: float) -> None:
    """Wait until joins have settled: no listener got anything for `quiet` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        last = max((listener.last_message_at for listener in listeners), default=0.0)
        if time.perf_counter() - last > quiet:
            return
        await asyncio.sleep(0.2)


def closed_by_server(listeners: list[Listener]) -> str:
    codes = collections.Counter(listener.close_code for listener in listeners if listener.closed)
    if not codes:
        return ""
    return " (closed: " + ", ".join(f"{count} with code {code}" for code, count in codes.items()) + ")"


def core_times() -> list[tuple[int, int]]:
    """(idle, total) jiffies per CPU, to see whether a core was saturated."""
    times = []
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3].isdigit():
            values = [int(v) for v in line.split()[1:]]
            times.append((values[3] + values[4], sum(values)))
    return times


def core_deltas(before: list[tuple[int, int]], after: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(a[0] - b[0], a[1] - b[1]) for b, a in zip(before, after, strict=True)]


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"min {ordered[0] * 1000:5.1f} ms  p50 {statistics.median(ordered) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  "
        f"max {ordered[-1] * 1000:6.1f} ms  ({len(ordered)} receipts)"
    )


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


@dataclass
class Actions:
    """What `act` saw: when each action was sent, and CPU seconds spent meanwhile."""

    sent_at: dict[int, float]
    server_cpu: dict[str, float]
    client_cpu: float
    messages: int
    """WebSocket messages the listeners received during the actions."""
    busy: str


@dataclass
class Side:
    """Servers, their listeners, and how to send action number n to them."""

    nodes: list[Node]
    listeners: list[Listener]
    send: Callable[[int], None]


async def act(
    nodes: list[Node], listeners: list[Listener], actions: int, send: Callable[[int], None], *, timeout: float = 10.0
) -> Actions:
    """Send action 0..actions-1 with `send`, each after every listener got the previous one (or `timeout`)."""
    return (await act_alternating([Side(nodes, listeners, send)], actions, timeout=timeout))[0]


async def act_alternating(sides: list[Side], actions: int, *, timeout: float = 10.0) -> list[Actions]:
    """Action n to each side in turn, then n+1: sides compared under the same load on a shared machine.

    Each side's CPU and messages are counted only while its own action is in
    flight; its listeners' class keeps its own `arrivals`.
    """
    cores_before = core_times()
    cpu = [{node.name: 0.0 for node in side.nodes} for side in sides]
    client = [0.0 for _ in sides]
    messages = [0 for _ in sides]
    sent_at: list[dict[int, float]] = [{} for _ in sides]
    for number in range(actions):
        for index, side in enumerate(sides):
            cpu_before = {node.name: node.cpu_seconds() for node in side.nodes}
            client_before = time.process_time()
            messages_before = sum(listener.messages for listener in side.listeners)
            arrivals = type(side.listeners[0]).arrivals
            sent_at[index][number] = time.perf_counter()
            side.send(number)
            wait_until = time.monotonic() + timeout
            while time.monotonic() < wait_until and arrivals[number] < len(side.listeners):
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.1)
            for node in side.nodes:
                cpu[index][node.name] += node.cpu_seconds() - cpu_before[node.name]
            client[index] += time.process_time() - client_before
            messages[index] += sum(listener.messages for listener in side.listeners) - messages_before
    busy = ", ".join(
        f"cpu{core} {100 * (1 - idle / total):.0f}%" for core, (idle, total) in enumerate(core_deltas(cores_before, core_times()))
    )
    return [
        Actions(sent_at=sent_at[index], server_cpu=cpu[index], client_cpu=client[index], messages=messages[index], busy=busy)
        for index in range(len(sides))
    ]


def latencies(listeners: list[Listener], run: Actions) -> tuple[list[float], int]:
    """(owner action -> receipt times, receipts missing) over `listeners`."""
    seen = [listener.received[n] - sent for listener in listeners for n, sent in run.sent_at.items() if n in listener.received]
    return seen, len(listeners) * len(run.sent_at) - len(seen)


def report(node: Node, group: list[Listener], run: Actions, baseline_kib: int, where: str) -> list[float]:
    """Print one server's figures; returns its receipt latencies."""
    rss = node.rss_kib()
    seen, missing = latencies(group, run)
    actions = len(run.sent_at)
    print(
        f"node {node.name} ({where}, {len(group)} listeners): RSS {baseline_kib / 1024:.0f} -> "
        f"{rss / 1024:.0f} MiB, {(rss - baseline_kib) / max(1, len(group)):.1f} KiB/connection; "
        f"missing receipts {missing}"
    )
    print(f"  owner action -> listener receipt: {percentiles(seen)}")
    print(f"  server CPU per action: {run.server_cpu[node.name] / actions * 1000:.0f} ms")
    return seen


def print_client_cost(run: Actions) -> None:
    actions = len(run.sent_at)
    print(
        f"benchmark client CPU per action: {run.client_cpu / actions * 1000:.0f} ms "
        f"(servers: {sum(run.server_cpu.values()) / actions * 1000:.0f} ms); "
        f"messages received per action: {run.messages / actions:.0f}; cores busy: {run.busy}"
    )


FLOOR = re.compile(r"median ([0-9.]+) us")


def send_floor(sockets: int) -> float:
    """Microseconds of CPU one 100-byte send() to one of `sockets` loopback sockets costs (send_floor.py)."""
    output = subprocess.run(
        [sys.executable, str(REPO / "bench" / "send_floor.py"), "--sockets", str(sockets)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    match = FLOOR.search(output)
    if match is None:
        raise RuntimeError(f"send_floor.py printed no median: {output!r}")
    return float(match.group(1))


@contextlib.asynccontextmanager
async def sampled(pid: int, output: str | None) -> AsyncIterator[None]:
    """py-spy samples process `pid` meanwhile, raw stacks to `output` (for a flame graph); nothing when None."""
    if output is None:
        yield
        return
    command = ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "250", "--nonblocking", "--output", output]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.sleep(1.0)  # py-spy attaches before the first action
    try:
        yield
    finally:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=30)


def run_main(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a benchmark's `main` on uvloop when it is installed, as the app's server runs, else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
