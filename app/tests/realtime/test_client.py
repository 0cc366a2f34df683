"""The bounded outbox: a full one drops its client instead of growing or blocking."""

from __future__ import annotations

import asyncio

import pytest

from livebeats.realtime import Client
from livebeats.realtime.client import Outgoing

pytestmark = pytest.mark.asyncio


async def test_overflow_drops_the_client_and_frees_its_queue():
    client = Client(max_queue=3)
    for number in range(3):
        assert client.offer(Outgoing({"n": number}))
    assert not client.offer(Outgoing({"n": 3}))
    assert client.dropped and client.queued == 0
    assert await client.next_message() is None
    assert not client.offer(Outgoing({"n": 4}))


async def test_a_waiting_reader_gets_events_in_order_then_none_when_closed():
    client = Client()
    reader = asyncio.create_task(client.next_text())
    await asyncio.sleep(0)
    shared = Outgoing({"type": "play", "song_id": 7})
    client.offer(shared)
    assert await asyncio.wait_for(reader, 1) == '{"type":"play","song_id":7}'
    waiting = asyncio.create_task(client.next_message())
    await asyncio.sleep(0)
    client.close()
    assert await asyncio.wait_for(waiting, 1) is None


async def test_max_queue_must_be_positive():
    with pytest.raises(ValueError, match="max_queue must be at least 1"):
        Client(max_queue=0)


async def test_deliver_now_runs_only_for_an_idle_reader_and_a_refusal_keeps_order():
    """Direct delivery (the live socket's frame write) never overtakes queued events, nor a busy reader."""
    written: list[int] = []
    socket_full = False

    def deliver_now(item: Outgoing) -> bool:
        if socket_full:
            return False
        written.append(item.message["n"])
        return True

    client = Client(max_queue=4, deliver_now=deliver_now)
    assert client.offer(Outgoing({"n": 0})) and client.queued == 1, "no reader waiting yet: queued"
    assert (await client.next_message())["n"] == 0
    reader = asyncio.create_task(client.next_message())
    await asyncio.sleep(0)
    assert client.offer(Outgoing({"n": 1})) and written == [1] and client.queued == 0
    socket_full = True
    assert client.offer(Outgoing({"n": 2})) and client.queued == 1
    socket_full = False
    assert client.offer(Outgoing({"n": 3})) and client.queued == 2, "queued behind 2, not written before it"
    assert written == [1]
    assert (await asyncio.wait_for(reader, 1))["n"] == 2
    assert (await client.next_message())["n"] == 3

    socket_full = True
    stalled = asyncio.create_task(client.next_message())
    await asyncio.sleep(0)
    for number in range(4, 9):
        client.offer(Outgoing({"n": number}))
    assert client.dropped, "a socket that never drains still overflows its outbox and is dropped"
    assert await asyncio.wait_for(stalled, 1) is None
