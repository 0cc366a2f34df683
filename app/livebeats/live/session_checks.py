"""Whether a socket's browser session is still signed in, checked in one query with every other socket asking now."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket

from livebeats.live.coalesced import BURST, CONNECT_READS_GATHER
from livebeats.models import User
from livebeats.services import node_wide, services

SESSION_CHECKS_PER_QUERY = 500
"""Most sessions one query checks; bounds the statement's size during a reconnect storm."""


class SessionChecks:
    """Session checks asked for at the same moment, made in one query (`BrowserSessions.users`).

    After a node restart or a bus reconnect thousands of sockets check their
    session at once. A check joins the next query to start, never one already
    running, so it always sees the session as of after it asked; a failed
    query fails every check in it (the sockets close with 1013 and retry).
    In a burst (like `Coalesced`) a query waits CONNECT_READS_GATHER for more checks.
    """

    def __init__(self, check: Callable[[list[tuple[int, str]]], Awaitable[dict[tuple[int, str], User]]]) -> None:
        self._check = check
        self._asked: dict[tuple[int, str], asyncio.Future[User | None]] = {}
        self._running: asyncio.Task[None] | None = None
        self._last_started = float("-inf")

    @staticmethod
    def of(websocket: WebSocket) -> SessionChecks:
        return node_wide(websocket, "live_session_checks", lambda: SessionChecks(services(websocket).browser_sessions.users))

    async def user(self, user_id: int, session_id: str) -> User | None:
        """The session's user if the session is live, else None."""
        key = (user_id, session_id)
        answer = self._asked.get(key)
        if answer is None:
            answer = self._asked[key] = asyncio.get_running_loop().create_future()
            if self._running is None:
                self._running = asyncio.create_task(self._run())
        return await asyncio.shield(answer)

    async def _run(self) -> None:
        try:
            if time.monotonic() - self._last_started < BURST:
                await asyncio.sleep(CONNECT_READS_GATHER)
            self._last_started = time.monotonic()
            while self._asked:
                batch = dict(itertools.islice(self._asked.items(), SESSION_CHECKS_PER_QUERY))
                for key in batch:
                    del self._asked[key]
                try:
                    found = await self._check(list(batch))
                except Exception as error:  # noqa: BLE001 - every check in the batch gets the query's error
                    for answer in batch.values():
                        answer.set_exception(error)
                        answer.add_done_callback(lambda future: future.exception())
                except BaseException:
                    for answer in batch.values():
                        answer.cancel()
                    raise
                else:
                    for key, answer in batch.items():
                        answer.set_result(found.get(key))
        finally:
            self._running = None
