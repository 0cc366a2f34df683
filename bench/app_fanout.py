"""Fan-out load benchmark against the real app (`python -m livebeats serve`).

The same measurement as fanout.py, but through everything a browser goes
through: development sign-in (session cookie), `/live?profile=<owner>` with
the page's Origin, the app's LiveConnection, and the owner's play/pause as
WebSocket commands that update PostgreSQL and publish a `playback` event,
which the app renders once per event and node for every listening page.

Listeners are made to listen to the owner's profile by setting
`users.active_profile_user_id` in the throwaway database before they connect
(a page restores the listened-to profile the same way on reload); the owner's
song is inserted directly, since uploading is not what is measured.

    .venv/bin/python bench/app_fanout.py --listeners 2000 --scenario all
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import asyncpg

from fanout import (REPO, Listener, Node, closed_by_server, core_deltas, core_times, percentiles,
                    wait_for_port, wait_quiet)
from livebeats.devdb import throwaway_postgres

CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
PLAYBACK = b'"type":"playback"'


class PageListener(Listener):
    """A listener's page: the k-th `playback` message reports the owner's k-th action."""

    def __init__(self, path: str, port: int, cookie: str) -> None:
        super().__init__(path, port, cookie)
        self.playbacks = 0

    def event_number(self, payload: bytes) -> int | None:
        if PLAYBACK not in payload:
            return None
        self.playbacks += 1
        return self.playbacks - 1


async def http(port: int, method: str, path: str, *, cookie: str = "",
               form: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """One HTTP/1.1 request on its own connection; returns (status, session cookie, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = urlencode(form).encode() if form else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    if form:
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    response = await reader.read()
    writer.close()
    headers, _, content = response.partition(b"\r\n\r\n")
    lines = headers.decode().split("\r\n")
    session = next((line.split(":", 1)[1].strip().split(";", 1)[0] for line in lines[1:]
                    if line.lower().startswith("set-cookie:") and "livebeats_session=" in line), "")
    return int(lines[0].split()[1]), session, content


async def sign_in(port: int, username: str) -> str:
    _status, cookie, page = await http(port, "GET", "/signin")
    match = CSRF.search(page)
    if match is None:
        raise RuntimeError("no development sign-in form on /signin (is DEV_SIGNIN on?)")
    status, signed_in, _ = await http(port, "POST", "/dev/signin", cookie=cookie,
                                      form={"username": username, "csrf_token": match.group(1).decode()})
    if status != 303 or not signed_in:
        raise RuntimeError(f"sign-in of {username} failed with HTTP {status}")
    return signed_in


@contextlib.contextmanager
def app_servers(env: dict[str, str], count: int, *, cpu: str, logs: Path) -> Iterator[list[Node]]:
    nodes = []
    try:
        for index in range(count):
            name, port = "AB"[index], 4201 + index
            region = ("eu-west-2", "us-east-1")[index]
            log = (logs / f"server-{name}.log").open("wb")
            process = subprocess.Popen(
                ["taskset", "-c", cpu, sys.executable, "-m", "livebeats", "serve"],
                cwd=REPO / "app", stdout=log, stderr=subprocess.STDOUT,
                env={**env, "PORT": str(port), "AWS_REGION": region},
            )
            nodes.append(Node(name, port, process))
        yield nodes
    finally:
        for node in nodes:
            node.process.terminate()
        for node in nodes:
            node.process.wait(timeout=30)


async def open_page(node: Node, path: str, cookie: str) -> PageListener:
    loop = asyncio.get_running_loop()
    _transport, page = await loop.create_connection(
        lambda: PageListener(path, node.port, cookie), "127.0.0.1", node.port)
    await asyncio.wait_for(page.opened, 120)
    return page


async def run_scenario(env: dict[str, str], dsn: str, cookies: dict[str, str], *, listeners: int,
                       nodes: int, actions: int, logs: Path, profile: str | None) -> None:
    Listener.arrivals.clear()
    print(f"\n== app: {listeners} listeners on {nodes} node(s), owner on node A, {actions} actions ==")
    db = await asyncpg.connect(dsn)
    with app_servers(env, nodes, cpu="0", logs=logs) as cluster:
        deadline = time.monotonic() + 60
        for node in cluster:
            await wait_for_port(node, deadline)
        if not cookies:
            cookies["owner"] = await sign_in(cluster[0].port, "owner")
            gate = asyncio.Semaphore(32)

            async def register(number: int) -> None:
                async with gate:
                    cookies[f"bench{number}"] = await sign_in(cluster[0].port, f"bench{number}")

            started = time.perf_counter()
            await asyncio.gather(*(register(number) for number in range(1, listeners + 1)))
            print(f"signed in {listeners} users in {time.perf_counter() - started:.1f} s")
        owner_id = await db.fetchval("SELECT id FROM users WHERE username = 'owner'")
        song_id = await db.fetchval("SELECT id FROM songs WHERE user_id = $1", owner_id) or await db.fetchval(
            "INSERT INTO songs (user_id, title, artist, duration, position, storage_key, file_size) "
            "VALUES ($1, 'Bench', 'Load', 180, 0, 'bench.mp3', 1) RETURNING id", owner_id)
        await db.execute("UPDATE songs SET status = 'stopped', played_at = NULL, paused_at = NULL")
        await db.execute("UPDATE users SET active_profile_user_id = $1 WHERE username LIKE 'bench%'", owner_id)

        path = f"/live?profile={owner_id}"
        owner = await open_page(cluster[0], path, cookies["owner"])
        await asyncio.sleep(1.0)
        baseline = {node.name: node.rss_kib() for node in cluster}
        gate = asyncio.Semaphore(50)
        pages: dict[str, list[PageListener]] = {node.name: [] for node in cluster}

        refused: collections.Counter[str] = collections.Counter()

        async def connect(number: int) -> None:
            node = cluster[number % nodes]
            async with gate:
                try:
                    pages[node.name].append(await open_page(node, path, cookies[f"bench{number}"]))
                except (OSError, asyncio.TimeoutError) as error:
                    refused[f"node {node.name}: {error!r}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(connect(number) for number in range(1, listeners + 1)))
        print(f"connected {listeners - sum(refused.values())} of {listeners} listeners "
              f"in {time.perf_counter() - started:.1f} s")
        for error, count in refused.items():
            print(f"  refused {count}x: {error}")
        if refused:
            for node in cluster:
                tail = (logs / f"server-{node.name}.log").read_text(errors="replace").splitlines()[-15:]
                print(f"  last lines of node {node.name}'s log:", *tail, sep="\n    ")
        everyone = [page for group in pages.values() for page in group]
        await wait_quiet(everyone, quiet=2.0, limit=120)

        profiler = None
        if profile:
            profiler = subprocess.Popen(
                ["py-spy", "record", "--pid", str(cluster[0].process.pid), "--format", "raw",
                 "--rate", "250", "--nonblocking", "--output", profile],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(1.0)
        cpu_before = {node.name: node.cpu_seconds() for node in cluster}
        cores_before = core_times()
        sent_at: dict[int, float] = {}
        for number in range(actions):
            sent_at[number] = time.perf_counter()
            owner.send_text(json.dumps({"type": "play" if number % 2 == 0 else "pause", "song_id": song_id}))
            wait_until = time.monotonic() + 10
            while time.monotonic() < wait_until and Listener.arrivals[number] < len(everyone):
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.1)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        busy = [f"cpu{core} {100 * (1 - idle / total):.0f}%"
                for core, (idle, total) in enumerate(core_deltas(cores_before, core_times()))]

        print(f"connections held: {sum(not page.closed for page in everyone)} of {listeners}"
              f"{closed_by_server(everyone)}")
        for node in cluster:
            group = pages[node.name]
            rss = node.rss_kib()
            where = "same-node" if node is cluster[0] else "cross-node"
            latencies = [page.received[n] - sent_at[n] for page in group for n in sent_at if n in page.received]
            missing = sum(1 for page in group for n in sent_at if n not in page.received)
            print(f"node {node.name} ({where}, {len(group)} listeners): RSS {baseline[node.name] / 1024:.0f} -> "
                  f"{rss / 1024:.0f} MiB, {(rss - baseline[node.name]) / max(1, len(group)):.1f} KiB/connection; "
                  f"missing receipts {missing}")
            print(f"  owner action -> listener receipt: {percentiles(latencies)}")
            print(f"  server CPU per action: {(node.cpu_seconds() - cpu_before[node.name]) / actions * 1000:.0f} ms")
        print(f"cores busy during the actions: {', '.join(busy)}")
        for page in [owner, *everyone]:
            if page.transport is not None:
                page.transport.close()
    await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=5000)
    parser.add_argument("--actions", type=int, default=20, help="play/pause actions per scenario")
    parser.add_argument("--scenario", choices=["one", "split", "all"], default="all",
                        help="one: all listeners on node A with the owner; split: half on node B")
    parser.add_argument("--profile", help="write py-spy's raw (collapsed) samples of node A here")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.sched_setaffinity(0, {1})
    with throwaway_postgres() as dsn, tempfile.TemporaryDirectory(prefix="livebeats-bench-") as scratch:
        env = {
            **os.environ, "DATABASE_URL": dsn, "SECRET_KEY_BASE": secrets.token_urlsafe(48),
            "APP_ENV": "development", "DEV_SIGNIN": "true", "HOST": "127.0.0.1",
            "STORAGE_DIR": scratch, "POOL_SIZE": "10", "PYTHONPATH": str(REPO / "app"),
        }
        migrated = subprocess.run([sys.executable, "-m", "livebeats", "migrate"], cwd=REPO / "app",
                                  env=env, capture_output=True, text=True)
        if migrated.returncode != 0:
            raise SystemExit(f"migration failed: {migrated.stderr}")
        cookies: dict[str, str] = {}
        runs = {"one": [1], "split": [2], "all": [1, 2]}[args.scenario]
        for nodes in runs:
            await run_scenario(env, dsn, cookies, listeners=args.listeners, nodes=nodes,
                               actions=args.actions, logs=Path(scratch),
                               profile=args.profile if nodes == 1 else None)


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
