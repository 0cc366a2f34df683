"""Sends this node's presence deltas, snapshots and heartbeats, in order.

Receivers detect a missed delta by its number, which only works if one node's
presence messages leave in the order they were numbered. So they all go
through this single sender task, one NOTIFY at a time. Queued deltas are
packed into as few NOTIFYs as fit under the payload limit, which keeps a burst
of 5,000 joins down to about a hundred NOTIFYs.

A snapshot is built when it is sent, after every delta queued before it, and
carries the number of the last delta it contains; deltas queued later get
higher numbers. A failed send is retried with backoff rather than skipped, so
a database restart delays presence but does not lose it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .bus import BusUnavailable
from .wire import MAX_PAYLOAD_BYTES, PayloadTooLarge, encode, encoded_size

log = logging.getLogger(__name__)

ENVELOPE_ALLOWANCE = 200
"""Bytes kept free for the envelope around a batch of ops or snapshot entries."""


class PresenceGossip:
    def __init__(
        self,
        *,
        node_id: str,
        incarnation: str,
        publish: Callable[[str], Awaitable[None]],
        snapshot: Callable[[], list[list[Any]]],
        heartbeat_interval: float,
    ) -> None:
        self._node_id = node_id
        self._incarnation = incarnation
        self._publish = publish
        self._snapshot = snapshot
        self._heartbeat_interval = heartbeat_interval
        self._ops: collections.deque[list[Any]] = collections.deque()
        self._snapshot_wanted = False
        self._wake = asyncio.Event()
        self._seq = 0
        self._last_sent = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._budget = MAX_PAYLOAD_BYTES - ENVELOPE_ALLOWANCE - len(node_id.encode())

    def check_fits(self, op: list[Any], *, what: str) -> None:
        """Refuse, at the caller, an op that could never be sent (e.g. a huge user dict).

        Measured against the batch budget, so an accepted entry also fits in any
        snapshot part and the sender never meets an entry it cannot send.
        """
        size = encoded_size(op)
        if size > self._budget:
            raise PayloadTooLarge(
                f"{what} is {size} bytes as JSON; a presence entry is limited to "
                f"{self._budget} bytes. Keep user and meta to ids, names and small values."
            )

    def queue(self, op: list[Any]) -> None:
        self._ops.append(op)
        self._wake.set()

    def request_snapshot(self) -> None:
        self._snapshot_wanted = True
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="realtime-presence")

    async def stop(self, *, goodbye: bool) -> None:
        """Stop sending; with `goodbye`, tell the others to drop our entries now."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if goodbye:
            try:
                await self._publish(encode(self._envelope("b"), what="goodbye"))
            except BusUnavailable as exc:
                log.warning("could not say goodbye (%r); our entries expire instead", exc)

    async def _run(self) -> None:
        while True:
            timeout = self._last_sent + self._heartbeat_interval - time.monotonic()
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    # Not wait_for: on Python 3.11 it loses a cancel() that comes just as the event
                    # is set (python/cpython#86296), and stop() would wait for this task forever.
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
            self._wake.clear()
            while self._ops:
                batch = self._take_batch()
                self._seq += 1
                await self._send(self._envelope("p", v=self._seq, o=batch))
            if self._snapshot_wanted:
                self._snapshot_wanted = False
                parts = self._pack(self._snapshot()) or [[]]
                for index, entries in enumerate(parts):
                    await self._send(self._envelope("s", v=self._seq, p=index, c=len(parts), e=entries))
            if time.monotonic() - self._last_sent >= self._heartbeat_interval:
                await self._send(self._envelope("h", v=self._seq))

    def _take_batch(self) -> list[list[Any]]:
        batch: list[list[Any]] = []
        size = 0
        while self._ops:
            op_size = encoded_size(self._ops[0]) + 1
            if batch and size + op_size > self._budget:
                break
            batch.append(self._ops.popleft())
            size += op_size
        return batch

    def _pack(self, items: list[list[Any]]) -> list[list[list[Any]]]:
        parts: list[list[list[Any]]] = []
        size = self._budget
        for item in items:
            item_size = encoded_size(item) + 1
            if size + item_size > self._budget:
                parts.append([])
                size = 0
            parts[-1].append(item)
            size += item_size
        return parts

    def _envelope(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"n": self._node_id, "k": kind, "i": self._incarnation, **fields}

    async def _send(self, envelope: dict[str, Any]) -> None:
        try:
            text = encode(envelope, what="presence update")
        except (PayloadTooLarge, TypeError):
            log.exception("presence update dropped; the other nodes resync after the gap")
            return
        backoff = 0.1
        while True:
            try:
                await self._publish(text)
                self._last_sent = time.monotonic()
                return
            except BusUnavailable as exc:
                log.warning("presence update not sent (%r); retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._heartbeat_interval)
