"""Who is on which topic, across every node: an owner-based table with expiry.

Each node is the only writer of its own entries (the users of its own
connections), so there is nothing to merge or resolve: other nodes keep a
read-only copy per node, fed by that node's numbered deltas. A copy that may
have missed a delta (a gap in the numbers, or a heartbeat announcing a number
we have not seen) asks its owner for a full snapshot. A node that stops
talking - crashed, partitioned, SIGKILLed - cannot say goodbye, so its copy is
thrown away once it has been silent longer than the timeout.

A user with several tabs on one node is one entry; a user on several nodes is
merged when read (`users`), keeping the newest meta. The merged, sorted list
is kept per topic until that topic changes (`users`), and may be read as it
was before the latest changes (`last_users`): every page that connects shows
it, and rebuilding it per connect made a reconnect storm of N pages cost O(N²).
This module does no I/O;
`hub.py` moves its deltas and snapshots over the bus.

Wire shapes (inside the envelopes of `hub.py`):
``["s", topic, user, meta, ts]`` set an entry, ``["d", topic, user_id]`` delete one,
snapshot entries are ``[topic, user, meta, ts]``; ts is the owner's wall clock
when meta last changed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SYNC_RETRY_SECONDS = 2.0
"""How long to wait for a requested snapshot before asking again."""

UserId = Any
Op = list[Any]


@dataclass
class Entry:
    user: dict[str, Any]
    meta: dict[str, Any]
    ts: float


@dataclass
class LocalEntry(Entry):
    clients: set[object] = field(default_factory=set)


@dataclass
class RemoteNode:
    """This node's read-only copy of another node's entries."""

    incarnation: str
    last_seen: float
    seq: int = 0
    synced: bool = True
    sync_requested_at: float = float("-inf")
    entries: dict[str, dict[UserId, Entry]] = field(default_factory=dict)
    snapshot_seq: int = -1
    snapshot_parts: list[list[Any]] = field(default_factory=list)


class PresenceTable:
    def __init__(self) -> None:
        self._local: dict[str, dict[UserId, LocalEntry]] = {}
        self._tracked: dict[object, dict[str, UserId]] = {}
        self._remote: dict[str, RemoteNode] = {}
        self._merged: dict[str, list[dict[str, Any]]] = {}
        self._stale: set[str] = set()

    # --- this node's own entries ---------------------------------------

    def track(self, topic: str, client: object, user: dict[str, Any]) -> list[Op]:
        """Add a client; returns the ops to share (none if its user was already here)."""
        user_id = user["id"]
        previous = self._tracked.get(client, {}).get(topic)
        if previous == user_id:
            return []
        ops = [op for op in [self.untrack(topic, client)] if op is not None]
        self._tracked.setdefault(client, {})[topic] = user_id
        users = self._local.setdefault(topic, {})
        entry = users.get(user_id)
        if entry is not None:
            entry.clients.add(client)
            return ops
        users[user_id] = LocalEntry(user=dict(user), meta={}, ts=time.time(), clients={client})
        self._changed(topic)
        return [*ops, ["s", topic, users[user_id].user, {}, users[user_id].ts]]

    def untrack(self, topic: str, client: object) -> Op | None:
        """Remove a client; returns the delete op if it was its user's last one here."""
        topics = self._tracked.get(client)
        if not topics or topic not in topics:
            return None
        user_id = topics.pop(topic)
        if not topics:
            del self._tracked[client]
        users = self._local[topic]
        entry = users[user_id]
        entry.clients.discard(client)
        if entry.clients:
            return None
        del users[user_id]
        if not users:
            del self._local[topic]
        self._changed(topic)
        return ["d", topic, user_id]

    def tracked_topics(self, client: object) -> list[str]:
        return list(self._tracked.get(client, {}))

    def local_entry(self, topic: str, client: object) -> LocalEntry | None:
        """The entry `client` counts towards on `topic`, if it is tracked there."""
        user_id = self._tracked.get(client, {}).get(topic)
        return None if user_id is None else self._local[topic][user_id]

    def set_meta(self, topic: str, client: object, meta: dict[str, Any]) -> UserId | None:
        """Merge `meta` into the client's user entry; returns the user id, or None if untracked."""
        user_id = self._tracked.get(client, {}).get(topic)
        if user_id is None:
            return None
        entry = self._local[topic][user_id]
        entry.meta = {**entry.meta, **meta}
        entry.ts = time.time()
        self._changed(topic)
        return user_id

    def set_op(self, topic: str, user_id: UserId) -> Op | None:
        """The op that shares a local entry's current state, if it still exists."""
        entry = self._local.get(topic, {}).get(user_id)
        if entry is None:
            return None
        return ["s", topic, entry.user, entry.meta, entry.ts]

    def snapshot(self) -> list[list[Any]]:
        return [[topic, entry.user, entry.meta, entry.ts] for topic, users in self._local.items() for entry in users.values()]

    # --- copies of other nodes' entries ---------------------------------

    def apply_ops(self, node_id: str, incarnation: str, seq: int, ops: list[Op], now: float) -> tuple[set[str], bool]:
        """Apply a numbered batch of deltas; returns (changed topics, should request a snapshot)."""
        node, changed = self._node(node_id, incarnation, now)
        if seq != node.seq + 1:
            node.synced = False
        node.seq = seq
        for op in ops:
            if op[0] == "s":
                _, topic, user, meta, ts = op
                node.entries.setdefault(topic, {})[user["id"]] = Entry(user, meta, ts)
                changed.add(topic)
                self._changed(topic)
            elif op[0] == "d":
                _, topic, user_id = op
                users = node.entries.get(topic, {})
                if users.pop(user_id, None) is not None:
                    changed.add(topic)
                    self._changed(topic)
                if not users:
                    node.entries.pop(topic, None)
        return changed, self._wants_sync(node, now)

    def heartbeat(self, node_id: str, incarnation: str, seq: int, now: float) -> tuple[set[str], bool]:
        """Note a node alive at delta number `seq`; returns (changed topics, should request a snapshot)."""
        node, changed = self._node(node_id, incarnation, now)
        if seq != node.seq:
            node.synced = False
        return changed, self._wants_sync(node, now)

    def apply_snapshot_part(
        self,
        node_id: str,
        incarnation: str,
        seq: int,
        part: int,
        parts: int,
        entries: list[list[Any]],
        now: float,
    ) -> set[str]:
        """Collect a snapshot (sent as consecutive parts); replace the copy once complete."""
        node, changed = self._node(node_id, incarnation, now)
        if part == 0:
            node.snapshot_seq, node.snapshot_parts = seq, []
        elif node.snapshot_seq != seq or len(node.snapshot_parts) != part:
            node.snapshot_seq, node.snapshot_parts = -1, []
            return changed
        node.snapshot_parts.extend(entries)
        if part + 1 < parts:
            return changed
        fresh: dict[str, dict[UserId, Entry]] = {}
        for topic, user, meta, ts in node.snapshot_parts:
            fresh.setdefault(topic, {})[user["id"]] = Entry(user, meta, ts)
        for topic in fresh.keys() | node.entries.keys():
            self._changed(topic)
            if fresh.get(topic) != node.entries.get(topic):
                changed.add(topic)
        node.entries, node.seq, node.synced = fresh, seq, True
        node.snapshot_seq, node.snapshot_parts = -1, []
        return changed

    def forget_node(self, node_id: str) -> set[str]:
        """Drop a node's copy (it said goodbye or expired); returns the topics it was on."""
        node = self._remote.pop(node_id, None)
        if node is None:
            return set()
        for topic in node.entries:
            self._changed(topic)
        return set(node.entries)

    def expire(self, now: float, timeout: float) -> tuple[list[str], set[str]]:
        """Forget nodes silent for longer than `timeout`; returns (their ids, changed topics)."""
        silent = [node_id for node_id, node in self._remote.items() if now - node.last_seen > timeout]
        changed: set[str] = set()
        for node_id in silent:
            changed |= self.forget_node(node_id)
        return silent, changed

    def refresh_all(self, now: float) -> None:
        """Restart every node's expiry clock, after a time in which we could not hear anyone."""
        for node in self._remote.values():
            node.last_seen = now
            node.synced = False

    def nodes(self) -> list[str]:
        return list(self._remote)

    def _node(self, node_id: str, incarnation: str, now: float) -> tuple[RemoteNode, set[str]]:
        """The copy of `node_id`, replaced if the node restarted under the same id."""
        changed: set[str] = set()
        node = self._remote.get(node_id)
        if node is None or node.incarnation != incarnation:
            changed = self.forget_node(node_id)
            node = self._remote[node_id] = RemoteNode(incarnation=incarnation, last_seen=now)
        node.last_seen = now
        return node, changed

    @staticmethod
    def _wants_sync(node: RemoteNode, now: float) -> bool:
        if node.synced or now - node.sync_requested_at < SYNC_RETRY_SECONDS:
            return False
        node.sync_requested_at = now
        return True

    # --- the merged view -------------------------------------------------

    def users(self, topic: str) -> list[dict[str, Any]]:
        """Everyone on `topic` on every node, once per user id, newest meta winning.

        A new list each call, of dicts shared by the callers until the topic
        changes: read them, do not change them.
        """
        listed = self._merged.get(topic)
        if listed is None or topic in self._stale:
            self._stale.discard(topic)
            listed = self._merge(topic)
            if listed:
                self._merged[topic] = listed
            else:
                self._merged.pop(topic, None)
        return list(listed)

    def last_users(self, topic: str) -> list[dict[str, Any]]:
        """`users` as of its last read, possibly older than the latest changes; fresh if never read."""
        listed = self._merged.get(topic)
        return self.users(topic) if listed is None else list(listed)

    def _changed(self, topic: str) -> None:
        if topic in self._merged:
            self._stale.add(topic)

    def _merge(self, topic: str) -> list[dict[str, Any]]:
        merged: dict[UserId, Entry] = {}
        sources: list[Mapping[UserId, Entry]] = [node.entries.get(topic, {}) for node in self._remote.values()]
        sources.append(self._local.get(topic, {}))
        for users in sources:
            for user_id, entry in users.items():
                known = merged.get(user_id)
                if known is None or entry.ts > known.ts:
                    merged[user_id] = entry
        listed = [{**entry.user, "meta": dict(entry.meta)} for entry in merged.values()]
        listed.sort(key=lambda user: (str(user.get("username", "")).lower(), str(user["id"])))
        return listed
