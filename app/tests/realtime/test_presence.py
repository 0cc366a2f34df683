"""Presence across nodes: deduplicated, rate-limited meta, and expiry of dead nodes."""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg
import pytest

from livebeats.realtime import Client

from .support import Inbox, wait_until

pytestmark = pytest.mark.asyncio

TOPIC = "profile:42"


def user(user_id: int) -> dict[str, object]:
    return {"id": user_id, "username": f"user{user_id}", "avatar_url": f"https://a.example/{user_id}"}


def ids(users: list[dict[str, object]]) -> list[object]:
    return sorted(u["id"] for u in users)


async def test_presence_spans_nodes_and_counts_each_user_once(make_hub, spawn_node):
    node_a = await spawn_node("node-a")
    for tab in ("tab1", "tab2"):
        await node_a.command("attach", client=tab, topic=TOPIC)
        await node_a.command("track", client=tab, topic=TOPIC, user=user(1))
    await node_a.command("track", client="tab3", topic=TOPIC, user=user(2))
    hub_b = await make_hub("node-b")
    inbox_b = Inbox(client_b := Client())
    hub_b.attach(client_b, TOPIC)
    await hub_b.track(topic=TOPIC, client=client_b, user=user(1))
    await hub_b.track(topic=TOPIC, client=Client(), user=user(3))

    await wait_until(lambda: ids(hub_b.presence(TOPIC)) == [1, 2, 3], timeout=5, what="B to list 1, 2, 3")
    await wait_until(
        lambda: any(ids(e["users"]) == [1, 2, 3] for e in inbox_b.of_type("presence")), timeout=5, what="a presence event on B"
    )
    event = [e for e in inbox_b.of_type("presence") if ids(e["users"]) == [1, 2, 3]][-1]
    assert event["topic"] == TOPIC and event["count"] == 3
    assert all(u["meta"] == {} for u in event["users"])
    await wait_until(lambda: _presence_ids(node_a, [1, 2, 3]), timeout=5, what="A to list 1, 2, 3")

    await node_a.command("untrack", client="tab1", topic=TOPIC)
    await node_a.command("untrack", client="tab2", topic=TOPIC)
    assert ids(await node_a.presence(TOPIC)) == [1, 2, 3], "user 1 is still on node B"
    await hub_b.untrack(topic=TOPIC, client=client_b)
    await wait_until(lambda: ids(hub_b.presence(TOPIC)) == [2, 3], timeout=5, what="user 1 to leave B")
    await wait_until(lambda: _presence_ids(node_a, [2, 3]), timeout=5, what="user 1 to leave A")


async def _presence_ids(node, expected: list[int]) -> bool:
    return ids(await node.presence(TOPIC)) == expected


async def test_users_of_a_killed_node_vanish_within_30_seconds(make_hub, spawn_node):
    node_a = await spawn_node("node-a")  # default timings: heartbeat 5 s, expiry 15 s
    await node_a.command("attach", client="a1", topic=TOPIC)
    await node_a.command("track", client="a1", topic=TOPIC, user=user(9))
    hub_b = await make_hub("node-b")
    inbox_b = Inbox(client_b := Client())
    hub_b.attach(client_b, TOPIC)
    await hub_b.track(topic=TOPIC, client=client_b, user=user(3))
    await wait_until(lambda: ids(hub_b.presence(TOPIC)) == [3, 9], timeout=5, what="B to see user 9")

    node_a.kill()
    await node_a.process.wait()
    took = await wait_until(lambda: ids(hub_b.presence(TOPIC)) == [3], timeout=30, what="user 9 of the killed node to vanish")
    assert took > 5, "expiry must come from silence, not from a goodbye the killed node never sent"
    await wait_until(lambda: ids(inbox_b.of_type("presence")[-1]["users"]) == [3], timeout=1, what="B's clients to be told")
    assert hub_b.nodes() == []


async def test_a_starting_node_learns_presence_without_waiting_for_a_heartbeat(make_hub):
    hub_a = await make_hub("node-a", heartbeat_interval=60, node_timeout=180)
    await hub_a.track(topic=TOPIC, client=Client(), user=user(1))
    await hub_a.track(topic="profile:7", client=Client(), user=user(2))
    await wait_until(lambda: hub_a.presence(TOPIC), timeout=1, what="A's own entry")

    hub_b = await make_hub("node-b", heartbeat_interval=60, node_timeout=180)
    await wait_until(lambda: ids(hub_b.presence(TOPIC)) == [1], timeout=3, what="B to learn A's users")
    assert ids(hub_b.presence("profile:7")) == [2]


async def test_meta_is_shared_at_most_once_a_second_and_the_latest_wins(make_hub, postgres_dsn, channel):
    hub_a = await make_hub("node-a")
    hub_b = await make_hub("node-b")
    client_a = Client()
    await hub_a.track(topic=TOPIC, client=client_a, user=user(1))
    await wait_until(lambda: hub_b.presence(TOPIC), timeout=5, what="B to see user 1")

    shared: list[tuple[float, dict[str, object]]] = []

    def on_notify(_conn, _pid, _channel, payload: str) -> None:
        envelope = json.loads(payload)
        for op in envelope.get("o", []) if envelope["k"] == "p" else []:
            if op[0] == "s" and op[3]:
                shared.append((time.monotonic(), op[3]))

    spy = await asyncpg.connect(postgres_dsn)
    await spy.add_listener(channel, on_notify)
    try:
        for ping in range(10):
            await hub_a.update_meta(topic=TOPIC, client=client_a, meta={"ping_ms": ping, "region": "eu-west-2"})
            await asyncio.sleep(0.05)
        await wait_until(lambda: hub_b.presence(TOPIC)[0]["meta"].get("ping_ms") == 9, timeout=3, what="B to get the latest ping")
        await wait_until(lambda: len(shared) >= 2, timeout=1, what="the trailing update on the wire")
    finally:
        await spy.close()
    assert [meta["ping_ms"] for _, meta in shared] == [0, 9]
    assert shared[1][0] - shared[0][0] >= 0.5, "the second share waits out the interval"
    assert hub_b.presence(TOPIC)[0]["meta"] == {"ping_ms": 9, "region": "eu-west-2"}
