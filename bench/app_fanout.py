"""Fan-out load benchmark against the real app (`python -m livebeats serve`), beside its anchor.

Through everything a browser goes through: development sign-in (session
cookie), `/live?profile=<owner>` with the page's Origin, the app's live socket,
and the owner's play/pause as WebSocket commands that update PostgreSQL and
publish `playback` (then `active_users`) to every listening page.

In one run, with the same listeners (`measure.py`, on CPU 1) against servers
on CPU 0, it measures:
- the app: owner action -> every listener's `playback`, server CPU per
  delivered WebSocket message, memory per idle connection;
- a reconnect storm: every listener dropped at once, then reconnecting, until
  each has its `state` again (scenario one);
- the anchor (`anchor.py`): the `websockets` library's server `broadcast()`ing
  a frame of the same size to the same number of sockets;
- the floor (`send_floor.py`): one bare send() per socket;
and prints each target's figure beside it.

Listeners are made to listen to the owner's profile by setting
`users.active_profile_user_id` in the throwaway database before they connect
(a page restores the listened-to profile the same way on reload); the owner's
song is inserted directly, since uploading is not what is measured.

    .venv/bin/python bench/app_fanout.py --listeners 5000 --scenario all
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
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
from measure import (
    REPO,
    Actions,
    Listener,
    Node,
    Side,
    act_alternating,
    closed_by_server,
    p99,
    print_client_cost,
    report,
    run_main,
    sampled,
    send_floor,
    wait_for_port,
    wait_quiet,
)

from livebeats.devdb import throwaway_postgres

CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
PLAYBACK = b'"type":"playback"'
STATE = b'"type":"state"'
ANCHOR_PORT = 4301
CGROUP_CPU = Path("/sys/fs/cgroup/cpu")
CONNECTING_AT_ONCE = 500
"""Handshakes the client keeps in flight; more only overflows the servers' accept queues (SYN retries, 1 s)."""


class PageListener(Listener):
    """A listener's page: the k-th `playback` message reports the owner's k-th action."""

    def __init__(self, path: str, port: int, cookie: str) -> None:
        super().__init__(path, port, cookie)
        self.port = port
        self.playbacks = 0
        self.playback_size = 0
        self.synced: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def event_number(self, payload: bytes) -> int | None:
        if PLAYBACK not in payload:
            if STATE in payload and not self.synced.done():
                self.synced.set_result(time.perf_counter())
            return None
        self.playbacks += 1
        self.playback_size = len(payload)
        return self.playbacks - 1


