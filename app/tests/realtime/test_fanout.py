"""Events reach every client on every node exactly once; oversize and slow are refused."""

from __future__ import annotations

import pytest

from livebeats.realtime import MAX_PAYLOAD_BYTES, Client, PayloadTooLarge

from .support import Inbox, wait_until

pytestmark = pytest.mark.asyncio

TOPIC = "profile:42"


async def test_publish_reaches_every_node_exactly_once(make_hub, spawn_node):
    node_a = await spawn_node("node-a")
    await node_a.command("attach", client="a1", topic=TOPIC)
    hub_b = await make_hub("node-b")
    inbox_b = Inbox(client_b := Client())
    hub_b.attach(client_b, TOPIC)
    elsewhere = Inbox(other := Client())
    hub_b.attach(other, "profile:7")

    await node_a.command("publish", topic=TOPIC, message={"type": "play", "song_id": 1})
    await wait_until(lambda: inbox_b.messages, timeout=5, what="node B to receive A's event")
    await hub_b.publish(TOPIC, {"type": "pause", "song_id": 1})
    # Notifications arrive in commit order, so an echo of A's own first event
    # would reach A before B's reply: once A has the reply, A's list is final.
    await wait_until(lambda: len(node_a.received("a1")) >= 2, timeout=5, what="B's event on A")
    await node_a.command("publish", topic=TOPIC, message={"type": "play", "song_id": 2})
    await wait_until(lambda: len(inbox_b.messages) >= 3, timeout=5, what="A's second event on B")

    expected = [{"type": "play", "song_id": 1}, {"type": "pause", "song_id": 1}, {"type": "play", "song_id": 2}]
    assert inbox_b.messages == expected
    assert node_a.received("a1")[:2] == expected[:2]
    assert elsewhere.messages == []


async def test_oversize_payload_is_refused_before_anyone_gets_it(make_hub):
    hub_a, hub_b = await make_hub("node-a"), await make_hub("node-b")
    inbox_a, inbox_b = Inbox(client_a := Client()), Inbox(client_b := Client())
    hub_a.attach(client_a, TOPIC)
    hub_b.attach(client_b, TOPIC)

    with pytest.raises(PayloadTooLarge) as refused:
        await hub_a.publish(TOPIC, {"type": "songs", "blob": "x" * 8000})
    assert "'profile:42'" in str(refused.value)
    assert f"limited to {MAX_PAYLOAD_BYTES} bytes" in str(refused.value)

    near_limit = {"type": "songs", "blob": "y" * (MAX_PAYLOAD_BYTES - 200)}
    await hub_a.publish(TOPIC, near_limit)
    await wait_until(lambda: inbox_b.messages, timeout=5, what="the largest allowed event on B")
    assert inbox_a.messages == [near_limit]
    assert inbox_b.messages == [near_limit]

    with pytest.raises(PayloadTooLarge, match="presence user on 'profile:42'"):
        await hub_a.track(topic=TOPIC, client=client_a, user={"id": 1, "username": "z" * 8000})
    await hub_a.track(topic=TOPIC, client=client_a, user={"id": 1, "username": "zed"})
    with pytest.raises(PayloadTooLarge, match="presence meta on 'profile:42'"):
        await hub_a.update_meta(topic=TOPIC, client=client_a, meta={"note": "z" * 8000})
    assert hub_a.presence(TOPIC) == [{"id": 1, "username": "zed", "meta": {}}]


async def test_stalled_client_is_dropped_without_delaying_others(make_hub):
    hub = await make_hub("node-a")
    stalled = Client(max_queue=16)
    reader = Inbox(fast := Client(max_queue=16))
    hub.attach(stalled, TOPIC)
    hub.attach(fast, TOPIC)
    await hub.track(topic=TOPIC, client=stalled, user={"id": 5, "username": "slow"})

    most_queued = 0
    for number in range(500):
        await hub.publish(TOPIC, {"type": "tick", "n": number})
        most_queued = max(most_queued, stalled.queued)

    await wait_until(lambda: len(reader.of_type("tick")) == 500, timeout=5, what="the fast client")
    assert [m["n"] for m in reader.of_type("tick")] == list(range(500))
    assert stalled.dropped
    assert most_queued <= 16
    assert await stalled.next_message() is None
    assert hub.presence(TOPIC) == []
    assert not fast.dropped


async def test_a_latest_wins_topic_delivers_the_first_event_at_once_then_only_the_newest(make_hub):
    hub_a = await make_hub("node-a")
    hub_b = await make_hub("node-b", latest_wins={"active_users": 0.5})
    lists, every = Inbox(listed := Client()), Inbox(other := Client())
    hub_b.attach(listed, "active_users")
    hub_b.attach(other, TOPIC)

    for number in range(3):
        await hub_a.publish("active_users", {"type": "active_users", "users": [number]})
        await hub_a.publish(TOPIC, {"type": "play", "song_id": number})
    await wait_until(lambda: len(every.messages) == 3, timeout=5, what="every event of a plain topic on B")
    assert lists.messages == [{"type": "active_users", "users": [0]}], "the first at once, the rest held"
    await wait_until(lambda: len(lists.messages) == 2, timeout=5, what="the newest list after the interval")
    assert lists.messages[1] == {"type": "active_users", "users": [2]}

    await hub_b.publish("active_users", {"type": "active_users", "users": [3]})
    await wait_until(lambda: len(lists.messages) == 3, timeout=5, what="a local publish, held then delivered")
    assert lists.messages[2]["users"] == [3]
