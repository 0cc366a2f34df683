"""Fan-out load benchmark: N WebSocket listeners on one profile, the owner plays/pauses.

Starts a throwaway PostgreSQL and one or two server processes (bench/server.py,
each pinned to CPU 0 with taskset), opens N listeners on one profile (all on
node A with the owner, split over nodes A and B, or all on node B), lets the
owner (on node A) play/pause, and prints connections held, server memory per
connection (RSS delta / N) and the latency from the owner's action to each
listener's receipt, same-node and cross-node.

The listeners are raw asyncio protocols with a minimal WebSocket framing
(no library): with 5,000 sockets in one client process, a full client library
would spend more time than the server and blur what is being measured. This
process pins itself to CPU 1. Only 127.0.0.1 is used.

    .venv/bin/python bench/fanout.py --listeners 5000 --scenario all
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "app"))

from livebeats.devdb import throwaway_postgres  # noqa: E402

SEQ_MARK = b'"seq":'
RT_PRIORITY = 10
"""SCHED_FIFO priority for --rt runs; the kernel still leaves 5% of each core to others."""


class Listener(asyncio.Protocol):
    """One browser tab: a WebSocket that records when each numbered event arrives."""

    arrivals: collections.Counter[int] = collections.Counter()
    """Receipts per event number over all listeners, so waiting costs O(1), not O(N)."""

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
            payload = bytes(self.buffer[offset: offset + length])
            del self.buffer[: offset + length]
            if opcode == 0x1:
                self.messages += 1
                self.last_message_at = now
                seq = self.event_number(payload)
                if seq is not None:
                    self.received[seq] = now
                    Listener.arrivals[seq] += 1
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
        return int(payload[mark + len(SEQ_MARK): payload.find(b"}", mark)])

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


@contextlib.contextmanager
def servers(dsn: str, count: int, *, cpu: str, ws: str, rt: bool) -> Iterator[list[Node]]:
    nodes = []
    try:
        for index in range(count):
            name, port = "AB"[index], 4101 + index
            command = [*pinned(cpu, rt), sys.executable, str(REPO / "bench" / "server.py"),
                       "--dsn", dsn, "--port", str(port), "--node-id", f"bench-{name}",
                       "--ws", ws]
            process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(REPO / "app")})
            nodes.append(Node(name, port, process))
        yield nodes
    finally:
        for node in nodes:
            node.process.terminate()
        for node in nodes:
            node.process.wait(timeout=30)


def pinned(cpu: str, rt: bool) -> list[str]:
    """Command prefix: pin to `cpu`; with `rt`, also outrank other work there (SCHED_FIFO)."""
    return [*(["chrt", "-f", str(RT_PRIORITY)] if rt else []), "taskset", "-c", cpu]


def make_realtime() -> None:
    """Give this process SCHED_FIFO priority, so its receipt times are not other work's delays."""
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))


async def open_listener(node: Node, user_id: int, *, owner: bool = False) -> Listener:
    loop = asyncio.get_running_loop()
    path = f"/live/1?user={user_id}" + ("&owner=1" if owner else "")
    _transport, listener = await loop.create_connection(lambda: Listener(path, node.port), "127.0.0.1", node.port)
    await asyncio.wait_for(listener.opened, 30)
    return listener


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
        last = max((l.last_message_at for l in listeners), default=0.0)
        if time.perf_counter() - last > quiet:
            return
        await asyncio.sleep(0.2)


def closed_by_server(listeners: list[Listener]) -> str:
    codes = collections.Counter(l.close_code for l in listeners if l.closed)
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
    return [(a[0] - b[0], a[1] - b[1]) for b, a in zip(before, after)]


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  "
            f"max {ordered[-1] * 1000:6.1f} ms  ({len(ordered)} receipts)")


SCENARIOS = {
    "one": (1, [0], "all listeners on node A, with the owner"),
    "split": (2, [0, 1], "listeners split evenly over node A (owner's) and node B"),
    "cross": (2, [1], "all listeners on node B, the owner on node A"),
}
"""name: (server processes, indexes of the nodes holding listeners, description)."""


async def ping_forever(listeners: list[Listener], interval: float) -> None:
    """Every listener pings once per `interval`, spread evenly, as open pages do (every 5 s)."""
    ticks = max(1, int(interval / 0.05))
    while True:
        for tick in range(ticks):
            for listener in listeners[tick::ticks]:
                if not listener.closed:
                    listener.send_text('{"action":"ping","ms":42}')
            await asyncio.sleep(interval / ticks)