async def http(
    port: int, method: str, path: str, *, cookie: str = "", form: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
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
    session = next(
        (
            line.split(":", 1)[1].strip().split(";", 1)[0]
            for line in lines[1:]
            if line.lower().startswith("set-cookie:") and "livebeats_session=" in line
        ),
        "",
    )
    return int(lines[0].split()[1]), session, content


async def sign_in(port: int, username: str) -> str:
    _status, cookie, page = await http(port, "GET", "/signin")
    match = CSRF.search(page)
    if match is None:
        raise RuntimeError("no development sign-in form on /signin (is DEV_SIGNIN on?)")
    status, signed_in, _ = await http(
        port, "POST", "/dev/signin", cookie=cookie, form={"username": username, "csrf_token": match.group(1).decode()}
    )
    if status != 303 or not signed_in:
        raise RuntimeError(f"sign-in of {username} failed with HTTP {status}")
    return signed_in


@contextlib.contextmanager
def cpu_quota(share: float | None) -> Iterator[Path | None]:
    """A cgroup (v1 cpu controller, root) whose processes get `share` of one core, as a Fargate task's vCPU.

    ECS's task-level cpu is the most CPU the task's containers may use
    (https://repost.aws/knowledge-center/ecs-cpu-allocation): 256 units = 0.25
    vCPU = 25 ms in every 100 ms period, so a burst of fan-out work is spread
    over four times as many milliseconds.
    """
    if share is None:
        yield None
        return
    group = CGROUP_CPU / f"livebeats-bench-{os.getpid()}"
    group.mkdir()
    try:
        period = int((group / "cpu.cfs_period_us").read_text())
        (group / "cpu.cfs_quota_us").write_text(str(int(period * share)))
        yield group
    finally:
        for pid in (group / "cgroup.procs").read_text().split():
            (CGROUP_CPU / "cgroup.procs").write_text(pid)
        group.rmdir()


@contextlib.contextmanager
def app_servers(env: dict[str, str], count: int, *, cpu: str, logs: Path, share: float | None = None) -> Iterator[list[Node]]:
    nodes = []
    try:
        for index in range(count):
            name, port = "AB"[index], 4201 + index
            region = ("eu-west-2", "us-east-1")[index]
            log = (logs / f"server-{name}.log").open("wb")
            process = subprocess.Popen(
                ["taskset", "-c", cpu, sys.executable, "-m", "livebeats", "serve"],
                cwd=REPO / "app",
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**env, "PORT": str(port), "AWS_REGION": region},
            )
            nodes.append(Node(name, port, process))
        with cpu_quota(share) as group:
            if group is not None:
                for node in nodes:
                    (group / "cgroup.procs").write_text(str(node.process.pid))
            yield nodes
    finally:
        for node in nodes:
            node.process.terminate()
        for node in nodes:
            node.process.wait(timeout=30)


class AnchorListener(PageListener):
    """A listener of the anchor, counted apart from the app's while both are connected."""

    arrivals: collections.Counter[int] = collections.Counter()


