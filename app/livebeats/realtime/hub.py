"""The realtime hub: topics, fan-out and presence for one process.

It composes the pieces: `Client` (bounded outbox), `PgBus` (LISTEN/NOTIFY; `MemoryBus` in tests),
`PresenceTable` (who is where) and `PresenceGossip` (sharing our part of it).

A publish is delivered to this node's clients at once, then sent through
PostgreSQL to the other nodes; every envelope names its sending node, and a
node ignores its own echo, so each client gets each event exactly once.

Envelope kinds (see `wire.py` for the common keys):
``m`` a published message (``t`` topic, ``m`` message); ``p`` numbered presence
deltas (``v``, ``o``); ``s`` one part of a presence snapshot (``v``, ``p``, ``c``, ``e``);
``h`` heartbeat (``v``); ``q`` "send me your snapshot" (``to``: a node id or null
for everyone); ``b`` goodbye. Presence kinds also carry ``i``, the sender's
incarnation (new every start), so a node restarted under the same id is not
mistaken for the old one.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import Coroutine
from typing import Any

import asyncpg

from .bus import Bus, Connect, PgBus
from .client import Client, Outgoing
from .gossip import PresenceGossip
from .memory_bus import MemoryNetwork
from .presence import PresenceTable, UserId
from .wire import encode

log = logging.getLogger(__name__)

RESYNC = Outgoing({"type": "resync"})


class RealtimeHub:
    """Topics and presence shared by every node through one PostgreSQL database."""

    def __init__(
        self,
        database: str | Connect | MemoryNetwork,
        node_id: str,
        region: str,
        *,
        channel: str = "livebeats_realtime",
        heartbeat_interval: float = 5.0,
        node_timeout: float = 15.0,
        meta_interval: float = 1.0,
        presence_debounce: float = 0.1,
        presence_seconds_per_client: float = 0.001,
        presence_list_limit: int | None = None,
        latest_wins: dict[str, float] | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        """
        database: a PostgreSQL URL (plain ``postgresql://``, as asyncpg takes it), or
            a function opening connections (the app passes its `DatabaseConnector.connect`,
            which logs in with credentials read when connecting), or a `MemoryNetwork`
            (hubs of one process hearing each other without PostgreSQL, for tests).
        node_id: unique per process; used to ignore our own NOTIFY echo.
        region: this node's region (e.g. "eu-west-2"), for the app to show and share.
        channel: NOTIFY channel every node of the deployment listens on.
        heartbeat_interval: seconds between "still alive" messages of this node.
        node_timeout: seconds of silence after which another node's entries vanish;
            must exceed the heartbeat interval (the default allows two lost heartbeats).
        meta_interval: least seconds between two shared meta updates of one user on a topic.
        presence_debounce: presence changes within this many seconds make one event.
        presence_seconds_per_client: least spacing of one topic's presence events per
            attached client (default: 1 s for 1,000 clients). Each event goes to every
            client of the topic, so during a join storm a fixed rate would cost
            O(clients) sends many times a second; this bounds presence to a share of
            the CPU however large the audience (about per-client send cost / spacing).
        presence_list_limit: most users listed in a presence event, None for all;
            ``count`` always has the total. The profile page shows 20 badges,
            then "+ N more", so 20 spares encoding thousands of unseen users.
        latest_wins: topics whose every event replaces the one before (a whole list,
            not a change), each with the least seconds between two of its events
            delivered to this node's clients. The first event after a quiet
            interval goes out at once; later ones wait, and only the newest is
            delivered when the interval ends. Such a topic (e.g. everyone's
            "active users", changed by any play/pause anywhere and sent to every
            page) then costs this node one fan-out per interval, not per event.
        start_timeout: seconds `start` keeps trying to reach PostgreSQL before it fails.
        """
        if node_timeout <= heartbeat_interval:
            raise ValueError(f"node_timeout ({node_timeout} s) must be longer than heartbeat_interval ({heartbeat_interval} s)")
        self.node_id = node_id
        self.region = region
        self._node_timeout = node_timeout
        self._meta_interval = meta_interval
        self._presence_debounce = presence_debounce
        self._presence_seconds_per_client = presence_seconds_per_client
        self._presence_list_limit = presence_list_limit
        self._latest_wins = dict(latest_wins or {})
        self._latest_sent_at: dict[str, float] = {}
        self._latest_pending: dict[str, Outgoing] = {}
        self._latest_timers: dict[str, asyncio.TimerHandle] = {}
        self._subscribers: dict[str, set[Client]] = {}
        self._client_topics: dict[Client, set[str]] = {}
        self._table = PresenceTable()
        self._dirty_topics: set[str] = set()
        self._presence_flush: asyncio.TimerHandle | None = None
        self._presence_due: dict[str, float] = {}
        self._meta_shared_at: dict[tuple[str, UserId], float] = {}
        self._meta_timers: dict[tuple[str, UserId], asyncio.TimerHandle] = {}
        name = f"livebeats-listen {node_id}"
        self._bus: Bus
        if isinstance(database, MemoryNetwork):
            self._bus = database.open_bus(
                channel=channel, name=name, on_message=self._on_bus_message, on_reconnect=self._on_reconnect
            )
        else:
            connect = functools.partial(asyncpg.connect, database) if isinstance(database, str) else database
            self._bus = PgBus(
                connect=connect, channel=channel, name=name, on_message=self._on_bus_message, on_reconnect=self._on_reconnect
            )
        self._gossip = PresenceGossip(
            node_id=node_id,
            incarnation=uuid.uuid4().hex[:12],
            publish=self._bus.publish,
            snapshot=self._table.snapshot,
            heartbeat_interval=heartbeat_interval,
        )
        self._start_timeout = start_timeout
        self._expiry_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    # --- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        """Listen, then ask the other nodes for their presence so we start complete."""
        await self._bus.start(timeout=self._start_timeout)
        self._gossip.start()
        self._expiry_task = asyncio.create_task(self._expire_forever(), name="realtime-expiry")
        await self._ask_for_snapshot(to=None)

    async def stop(self) -> None:
        """Say goodbye so other nodes drop our users now, not after the timeout."""
        if self._expiry_task is not None:
            self._expiry_task.cancel()
            await asyncio.gather(self._expiry_task, return_exceptions=True)
        if self._presence_flush is not None:
            self._presence_flush.cancel()
        for timer in [*self._meta_timers.values(), *self._latest_timers.values()]:
            timer.cancel()
        for task in list(self._background):
            task.cancel()
        await self._gossip.stop(goodbye=self._bus.listening)
        await self._bus.stop()

    # --- topics ----------------------------------------------------------

    def attach(self, client: Client, topic: str) -> None:
        self._subscribers.setdefault(topic, set()).add(client)
        self._client_topics.setdefault(client, set()).add(topic)

    def detach(self, client: Client, topic: str) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is not None:
            subscribers.discard(client)
            if not subscribers:
                del self._subscribers[topic]
                self._presence_due.pop(topic, None)
        topics = self._client_topics.get(client)
        if topics is not None:
            topics.discard(topic)
            if not topics:
                del self._client_topics[client]

    def detach_all(self, client: Client) -> None:
        """Forget a client entirely (its socket closed): topics and presence."""
        for topic in list(self._client_topics.get(client, ())):
            self.detach(client, topic)
        for topic in self._table.tracked_topics(client):
            self._untrack(topic, client)

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Deliver to this node's clients and to every other node.

        The NOTIFY is sent first and this node's fan-out done while it travels:
        other nodes then start their own fan-out a database round trip after
        the publish, not after this node wrote to all of its sockets.

        Raises PayloadTooLarge (before anyone got it) for a message over the
        NOTIFY limit, and BusUnavailable when PostgreSQL cannot be reached (this
        node's clients got it, the others did not).
        """
        text = encode({"n": self.node_id, "k": "m", "t": topic, "m": message}, what=f"message for topic {topic!r}")
        if not self._subscribers.get(topic):
            await self._bus.publish(text)
            return
        notify = asyncio.ensure_future(self._bus.publish(text))
        try:
            await asyncio.sleep(0)  # the NOTIFY task writes its query and waits for the reply
        except asyncio.CancelledError:
            notify.cancel()
            raise
        self._deliver(topic, Outgoing(json.loads(text)["m"]))
        await notify

    # --- presence --------------------------------------------------------

    async def track(self, topic: str, client: Client, user: dict[str, Any]) -> None:
        """Count `client`'s user as present on `topic` (once, however many tabs)."""
        if "id" not in user:
            raise ValueError(f"presence user needs an 'id', got keys {sorted(user)}")
        self._gossip.check_fits(["s", topic, user, {}, 0.0], what=f"presence user on {topic!r}")
        ops = self._table.track(topic, client, user)
        for op in ops:
            self._gossip.queue(op)
        if ops:
            self._mark_dirty({topic})

    async def untrack(self, topic: str, client: Client) -> None:
        self._untrack(topic, client)

    async def update_meta(self, topic: str, client: Client, meta: dict[str, Any]) -> None:
        """Merge `meta` (e.g. ping and region) into the client's user on `topic`.

        Shared at most once per `meta_interval` per user; a newer value within
        that time replaces the pending one and goes out when the interval ends.
        An untracked client is ignored: its ping may arrive before its join.
        """
        entry = self._table.local_entry(topic, client)
        if entry is None:
            return
        self._gossip.check_fits(["s", topic, entry.user, {**entry.meta, **meta}, 0.0], what=f"presence meta on {topic!r}")
        key = (topic, self._table.set_meta(topic, client, meta))
        if key in self._meta_timers:
            return
        wait = self._meta_shared_at.get(key, float("-inf")) + self._meta_interval - time.monotonic()
        if wait > 0:
            self._meta_timers[key] = asyncio.get_running_loop().call_later(wait, self._share_meta, key)
        else:
            self._share_meta(key)

    def presence(self, topic: str, *, may_lag: bool = False) -> list[dict[str, Any]]:
        """Every user on `topic` on every node, once each, with their "meta".

        With `may_lag`, for a caller attached to `topic`: while a presence event
        for the topic is due anyway (changes are pending), the list as last
        built, which the event then corrects. A page connecting during a join
        storm then costs no O(users) rebuild of a list about to change again.
        """
        if may_lag and topic in self._dirty_topics:
            return self._table.last_users(topic)
        return self._table.users(topic)

    def nodes(self) -> list[str]:
        """Other nodes this one currently hears from."""
        return self._table.nodes()

    @property
    def reconnects(self) -> int:
        """How often the LISTEN connection was lost and re-established."""
        return self._bus.reconnects

    def _untrack(self, topic: str, client: Client) -> None:
        op = self._table.untrack(topic, client)
        if op is None:
            return
        self._gossip.queue(op)
        self._meta_shared_at.pop((topic, op[2]), None)
        timer = self._meta_timers.pop((topic, op[2]), None)
        if timer is not None:
            timer.cancel()
        self._mark_dirty({topic})

    def _share_meta(self, key: tuple[str, UserId]) -> None:
        self._meta_timers.pop(key, None)
        op = self._table.set_op(*key)
        if op is None:
            return
        self._meta_shared_at[key] = time.monotonic()
        self._gossip.queue(op)
        self._mark_dirty({key[0]})

    def _mark_dirty(self, topics: set[str]) -> None:
        """Coalesce presence changes: 5,000 joins must not mean 5,000 events to 5,000 clients."""
        self._dirty_topics |= topics & self._subscribers.keys()
        self._arm_presence_flush()

    def _arm_presence_flush(self) -> None:
        if self._dirty_topics and self._presence_flush is None:
            self._presence_flush = asyncio.get_running_loop().call_later(self._presence_debounce, self._flush_presence)

    def _flush_presence(self) -> None:
        self._presence_flush = None
        now = time.monotonic()
        due = {topic for topic in self._dirty_topics if self._presence_due.get(topic, now) <= now}
        self._dirty_topics -= due
        self._arm_presence_flush()
        for topic in due & self._subscribers.keys():
            audience = len(self._subscribers[topic])
            self._presence_due[topic] = now + audience * self._presence_seconds_per_client
            users = self._table.users(topic)
            self._fanout(
                topic,
                Outgoing(
                    {
                        "type": "presence",
                        "topic": topic,
                        "users": users[: self._presence_list_limit],
                        "count": len(users),
                    }
                ),
            )

    # --- delivery --------------------------------------------------------

    def _deliver(self, topic: str, item: Outgoing) -> None:
        """A published event to this node's clients: now, or for a latest-wins topic maybe later."""
        interval = self._latest_wins.get(topic)
        if interval is None:
            self._fanout(topic, item)
            return
        if topic in self._latest_timers:
            self._latest_pending[topic] = item
            return
        wait = self._latest_sent_at.get(topic, float("-inf")) + interval - time.monotonic()
        if wait > 0:
            self._latest_pending[topic] = item
            self._latest_timers[topic] = asyncio.get_running_loop().call_later(wait, self._deliver_latest, topic)
            return
        self._latest_sent_at[topic] = time.monotonic()
        self._fanout(topic, item)

    def _deliver_latest(self, topic: str) -> None:
        del self._latest_timers[topic]
        self._latest_sent_at[topic] = time.monotonic()
        self._fanout(topic, self._latest_pending.pop(topic))

    def _fanout(self, topic: str, item: Outgoing) -> None:
        """Queue `item` for every client of `topic` without ever waiting for one."""
        subscribers = self._subscribers.get(topic)
        if not subscribers:
            return
        dropped = [client for client in subscribers if not client.offer(item)]
        for client in dropped:
            log.info("forgetting a realtime client that overflowed or was closed, on %s", topic)
            self.detach_all(client)

    def _on_bus_message(self, payload: str) -> None:
        try:
            envelope = json.loads(payload)
            sender = envelope["n"]
            if sender == self.node_id:
                return
            self._dispatch(sender, envelope)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a malformed realtime envelope (%r): %.200s", exc, payload)

    def _dispatch(self, sender: str, envelope: dict[str, Any]) -> None:
        kind = envelope["k"]
        if kind == "m":
            self._deliver(envelope["t"], Outgoing(envelope["m"]))
            return
        if kind == "q":
            if envelope["to"] in (None, self.node_id):
                self._gossip.request_snapshot()
            return
        if kind == "b":
            self._mark_dirty(self._table.forget_node(sender))
            return
        now = time.monotonic()
        incarnation, seq = envelope["i"], envelope["v"]
        wants_sync = False
        if kind == "p":
            changed, wants_sync = self._table.apply_ops(sender, incarnation, seq, envelope["o"], now)
        elif kind == "h":
            changed, wants_sync = self._table.heartbeat(sender, incarnation, seq, now)
        elif kind == "s":
            changed = self._table.apply_snapshot_part(sender, incarnation, seq, envelope["p"], envelope["c"], envelope["e"], now)
        else:
            log.warning("ignoring a realtime envelope of unknown kind %r", kind)
            return
        self._mark_dirty(changed)
        if wants_sync:
            self._in_background(self._ask_for_snapshot(to=sender))

    def _sync_request(self, *, to: str | None) -> str:
        return encode({"n": self.node_id, "k": "q", "to": to}, what="sync request")

    async def _ask_for_snapshot(self, *, to: str | None) -> None:
        """Ask one node (or all) to send its presence; a failure is retried by the next heartbeat."""
        try:
            await self._bus.publish(self._sync_request(to=to))
        except ConnectionError as exc:
            log.warning("could not ask %s for presence (%r)", to or "every node", exc)

    def _in_background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_reconnect(self) -> None:
        """We were deaf for a while: resync our clients and re-learn everyone's presence."""
        now = time.monotonic()
        self._table.refresh_all(now)
        clients = list(self._client_topics)
        for client in clients:
            if not client.offer(RESYNC):
                self.detach_all(client)
        self._in_background(self._ask_for_snapshot(to=None))

    async def _expire_forever(self) -> None:
        """Drop nodes that went silent, but never while we ourselves cannot hear."""
        while True:
            await asyncio.sleep(1.0)
            if not self._bus.listening:
                continue
            silent, changed = self._table.expire(time.monotonic(), self._node_timeout)
            if silent:
                log.info("presence of silent nodes expired: %s", ", ".join(silent))
            self._mark_dirty(changed)
