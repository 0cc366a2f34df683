"""The anchor: the `websockets` library's own server broadcasting one frame to every socket.

A yardstick for app_fanout.py, run by it on the same core, with the same
listeners and the same client: every connection on any path is a listener; a
text message from a connection whose path has `owner=1` makes the server
`broadcast()` one text frame of `--size` bytes containing `"type":"playback"`
to every other connection. No sessions, no database, no framework: what a
well-kept WebSocket server in Python costs per socket.

Usage (normally started by app_fanout.py):
    python bench/anchor.py --port 4301 --size 300
"""

from __future__ import annotations

import argparse
import asyncio
import resource

from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, required=True, help="bytes of the broadcast message")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    head = '{"type":"playback","pad":"'
    message = head + "x" * max(0, args.size - len(head) - 2) + '"}'
    listeners: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        if "owner=1" in (connection.request.path if connection.request else ""):
            async for _action in connection:
                broadcast(listeners, message)
            return
        listeners.add(connection)
        try:
            await connection.wait_closed()
        finally:
            listeners.discard(connection)

    async with serve(handler, "127.0.0.1", args.port, compression=None, ping_interval=None,
                     backlog=4096, max_size=64 * 1024):
        await asyncio.Future()


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
