"""Fan-out load benchmark: N WebSocket listeners on one profile, the owner plays/pauses.

Starts a throwaway PostgreSQL and one or two server processes (bench/server.py,
each pinned to CPU 0 with taskset), opens N listeners on one profile (all on
node A with the owner, split over nodes A and B, or all on node B), lets the
owner (on node A) play/pause, and prints connections held, server memory per
connection (RSS delta / N) and the latency from the owner's action to each
listener's receipt, same-node and cross-node.

The measurement (listeners, actions, figures) is `measure.py`'s, shared with
app_fanout.py. This process pins itself to CPU 1. Only 127.0.0.1 is used.

    .venv/bin/python bench/fanout.py --listeners 5000 --scenario all
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator

from measure import (
    REPO,
    Listener,
    Node,
    act,
    closed_by_server,
    make_realtime,
    pinned,
    print_client_cost,
    report,
    run_main,
    sampled,
    wait_for_port,
    wait_quiet,
)

from livebeats.devdb import throwaway_postgres


@contextlib.contextmanager
def servers(dsn: str, count: int, *, cpu: str, ws: str, rt: bool) -> Iterator[list[Node]]:
    nodes = []
    try:
        for index in range(count):
            name, port = "AB"[index], 4101 + index
            command = [
                *pinned(cpu, rt),
                sys.executable,
                str(REPO / "bench" / "server.py"),
                "--dsn",
                dsn,
                "--port",
                str(port),
                "--node-id",
                f"bench-{name}",
                "--ws",
                ws,
            ]
            process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(REPO / "app")})
            nodes.append(Node(name, port, process))
        yield nodes
    finally:
        for node in nodes:
            node.process.terminate()
        for node in nodes:
            node.process.wait(timeout=30)


async def open_listener(node: Node, user_id: int, *, owner: bool = False) -> Listener:
    loop = asyncio.get_running_loop()
    path = f"/live/1?user={user_id}" + ("&owner=1" if owner else "")
    _transport, listener = await loop.create_connection(lambda: Listener(path, node.port), "127.0.0.1", node.port)
    await asyncio.wait_for(listener.opened, 30)
    return listener


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


async def run_scenario(
    dsn: str, scenario: str, *, listeners: int, actions: int, ws: str, profile: str | None, rt: bool, ping_interval: float
) -> None:
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
        everyone = [listener for node in cluster for listener in node.listeners]
        await wait_quiet(everyone, quiet=1.5, limit=60)
        pinging = asyncio.create_task(ping_forever(everyone, ping_interval)) if ping_interval else None

        async with sampled(cluster[0].process.pid, profile):
            run = await act(
                cluster,
                everyone,
                actions,
                lambda seq: owner.send_text(json.dumps({"action": "play" if seq % 2 == 0 else "pause", "seq": seq})),
                timeout=5,
            )
        if pinging is not None:
            pinging.cancel()
        print(f"connections held: {sum(not listener.closed for listener in everyone)} of {listeners}{closed_by_server(everyone)}")
        for node in cluster:
            if node.listeners:
                report(node, node.listeners, run, baseline[node.name], "same-node" if node is cluster[0] else "cross-node")
        print_client_cost(run)
        for listener in [owner, *everyone]:
            if listener.transport is not None:
                listener.transport.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=5000)
    parser.add_argument("--actions", type=int, default=20, help="play/pause actions per scenario")
    parser.add_argument(
        "--scenario",
        choices=[*SCENARIOS, "all"],
        default="all",
        help="; ".join(f"{name}: {text}" for name, (_n, _h, text) in SCENARIOS.items()),
    )
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn WebSocket implementation")
    parser.add_argument("--profile", help="write py-spy's raw (collapsed) samples of node A here")
    parser.add_argument(
        "--ping-interval",
        type=float,
        default=0.0,
        help="seconds between each listener's pings during the actions (pages: 5); 0: none",
    )
    parser.add_argument(
        "--rt",
        action="store_true",
        help="run servers and this client with SCHED_FIFO priority (root), so other "
        "work on a shared machine does not inflate the latencies",
    )
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.sched_setaffinity(0, {1})
    if args.rt:
        make_realtime()
    with throwaway_postgres() as dsn:
        for scenario in SCENARIOS if args.scenario == "all" else [args.scenario]:
            await run_scenario(
                dsn,
                scenario,
                listeners=args.listeners,
                actions=args.actions,
                ws=args.ws,
                profile=args.profile if scenario == "one" else None,
                rt=args.rt,
                ping_interval=args.ping_interval,
            )


if __name__ == "__main__":
    run_main(main)