@contextlib.contextmanager
def anchor_server(logs: Path) -> Iterator[Node]:
    log = (logs / "anchor.log").open("wb")
    process = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, str(REPO / "bench" / "anchor.py"), "--port", str(ANCHOR_PORT)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield Node("anchor", ANCHOR_PORT, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def open_page(
    node: Node, path: str, cookie: str, *, synced: bool = False, kind: type[PageListener] = PageListener
) -> PageListener:
    """A page upgraded to a WebSocket; with `synced`, once it also got its `state`."""
    loop = asyncio.get_running_loop()
    _transport, page = await loop.create_connection(lambda: kind(path, node.port, cookie), "127.0.0.1", node.port)
    await asyncio.wait_for(page.opened, 120)
    if synced:
        await asyncio.wait_for(page.synced, 120)
    return page


async def connect_all(count: int, open_one: Callable[[int], Awaitable[PageListener]]) -> list[PageListener]:
    """Open pages 1..count, CONNECTING_AT_ONCE at a time; prints the refusals."""
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    refused: collections.Counter[str] = collections.Counter()
    pages: list[PageListener] = []

    async def connect(number: int) -> None:
        async with gate:
            try:
                pages.append(await open_one(number))
            except (OSError, TimeoutError) as error:
                refused[repr(error)] += 1

    await asyncio.gather(*(connect(number) for number in range(1, count + 1)))
    for error, times in refused.items():
        print(f"  refused {times}x: {error}")
    return pages


@dataclass
class Figures:
    """What the summary compares with the targets; filled in by the runs."""

    listeners: int
    app_p99: dict[str, float] = field(default_factory=dict)
    cpu_per_message_us: dict[str, float] = field(default_factory=dict)
    idle_kib: dict[str, float] = field(default_factory=dict)
    client_ms: float = float("nan")
    server_ms: float = float("nan")
    missing: int = 0
    held: int = 0
    playback_size: int = 0
    storm_s: float | None = None
    storm_synced: int = 0
    anchor_p99: float = float("nan")
    anchor_cpu_per_message_us: float = float("nan")
    anchor_baseline_kib: int = 0
    floor_us: float = float("nan")


def owner_command(song_id: int) -> Callable[[int], str]:
    return lambda number: json.dumps({"type": "play" if number % 2 == 0 else "pause", "song_id": song_id})


async def run_app(
    env: dict[str, str],
    dsn: str,
    cookies: dict[str, str],
    figures: Figures,
    *,
    nodes: int,
    actions: int,
    storm: bool,
    logs: Path,
    profile: str | None,
    share: float | None = None,
    anchor: bool = False,
) -> None:
    """The app's run; with `anchor`, the anchor's actions alternate with the app's (same load on the machine)."""
    listeners = figures.listeners
    Listener.arrivals.clear()
    AnchorListener.arrivals.clear()
    limit = f", each limited to {share} of a core" if share else ""
    print(f"\n== app: {listeners} listeners on {nodes} node(s){limit}, owner on node A, {actions} actions ==")
    db = await asyncpg.connect(dsn)
    with app_servers(env, nodes, cpu="0", logs=logs, share=share) as cluster:
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
            "VALUES ($1, 'Bench', 'Load', 180, 0, 'bench.mp3', 1) RETURNING id",
            owner_id,
        )
        await db.execute("UPDATE songs SET status = 'stopped', played_at = NULL, paused_at = NULL")
        await db.execute("UPDATE users SET active_profile_user_id = $1 WHERE username LIKE 'bench%'", owner_id)

        path = f"/live?profile={owner_id}"
        owner = await open_page(cluster[0], path, cookies["owner"])
        await asyncio.sleep(1.0)
        baseline = {node.name: node.rss_kib() for node in cluster}

        def open_listener(number: int) -> Awaitable[PageListener]:
            return open_page(cluster[number % nodes], path, cookies[f"bench{number}"], synced=True)

        started = time.perf_counter()
        everyone = await connect_all(listeners, open_listener)
        print(f"connected {len(everyone)} of {listeners} listeners in {time.perf_counter() - started:.1f} s")
        await wait_quiet(everyone, quiet=2.0, limit=120)
        groups = {node.name: [page for page in everyone if page.port == node.port] for node in cluster}
        for node in cluster:
            figures.idle_kib[node.name] = (node.rss_kib() - baseline[node.name]) / max(1, len(groups[node.name]))

        command = owner_command(song_id)
        delivered_before = {name: sum(page.messages for page in group) for name, group in groups.items()}
        async with sampled(cluster[0].process.pid, profile):
            with contextlib.ExitStack() as stack:
                sides = [Side(cluster, everyone, lambda number: owner.send_text(command(number)))]
                if anchor:
                    sides.append(await anchor_side(stack, everyone, figures, logs))
                runs = await act_alternating(sides, actions)
                if anchor:
                    anchor_report(sides[1], runs[1], figures)
        run = runs[0]

        figures.held = sum(not page.closed for page in everyone)
        print(f"connections held: {figures.held} of {listeners}{closed_by_server(everyone)}")
        for node in cluster:
            group = groups[node.name]
            seen = report(node, group, run, baseline[node.name], "same-node" if node is cluster[0] else "cross-node")
            figures.app_p99[node.name] = p99(seen)
            figures.missing += len(group) * actions - len(seen)
            delivered = run.messages if nodes == 1 else sum(page.messages for page in group) - delivered_before[node.name]
            figures.cpu_per_message_us[node.name] = run.server_cpu[node.name] / max(1, delivered) * 1e6
            print(f"  server CPU per delivered message: {figures.cpu_per_message_us[node.name]:.1f} us")
        print_client_cost(run)
        figures.client_ms = run.client_cpu / actions * 1000
        figures.server_ms = sum(run.server_cpu.values()) / actions * 1000
        figures.playback_size = max(page.playback_size for page in everyone)
        if storm:
            await reconnect_storm(everyone, open_listener, figures)
        for page in [owner, *everyone]:
            if page.transport is not None:
                page.transport.close()
    await db.close()


