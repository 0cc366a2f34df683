"""A realtime node in its own OS process, driven by JSON lines on stdin.

Tests need a second node that can really die (SIGKILL), so it must be a
separate process running the real hub. Commands (one JSON object a line):
``{"cmd": "attach", "client": "c1", "topic": "profile:1"}``, ``track`` (+ ``user``),
``untrack``, ``update_meta`` (+ ``meta``), ``publish`` (``topic``, ``message``),
``presence`` (``topic``). Output lines: ``{"ready": node_id}`` once started,
``{"client": name, "message": {...}}`` for every event a client receives,
``{"done": cmd}`` after each command and ``{"presence": [...]}`` for ``presence``.

Usage: python node_process.py DSN NODE_ID REGION CHANNEL [HEARTBEAT_INTERVAL NODE_TIMEOUT]
"""

from __future__ import annotations

import asyncio
import json
import sys

from livebeats.realtime import Client, RealtimeHub


def emit(line: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


async def pump(name: str, client: Client) -> None:
    while (message := await client.next_message()) is not None:
        emit({"client": name, "message": message})


async def main(dsn: str, node_id: str, region: str, channel: str, timings: list[float]) -> None:
    extra = dict(zip(("heartbeat_interval", "node_timeout"), timings, strict=False))  # either may be given
    hub = RealtimeHub(dsn, node_id, region, channel=channel, **extra)
    await hub.start()
    clients: dict[str, Client] = {}
    pumps: list[asyncio.Task[None]] = []
    emit({"ready": node_id})
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        cmd = command["cmd"]
        if "client" in command and command["client"] not in clients:
            client = clients[command["client"]] = Client()
            pumps.append(asyncio.create_task(pump(command["client"], client)))
        client = clients.get(command.get("client", ""))
        if cmd == "attach":
            hub.attach(client, command["topic"])
        elif cmd == "track":
            await hub.track(topic=command["topic"], client=client, user=command["user"])
        elif cmd == "untrack":
            await hub.untrack(topic=command["topic"], client=client)
        elif cmd == "update_meta":
            await hub.update_meta(topic=command["topic"], client=client, meta=command["meta"])
        elif cmd == "publish":
            await hub.publish(command["topic"], command["message"])
        elif cmd == "presence":
            emit({"presence": hub.presence(command["topic"])})
        emit({"done": cmd})
    await hub.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5], [float(t) for t in sys.argv[5:7]]))