async def run_scenario(dsn: str, scenario: str, *, listeners: int, actions: int, ws: str,
                       profile: str | None, rt: bool, ping_interval: float) -> None:
    Listener.arrivals.clear()
    nodes, holders, description = SCENARIOS[scenario]
    print(f"\n== {scenario}: {listeners} listeners, {description}, {actions} actions ==")
    with servers(dsn, nodes, cpu="0", ws=ws, rt=rt) as cluster:
        deadline = time.monotonic() + 30
        for node in cluster:
            await wait_for_port(node, deadline)
        owner = await open_listener(cluster[0], 0, owner=True)
        await asyncio.sleep(1.0)
        baseline = {node.name: node.rss_kib() for node in cluster}

        started = time.perf_counter()
        gate = asyncio.Semaphore(200)

        async def connect(user_id: int) -> None:
            node = cluster[holders[user_id % len(holders)]]
            async with gate:
                node.listeners.append(await open_listener(node, user_id))

        await asyncio.gather(*(connect(user_id) for user_id in range(1, listeners + 1)))
        print(f"connected {listeners} listeners in {time.perf_counter() - started:.1f} s")
        everyone = [l for node in cluster for l in node.listeners]
        await wait_quiet(everyone, quiet=1.5, limit=60)
        pinging = asyncio.create_task(ping_forever(everyone, ping_interval)) if ping_interval else None

        profiler = None
        if profile:
            profiler = subprocess.Popen(["py-spy", "record", "--pid", str(cluster[0].process.pid),
                                         "--format", "raw", "--rate", "250", "--nonblocking",
                                         "--output", profile],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(1.0)
        cpu_before = {node.name: node.cpu_seconds() for node in cluster}
        cores_before = core_times()
        client_cpu_before = time.process_time()
        sent_at: dict[int, float] = {}
        for seq in range(actions):
            sent_at[seq] = time.perf_counter()
            owner.send_text(json.dumps({"action": "play" if seq % 2 == 0 else "pause", "seq": seq}))
            wait_until = time.monotonic() + 5
            while time.monotonic() < wait_until and Listener.arrivals[seq] < len(everyone):
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.1)

        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        client_cpu = time.process_time() - client_cpu_before
        if pinging is not None:
            pinging.cancel()
        busy = [f"cpu{core} {100 * (1 - idle / total):.0f}%"
                for core, (idle, total) in enumerate(core_deltas(cores_before, core_times()))]
        held = sum(not l.closed for l in everyone)
        print(f"connections held: {held} of {listeners}{closed_by_server(everyone)}")
        for node in cluster:
            if not node.listeners:
                continue
            rss = node.rss_kib()
            per_connection = (rss - baseline[node.name]) / max(1, len(node.listeners))
            where = "same-node" if node is cluster[0] else "cross-node"
            latencies = [l.received[seq] - sent_at[seq] for l in node.listeners
                         for seq in sent_at if seq in l.received]
            missing = sum(1 for l in node.listeners for seq in sent_at if seq not in l.received)
            print(f"node {node.name} ({where}, {len(node.listeners)} listeners): "
                  f"RSS {baseline[node.name] / 1024:.0f} -> {rss / 1024:.0f} MiB, "
                  f"{per_connection:.1f} KiB/connection; missing receipts {missing}")
            print(f"  owner action -> listener receipt: {percentiles(latencies)}")
            print(f"  server CPU per action: {(node.cpu_seconds() - cpu_before[node.name]) / actions * 1000:.0f} ms")
        print(f"benchmark client CPU per action: {client_cpu / actions * 1000:.0f} ms; "
              f"cores busy during the actions: {', '.join(busy)}")
        for listener in [owner, *everyone]:
            if listener.transport is not None:
                listener.transport.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=5000)
    parser.add_argument("--actions", type=int, default=20, help="play/pause actions per scenario")
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all",
                        help="; ".join(f"{name}: {text}" for name, (_n, _h, text) in SCENARIOS.items()))
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn WebSocket implementation")
    parser.add_argument("--profile", help="write py-spy's raw (collapsed) samples of node A here")
    parser.add_argument("--ping-interval", type=float, default=0.0,
                        help="seconds between each listener's pings during the actions (pages: 5); 0: none")
    parser.add_argument("--rt", action="store_true",
                        help="run servers and this client with SCHED_FIFO priority (root), so other "
                             "work on a shared machine does not inflate the latencies")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.sched_setaffinity(0, {1})
    if args.rt:
        make_realtime()
    with throwaway_postgres() as dsn:
        for scenario in SCENARIOS if args.scenario == "all" else [args.scenario]:
            await run_scenario(dsn, scenario, listeners=args.listeners, actions=args.actions, ws=args.ws,
                               profile=args.profile if scenario == "one" else None, rt=args.rt,
                               ping_interval=args.ping_interval)


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
