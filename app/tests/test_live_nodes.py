"""Two app processes on one database: a node that dies without a goodbye leaves no ghosts."""

from __future__ import annotations

import contextlib
import json
import time

from mp3gen import mp3_bytes
from support import AppServer, receive

# The realtime layer's promise: a dead node's entries vanish from every other node within this.
PRESENCE_EXPIRY_LIMIT_SECONDS = 30


def _usernames(message: dict) -> set[str]:
    return {user["username"] for user in message["users"]}


async def test_listeners_of_a_killed_node_vanish_from_the_other_node(browsers, app_env, tmp_path):
    doomed = AppServer({**app_env, "AWS_REGION": "us-west-2"}, tmp_path / "doomed.log")
    doomed.start()
    try:
        owner = await browsers("owner")
        await owner.add_songs([("Night Drive - Band.mp3", mp3_bytes(60))])
        listener = await browsers("wanderer", target=doomed)
        async with owner.live(owner.user_id) as watcher:
            await receive(watcher, "state")
            stack = contextlib.AsyncExitStack()
            socket = await stack.enter_async_context(listener.live(owner.user_id))
            try:
                await receive(socket, "state")
                await socket.send(json.dumps({"type": "listen", "profile_id": owner.user_id}))
                await receive(socket, "listening")
                joined = await receive(watcher, "listeners", lambda m: "wanderer" in _usernames(m), timeout=10)
                assert joined["count"] == 2

                doomed.process.kill()  # SIGKILL: the node says nothing on its way out
                killed_at = time.monotonic()
                left = await receive(
                    watcher, "listeners", lambda m: "wanderer" not in _usernames(m), timeout=PRESENCE_EXPIRY_LIMIT_SECONDS
                )
                assert time.monotonic() - killed_at < PRESENCE_EXPIRY_LIMIT_SECONDS
                assert _usernames(left) == {"owner"}
            finally:
                with contextlib.suppress(Exception):
                    await stack.aclose()
        page = (await owner.page(f"/{owner.username}")).text
        assert "wanderer" not in page
    finally:
        doomed.stop()
