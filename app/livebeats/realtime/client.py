"""One browser connection's bounded outbox.

Fan-out must never wait for a browser: a slow or stalled one would delay every
other listener and grow server memory without end. So the hub only ever does a
non-blocking `put_nowait` into a bounded queue, and a client whose queue is full
is dropped on the spot. The WebSocket endpoint then closes the socket and the
page reconnects (and reloads its state), which is cheaper than buffering.
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Callable
from typing import Any

DEFAULT_MAX_QUEUE = 256
"""Messages one connection may have waiting; a few seconds of the busiest profile."""


class Outgoing:
    """One event on its way to many clients, shared by all their queues.

    Every client of a topic gets the same object, so an event costs one queue
    slot per client, and its JSON text is encoded once, however many sockets send it.
    """

    __slots__ = ("message", "_text")

    def __init__(self, message: dict[str, Any], text: str | None = None) -> None:
        self.message = message
        self._text = text

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = json.dumps(self.message, separators=(",", ":"))
        return self._text


class Client:
    """A subscriber with a bounded outbox; one per WebSocket connection.

    The outbox is a deque with at most one waiting reader rather than an
    asyncio.Queue: a delivery is then one append and, if the reader sleeps, one
    future resolved, which matters when one event goes to thousands of clients.

    Cheaper still is no queue at all: with `deliver_now`, an event offered while
    the reader is idle (waiting, nothing queued) is handed to it synchronously,
    so the fan-out writes to the socket itself instead of waking one task per
    client. `deliver_now` returns False for what it cannot finish without
    waiting (a full socket buffer, work that needs the database); that event,
    and every later one until the reader is idle again, is queued as usual, so
    order is kept and a stalled client still overflows and is dropped.
    """

    def __init__(self, max_queue: int = DEFAULT_MAX_QUEUE, deliver_now: Callable[[Outgoing], bool] | None = None) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue}")
        self._max_queue = max_queue
        self._deliver_now = deliver_now
        self._outbox: collections.deque[Outgoing] = collections.deque()
        self._reader: asyncio.Future[None] | None = None
        self.dropped = False
        """True once the client overflowed or was closed; it receives nothing more."""

    def offer(self, item: Outgoing) -> bool:
        """Queue an event without waiting; drop this client if its outbox is full.

        Returns False when the client is (now) dropped, so the hub can forget it.
        """
        if self.dropped:
            return False
        if (
            self._deliver_now is not None
            and self._reader is not None
            and not self._reader.done()
            and not self._outbox
            and self._deliver_now(item)
        ):
            return True
        if len(self._outbox) >= self._max_queue:
            self.close()
            return False
        self._outbox.append(item)
        self._wake_reader()
        return True

    def close(self) -> None:
        """Stop delivering: free the queued events and wake a waiting reader (it gets None)."""
        self.dropped = True
        self._outbox.clear()
        self._wake_reader()

    async def next_item(self) -> Outgoing | None:
        while not self._outbox:
            if self.dropped:
                return None
            if self._reader is not None:
                raise RuntimeError("a Client has one reader; another task is already waiting")
            self._reader = asyncio.get_running_loop().create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        return self._outbox.popleft()

    async def next_message(self) -> dict[str, Any] | None:
        """The next event as a dict, or None once the client was dropped or closed."""
        item = await self.next_item()
        return None if item is None else item.message

    async def next_text(self) -> str | None:
        """The next event as JSON text (encoded once per event, not per client), or None."""
        item = await self.next_item()
        return None if item is None else item.text

    @property
    def queued(self) -> int:
        """Events waiting to be sent; for diagnostics and tests."""
        return len(self._outbox)

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)
