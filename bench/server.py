"""A minimal Starlette WebSocket server that uses the realtime hub as the app does.

The app's own WebSocket endpoint was not ready when this benchmark was written,
so the benchmark measures the hub behind this stand-in: one `Client` per socket,
attached to the profile's topic and tracked for presence, a send loop that only
ever reads the client's bounded outbox, and a receive loop where the profile's
owner plays/pauses (-> `hub.publish`) and anyone may ping (-> `hub.update_meta`).

Usage (normally started by fanout.py):
    python bench/server.py --dsn postgresql://... --port 4101 --node-id bench-a
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from livebeats.realtime import Client, RealtimeHub


def build_app(hub: RealtimeHub) -> Starlette:
    async def live(websocket: WebSocket) -> None:
        profile = websocket.path_params["profile"]
        user_id = int(websocket.query_params["user"])
        is_owner = websocket.query_params.get("owner") == "1"
        topic = f"profile:{profile}"
        await websocket.accept()
        client = Client()
        hub.attach(client, topic)
        await hub.track(topic=topic, client=client, user={"id": user_id, "username": f"user{user_id}", "avatar_url": ""})
        receiver = asyncio.create_task(receive(websocket, client, topic, is_owner))
        try:
            while (text := await client.next_text()) is not None:
                await websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            receiver.cancel()
            hub.detach_all(client)
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close()

    async def receive(websocket: WebSocket, client: Client, topic: str, is_owner: bool) -> None:
        """Owner actions become publishes; pings become presence meta."""
        try:
            while True:
                event = json.loads(await websocket.receive_text())
                if event["action"] in ("play", "pause") and is_owner:
                    await hub.publish(topic, {"type": event["action"], "song_id": 1, "seq": event["seq"]})
                elif event["action"] == "ping":
                    await hub.update_meta(topic=topic, client=client, meta={"ping_ms": event["ms"], "region": hub.region})
        except WebSocketDisconnect:
            client.close()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        yield
        await hub.stop()

    return Starlette(routes=[WebSocketRoute("/live/{profile}", live)], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--region", default="eu-west-2")
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn WebSocket implementation")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    hub = RealtimeHub(args.dsn, args.node_id, args.region, presence_list_limit=20)
    uvicorn.run(build_app(hub), host="127.0.0.1", port=args.port, ws=args.ws, backlog=4096, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
