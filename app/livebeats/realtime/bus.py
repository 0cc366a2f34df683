"""PostgreSQL LISTEN/NOTIFY as the bus between every node of every region.

All nodes already share one PostgreSQL database, so it doubles as the message
bus and no broker has to be deployed. A process keeps exactly one dedicated
LISTEN connection (a pooled connection would be handed to other work and lose
its LISTEN), and publishes with `pg_notify` over a small separate pool so a slow
publish never blocks delivery.

Everything goes over one channel and each node filters by topic in memory:
subscribing to a topic then needs no round trip, so no event can slip past in
the gap between "attached" and "LISTEN done", and a reconnect has exactly one
channel to resubscribe.

A LISTEN connection that dies loses the notifications sent meanwhile, and
nothing in PostgreSQL replays them. The bus therefore reconnects by itself with
capped exponential backoff and, once it listens again, calls `on_reconnect` so
the hub can tell its clients to resync instead of missing events silently.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg

log = logging.getLogger(__name__)

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)
"""Errors that mean "the database cannot serve us right now" (down, restarting, full)."""

Connect = Callable[..., Awaitable[asyncpg.Connection]]
"""Opens a new connection, taking asyncpg.connect's keyword options (the app's `DatabaseConnector.connect`)."""


class Bus(Protocol):
    """What the hub needs of a bus: `PgBus` between processes, `MemoryBus` within one (tests)."""

    reconnects: int

    @property
    def listening(self) -> bool: ...

    async def start(self, *, timeout: float) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, payload: str) -> None: ...


class BusUnavailable(ConnectionError):
    """PostgreSQL could not be reached to publish; the event reached this node only."""


class PgBus:
    """One LISTEN connection that heals itself, plus a pool for NOTIFY.

    `name` becomes the LISTEN connection's application_name, so an operator
    (or a test) can find a node's listener in pg_stat_activity. Every
    connection, the listener's and the pool's, is opened by `connect`, so a
    reconnect after a password change logs in with the current credentials.
    """

    def __init__(
        self,
        *,
        connect: Connect,
        channel: str,
        name: str,
        on_message: Callable[[str], None],
        on_reconnect: Callable[[], None],
        publish_pool_size: int = 2,
        keepalive_interval: float = 5.0,
        min_backoff: float = 0.1,
        max_backoff: float = 5.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self._connect = connect
        self._channel = channel
        self._name = name[:63]
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._publish_pool_size = publish_pool_size
        self._keepalive_interval = keepalive_interval
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None
        self._listener_task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._last_error: BaseException | None = None
        self.reconnects = 0
        """How often the LISTEN connection was re-established; for diagnostics and tests."""

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def start(self, *, timeout: float = 30.0) -> None:
        """Open the publish pool and wait until the LISTEN connection is up.

        Fails after `timeout` seconds with the last connection error, so a node
        whose database is unreachable says so at start instead of going deaf.
        """
        self._listener_task = asyncio.create_task(self._listen_forever(), name="realtime-listen")
        try:
            async with asyncio.timeout(timeout):  # not wait_for, which can lose a cancel(): see _watch
                await self._listening.wait()
        except TimeoutError:
            await self.stop()
            raise BusUnavailable(
                f"realtime bus could not LISTEN on PostgreSQL within {timeout:.0f} s: {self._last_error!r}"
            ) from self._last_error
        try:
            self._pool = await asyncpg.create_pool(
                connect=self._pool_connect,
                min_size=1,
                max_size=self._publish_pool_size,
                timeout=self._connect_timeout,
                command_timeout=self._connect_timeout,
            )
        except CONNECTION_ERRORS as exc:
            await self.stop()
            raise BusUnavailable(f"realtime bus could not open its publish pool: {exc!r}") from exc

    async def stop(self) -> None:
        if self._listener_task is not None:
            self._listener_task.cancel()
            await asyncio.gather(self._listener_task, return_exceptions=True)
            self._listener_task = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _pool_connect(self, _dsn: None = None, **options: Any) -> asyncpg.Connection:
        """asyncpg's pool calls its `connect` with the pool's (here absent) DSN first; drop it."""
        return await self._connect(**options)

    async def publish(self, payload: str) -> None:
        """NOTIFY every node (this one included; the hub drops its own echo).

        A pooled connection may have died with a database restart; the pool
        replaces it, so one retry covers that. Raises BusUnavailable after that.
        """
        if self._pool is None:
            raise BusUnavailable("realtime bus is not started")
        last_error: BaseException | None = None
        for _ in range(2):
            try:
                async with self._pool.acquire(timeout=self._connect_timeout) as conn:
                    await conn.execute("SELECT pg_notify($1, $2)", self._channel, payload)
                return
            except CONNECTION_ERRORS as exc:
                last_error = exc
        raise BusUnavailable(f"could not NOTIFY through PostgreSQL: {last_error!r}") from last_error

    async def _listen_forever(self) -> None:
        backoff = self._min_backoff
        first = True
        while True:
            conn: asyncpg.Connection | None = None
            lost = asyncio.Event()
            try:
                conn = await self._connect(
                    timeout=self._connect_timeout,
                    server_settings={"application_name": self._name},
                )
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())  # this connection's event, not a later one's
                await conn.add_listener(self._channel, self._deliver)
                self._listening.set()
                backoff = self._min_backoff
                if first:
                    first = False
                else:
                    self.reconnects += 1
                    log.info("realtime bus listening again after a lost connection")
                    self._on_reconnect()
                await self._watch(conn, lost)
                log.warning("realtime bus lost its LISTEN connection; reconnecting")
            except Exception as exc:  # noqa: BLE001 - whatever broke, a deaf node must keep trying
                self._last_error = exc
                log.warning("realtime bus cannot listen (%r); retrying in %.1f s", exc, backoff)
            finally:
                self._listening.clear()
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self._max_backoff)

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Return when the connection is gone.

        A closed socket is noticed at once (termination listener); a silently
        dead one (network partition, no FIN) only by a query that times out.
        """
        while not conn.is_closed():
            try:
                # Not wait_for: on Python 3.11 it loses a cancel() that comes just as the event is
                # set (python/cpython#86296); this task would reconnect on and stop() wait forever.
                async with asyncio.timeout(self._keepalive_interval):
                    await lost.wait()
                return
            except TimeoutError:
                pass
            try:
                await conn.fetchval("SELECT 1", timeout=self._keepalive_interval)
            except CONNECTION_ERRORS:
                return

    def _deliver(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._on_message(payload)
