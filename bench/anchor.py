"""The anchor: the `websockets` library's own server broadcasting one frame to every socket.

A yardstick for app_fanout.py, run by it on the same core, with the same
listeners and the same client: every connection on any path is a listener; a
text message "<action> <size>" from a connection whose path has `owner=1`
makes the server `broadcast()` one text frame of `size` bytes containing
`"type":"playback"` to every other connection. No sessions, no database, no framework: what a
well-kept WebSocket server in Python costs per socket.

Usage (normally started by app_fanout.py):
    python bench/anchor.py --port 4301
"""

from __future__ import annotations

import argparse
import asyncio
import resource

from measure import run_main
from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    head = '{"type":"playback","pad":"'
    listeners: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        if "owner=1" in (connection.request.path if connection.request else ""):
            async for action in connection:
                size = int(str(action).split()[-1])
                broadcast(listeners, head + "x" * max(0, size - len(head) - 2) + '"}')
            return
        listeners.add(connection)
        try:
            await connection.wait_closed()
        finally:
            listeners.discard(connection)

    async with serve(handler, "127.0.0.1", args.port, compression=None, ping_interval=None, backlog=4096, max_size=64 * 1024):
        await asyncio.Future()


if __name__ == "__main__":
    run_main(main)
