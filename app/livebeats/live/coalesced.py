"""One read shared by the connections that ask for the same thing at the same moment."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

CONNECT_READS_GATHER = 0.02
"""Seconds a connect-time read waits for other connects to share it, when connects are arriving in a burst."""
BURST = 0.2
"""A read (or session check) starting within this many seconds of the last one is part of a burst."""

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class Coalesced(Generic[Key, Value]):
    """One read per key shared by every caller that asks before it starts.

    A caller always gets a value read after it asked, so a connection that
    subscribed to a topic first and then reads misses no change; yet a
    thousand pages reconnecting at once cost one read (one pooled connection)
    at a time per key instead of a thousand. With `gather`, a read that
    follows another within BURST seconds starts that many seconds after its
    first caller asked, so that in a reconnect storm (pages arriving one every
    few hundred microseconds, each read taking a few milliseconds of CPU) a
    read serves many pages, not one or two; a lone connect does not wait.
    """

    def __init__(self, load: Callable[[Key], Awaitable[Value]], *, gather: float = 0.0) -> None:
        self._load = load
        self._gather = gather
        self._last_started: dict[Key, float] = {}
        self._reading: dict[Key, asyncio.Task[None]] = {}
        self._next: dict[Key, asyncio.Future[Value]] = {}

    async def get(self, key: Key) -> Value:
        waiting = self._next.get(key)
        if waiting is None:
            waiting = self._next[key] = asyncio.get_running_loop().create_future()
            if key not in self._reading:
                self._start(key)
        return await asyncio.shield(waiting)

    def _start(self, key: Key) -> None:
        self._reading[key] = asyncio.create_task(self._read(key))

    async def _read(self, key: Key) -> None:
        last, self._last_started[key] = self._last_started.get(key, float("-inf")), time.monotonic()
        if self._gather and self._last_started[key] - last < BURST:
            try:
                await asyncio.sleep(self._gather)
            except asyncio.CancelledError:
                del self._reading[key]
                self._next.pop(key).cancel()
                raise
        result = self._next.pop(key)
        try:
            value = await self._load(key)
        except asyncio.CancelledError:
            result.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - whatever the load raised, every waiter gets it
            result.set_exception(error)
            result.add_done_callback(lambda future: future.exception())
        else:
            result.set_result(value)
        finally:
            del self._reading[key]
            if key in self._next:
                self._start(key)
