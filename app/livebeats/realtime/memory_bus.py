"""A bus inside one process, behind the same interface as `PgBus`.

Hubs on one `MemoryNetwork` hear each other as nodes on one PostgreSQL do: every
publish reaches every started bus of the channel (the publisher's own included,
as NOTIFY echoes), later, from the event loop, never during the publish. So the
hub's own logic (fan-out, presence gossip, resync after a deaf spell) can be
exercised without a database; `deafen`/`restore` stand for a lost and
re-established LISTEN connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .bus import BusUnavailable


class MemoryNetwork:
    """The channels shared by the `MemoryBus`es of one process."""

    def __init__(self) -> None:
        self._channels: dict[str, list[MemoryBus]] = {}

    def open_bus(
        self, *, channel: str, name: str, on_message: Callable[[str], None], on_reconnect: Callable[[], None]
    ) -> MemoryBus:
        return MemoryBus(self, channel=channel, name=name, on_message=on_message, on_reconnect=on_reconnect)

    def bus(self, name: str) -> MemoryBus:
        """The started bus of that name (a hub names its bus "livebeats-listen <node id>")."""
        return next(bus for buses in self._channels.values() for bus in buses if bus.name == name)

    def join(self, bus: MemoryBus) -> None:
        self._channels.setdefault(bus.channel, []).append(bus)

    def leave(self, bus: MemoryBus) -> None:
        self._channels.get(bus.channel, []).remove(bus)

    def send(self, channel: str, payload: str) -> None:
        loop = asyncio.get_running_loop()
        for bus in self._channels.get(channel, []):
            if bus.listening:
                loop.call_soon(bus.on_message, payload)


class MemoryBus:
    """One node's connection to a `MemoryNetwork` channel."""

    def __init__(
        self,
        network: MemoryNetwork,
        *,
        channel: str,
        name: str,
        on_message: Callable[[str], None],
        on_reconnect: Callable[[], None],
    ) -> None:
        self.network = network
        self.channel = channel
        self.name = name
        self.on_message = on_message
        self._on_reconnect = on_reconnect
        self._started = False
        self._deaf = False
        self.reconnects = 0

    @property
    def listening(self) -> bool:
        return self._started and not self._deaf

    async def start(self, *, timeout: float = 30.0) -> None:
        self.network.join(self)
        self._started = True

    async def stop(self) -> None:
        if self._started:
            self.network.leave(self)
            self._started = False

    async def publish(self, payload: str) -> None:
        if not self._started:
            raise BusUnavailable("realtime bus is not started")
        self.network.send(self.channel, payload)

    def deafen(self) -> None:
        """Lose the listening side: what is published meanwhile never reaches this bus."""
        self._deaf = True

    def restore(self) -> None:
        """Listen again and tell the hub, as `PgBus` does after reconnecting."""
        self._deaf = False
        self.reconnects += 1
        self._on_reconnect()