async def reconnect_storm(
    pages: list[PageListener], open_listener: Callable[[int], Awaitable[PageListener]], figures: Figures
) -> None:
    """Drop every listener at once (a node restart or deploy), then time until all have their state again."""
    print(f"-- reconnect storm: dropping {len(pages)} listeners at once --")
    dropped_at = time.perf_counter()
    for page in pages:
        if page.transport is not None:
            page.transport.abort()
    back = await connect_all(figures.listeners, open_listener)
    figures.storm_synced = sum(page.synced.done() and not page.closed for page in back)
    figures.storm_s = max(page.synced.result() for page in back) - dropped_at if back else None
    print(f"reconnected and resynced {figures.storm_synced} of {figures.listeners} in {figures.storm_s:.1f} s after the drop")
    pages[:] = back


async def anchor_side(stack: contextlib.ExitStack, pages: list[PageListener], figures: Figures, logs: Path) -> Side:
    """The anchor started and its listeners connected; each action broadcasts the app's last `playback` size."""
    node = stack.enter_context(anchor_server(logs))
    await wait_for_port(node, time.monotonic() + 30)
    owner = await open_page(node, "/live?owner=1", "", kind=AnchorListener)
    node.listeners.append(owner)
    figures.anchor_baseline_kib = node.rss_kib()
    everyone = await connect_all(figures.listeners, lambda _number: open_page(node, "/live", "", kind=AnchorListener))
    stack.callback(lambda: [page.transport.close() for page in [owner, *everyone] if page.transport is not None])
    await asyncio.sleep(1.0)
    return Side([node], everyone, lambda number: owner.send_text(f"{number} {max(page.playback_size for page in pages) or 225}"))


def anchor_report(side: Side, run: Actions, figures: Figures) -> None:
    size = max(page.playback_size for page in side.listeners)
    print(
        f"-- anchor, alternating with the app's actions: websockets broadcast() of a {size}-byte frame "
        f"to {len(side.listeners)} sockets --"
    )
    figures.anchor_p99 = p99(report(side.nodes[0], side.listeners, run, figures.anchor_baseline_kib, "anchor"))
    figures.anchor_cpu_per_message_us = run.server_cpu[side.nodes[0].name] / max(1, run.messages) * 1e6
    print_client_cost(run)


def verdict(name: str, figure: str, target: str, met: bool) -> None:
    print(f"  {name:<48} {figure:<28} target {target:<26} {'met' if met else 'MISSED'}")


