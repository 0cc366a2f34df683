"""A lost LISTEN connection heals itself, and nobody misses events silently."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest

from livebeats.devdb import throwaway_postgres
from livebeats.realtime import BusUnavailable, Client, RealtimeHub

from .support import ClusterControl, Inbox, free_port, wait_until

pytestmark = pytest.mark.asyncio

TOPIC = "profile:42"


@pytest.fixture
def own_postgres() -> Iterator[str]:
    """A cluster of this test's own, because the test restarts it."""
    with throwaway_postgres() as dsn:
        yield dsn


async def test_postgres_restart_resyncs_clients_and_later_events_arrive(make_hub, own_postgres):
    hub_a = await make_hub("node-a", dsn=own_postgres)
    hub_b = await make_hub("node-b", dsn=own_postgres)
    inbox_a, inbox_b = Inbox(client_a := Client()), Inbox(client_b := Client())
    hub_a.attach(client_a, TOPIC)
    hub_b.attach(client_b, TOPIC)
    await hub_a.track(topic=TOPIC, client=client_a, user={"id": 1, "username": "a"})
    await wait_until(lambda: hub_b.presence(TOPIC), timeout=5, what="B to see A's user")

    await (await ClusterControl.of(own_postgres)).restart()
    await wait_until(
        lambda: inbox_a.of_type("resync") and inbox_b.of_type("resync"),
        timeout=30,
        what="both hubs to listen again and tell their clients to resync",
    )
    assert hub_a.reconnects == 1 and hub_b.reconnects == 1

    await hub_a.publish(TOPIC, {"type": "play", "song_id": 3})
    await wait_until(lambda: inbox_b.of_type("play"), timeout=5, what="an event after the restart")
    assert inbox_b.of_type("play") == [{"type": "play", "song_id": 3}]
    assert inbox_a.of_type("play") == [{"type": "play", "song_id": 3}]
    await hub_b.track(topic=TOPIC, client=client_b, user={"id": 2, "username": "b"})
    await wait_until(
        lambda: [u["id"] for u in hub_a.presence(TOPIC)] == [1, 2], timeout=5, what="presence to flow after the restart"
    )
    assert [u["id"] for u in hub_b.presence(TOPIC)] == [1, 2]


async def test_a_deaf_node_catches_up_on_presence_it_missed(make_hub, postgres_dsn, channel):
    hub_a = await make_hub("node-a")
    # Named after this test's channel: the session's cluster is shared, and a listener of
    # another test's "node-b" may still be listed there (a hub that was never stopped, or
    # a backend still exiting after its client closed the socket).
    deaf = f"node-b {channel}"
    hub_b = await make_hub(deaf)
    inbox_a, inbox_b = Inbox(client_a := Client()), Inbox(client_b := Client())
    hub_a.attach(client_a, TOPIC)
    hub_b.attach(client_b, TOPIC)

    admin = await asyncpg.connect(postgres_dsn)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            f"livebeats-listen {deaf}",
        )
    finally:
        await admin.close()
    assert killed == 1
    for user_id in range(1, 6):
        await hub_a.track(topic=TOPIC, client=Client(), user={"id": user_id, "username": f"u{user_id}"})

    await wait_until(lambda: inbox_b.of_type("resync"), timeout=10, what="B's clients to be told to resync")
    await wait_until(
        lambda: [u["id"] for u in hub_b.presence(TOPIC)] == [1, 2, 3, 4, 5],
        timeout=10,
        what="B to learn the users that joined while it was deaf",
    )
    assert inbox_a.of_type("resync") == []
    await hub_a.publish(TOPIC, {"type": "pause"})
    await wait_until(lambda: inbox_b.of_type("pause"), timeout=5, what="events to B again")


async def test_publish_during_an_outage_fails_loudly_then_recovers(make_hub, own_postgres):
    cluster = await ClusterControl.of(own_postgres)
    hub_a = await make_hub("node-a", dsn=own_postgres)
    hub_b = await make_hub("node-b", dsn=own_postgres)
    inbox_a, inbox_b = Inbox(client_a := Client()), Inbox(client_b := Client())
    hub_a.attach(client_a, TOPIC)
    hub_b.attach(client_b, TOPIC)

    await cluster.stop()
    with pytest.raises(BusUnavailable, match="could not NOTIFY"):
        await hub_a.publish(TOPIC, {"type": "play", "song_id": 1})
    assert inbox_a.of_type("play") == [{"type": "play", "song_id": 1}], "this node's clients still get it"

    await cluster.start()
    await wait_until(
        lambda: inbox_a.of_type("resync") and inbox_b.of_type("resync"),
        timeout=30,
        what="both hubs to tell their clients to resync",
    )
    assert inbox_b.of_type("play") == []
    await hub_a.publish(TOPIC, {"type": "pause", "song_id": 1})
    await wait_until(lambda: inbox_b.of_type("pause"), timeout=5, what="events after the outage")


async def test_start_fails_with_a_clear_error_when_postgres_is_unreachable():
    port = free_port()
    hub = RealtimeHub(f"postgresql://postgres@127.0.0.1:{port}/livebeats", "node-a", "eu-west-2", start_timeout=1)
    with pytest.raises(BusUnavailable, match="could not LISTEN on PostgreSQL within 1 s"):
        await hub.start()