def summary(one: Figures | None, split: Figures | None) -> None:
    print("\n== targets ==")
    if one is not None:
        ratio = one.app_p99["A"] / one.anchor_p99
        verdict(
            f"p99 action -> every listener ({one.listeners}, one node)",
            f"{one.app_p99['A'] * 1000:.0f} ms = {ratio:.2f}x anchor {one.anchor_p99 * 1000:.0f} ms",
            "<= 1.2x anchor",
            ratio <= 1.2,
        )
        verdict("moonshot: the same p99", f"{one.app_p99['A'] * 1000:.0f} ms", "<= 100 ms", one.app_p99["A"] <= 0.1)
        verdict(
            "all held, no receipt missing",
            f"{one.held} held, {one.missing} missing",
            f"{one.listeners} held, 0 missing",
            one.held == one.listeners and one.missing == 0,
        )
        cpu = one.cpu_per_message_us["A"]
        verdict(
            "server CPU per delivered message",
            f"{cpu:.1f} us = {cpu / one.floor_us:.2f}x floor {one.floor_us:.1f} us",
            "<= 1.5x floor",
            cpu <= 1.5 * one.floor_us,
        )
        anchor_cpu = one.anchor_cpu_per_message_us
        print(
            f"  {'  the anchor, same run (a yardstick, no target)':<48} {anchor_cpu:.1f} us = "
            f"{anchor_cpu / one.floor_us:.2f}x floor; the app's per message = {cpu / anchor_cpu:.2f}x the anchor's"
        )
        if one.storm_s is not None:
            verdict(
                f"reconnect storm ({one.listeners} dropped at once)",
                f"{one.storm_synced} resynced in {one.storm_s:.1f} s",
                "all within 10 s",
                one.storm_synced == one.listeners and one.storm_s <= 10,
            )
        verdict("memory per idle connection", f"{one.idle_kib['A']:.1f} KiB", "<= 40 KiB", one.idle_kib["A"] <= 40)
        verdict(
            "load client CPU per action vs server's",
            f"{one.client_ms:.0f} ms vs {one.server_ms:.0f} ms",
            "client < server",
            one.client_ms < one.server_ms,
        )
    if split is not None:
        ratio = split.app_p99["B"] / split.app_p99["A"]
        verdict(
            f"cross-node: far p99 / near p99 ({split.listeners} over 2)",
            f"{split.app_p99['B'] * 1000:.0f} / {split.app_p99['A'] * 1000:.0f} ms = {ratio:.2f}",
            "<= 1.5",
            ratio <= 1.5,
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", default="5000", help="listeners; with --task-share, a comma-separated list")
    parser.add_argument("--actions", type=int, default=20, help="play/pause actions per scenario")
    parser.add_argument(
        "--scenario",
        choices=["one", "split", "all"],
        default="all",
        help="one: all listeners on node A with the owner (+ storm, anchor, floor); split: half of them on node B",
    )
    parser.add_argument("--no-storm", action="store_true", help="skip the reconnect storm")
    parser.add_argument(
        "--task-share",
        type=float,
        help="only the app, one node, limited to this share of a core (0.25: the default "
        "Fargate task's vCPU; root, cgroup v1), at each of --listeners (comma-separated)",
    )
    parser.add_argument("--profile", help="write py-spy's raw (collapsed) samples of node A here (scenario one)")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.sched_setaffinity(0, {1})
    one = split = None
    with throwaway_postgres() as dsn, tempfile.TemporaryDirectory(prefix="livebeats-bench-") as scratch:
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "SECRET_KEY_BASE": secrets.token_urlsafe(48),
            "APP_ENV": "development",
            "DEV_SIGNIN": "true",
            "HOST": "127.0.0.1",
            "STORAGE_DIR": scratch,
            "POOL_SIZE": "10",
            "PYTHONPATH": str(REPO / "app"),
        }
        migrated = subprocess.run(
            [sys.executable, "-m", "livebeats", "migrate"], cwd=REPO / "app", env=env, capture_output=True, text=True
        )
        if migrated.returncode != 0:
            raise SystemExit(f"migration failed: {migrated.stderr}")
        cookies: dict[str, str] = {}
        counts = [int(count) for count in args.listeners.split(",")]
        if args.task_share is not None:
            for count in sorted(counts, reverse=True):
                task = Figures(count)
                await run_app(
                    env,
                    dsn,
                    cookies,
                    task,
                    nodes=1,
                    actions=args.actions,
                    storm=False,
                    logs=Path(scratch),
                    profile=None,
                    share=args.task_share,
                )
                print(
                    f"  {count} listeners at {args.task_share} of a core: p99 {task.app_p99['A'] * 1000:.0f} ms, "
                    f"{task.held} held, {task.missing} receipts missing"
                )
            return
        args.listeners = counts[0]
        if args.scenario in ("one", "all"):
            one = Figures(args.listeners)
            await run_app(
                env,
                dsn,
                cookies,
                one,
                nodes=1,
                actions=args.actions,
                storm=not args.no_storm,
                logs=Path(scratch),
                profile=args.profile,
                anchor=True,
            )
            one.floor_us = send_floor(args.listeners)
            print(f"\n== floor: one 100-byte send() per socket, {args.listeners} sockets: {one.floor_us:.1f} us ==")
        if args.scenario in ("split", "all"):
            split = Figures(args.listeners)
            await run_app(env, dsn, cookies, split, nodes=2, actions=args.actions, storm=False, logs=Path(scratch), profile=None)
    summary(one, split)


if __name__ == "__main__":
    run_main(main)
