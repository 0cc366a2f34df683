"""Browser sessions kept in PostgreSQL, so that signing out is final on every node.

The signed cookie alone cannot be revoked: a copy taken before sign-out would
stay valid until it expires. Every node of both regions shares one database, so
a row per signed-in browser is the simplest state they all see at once: the
cookie carries a random session id, each request (and each live socket, on
connect and after the realtime bus reconnects) checks that its row exists,
sign-out deletes that row and "sign out everywhere" deletes all of a user's.
A per-user generation number would be as cheap to check but could not sign out
one browser without signing out all of them.

Open sockets of a revoked session are closed by a `signed_out` event on the
user's realtime topic, which the bus carries to every node.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from livebeats.clock import Clock, utc_now
from livebeats.models import BrowserSession, User

SESSION_MAX_AGE = timedelta(days=14)
"""How long a sign-in lasts, in the cookie and in its row alike."""


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class BrowserSessions:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.clock = clock

    async def start(self, user_id: int) -> str:
        """A new session for `user_id`; returns the id the cookie carries."""
        session_id = secrets.token_urlsafe(32)
        async with self.sessions() as session, session.begin():
            session.add(
                BrowserSession(
                    id=session_key(session_id),
                    user_id=user_id,
                    expires_at=self.clock() + SESSION_MAX_AGE,
                )
            )
        return session_id

    async def user(self, user_id: int, session_id: str) -> User | None:
        """The user, if this session of theirs is still live."""
        async with self.sessions() as session:
            return await session.scalar(
                select(User)
                .join(BrowserSession, BrowserSession.user_id == User.id)
                .where(
                    BrowserSession.id == session_key(session_id),
                    BrowserSession.user_id == user_id,
                    BrowserSession.expires_at > self.clock(),
                )
            )

    async def users(self, sessions: Collection[tuple[int, str]]) -> dict[tuple[int, str], User]:
        """`user` for many (user id, session id) pairs in one query: those still live, by pair.

        A node restart reconnects thousands of live sockets at once, each of
        which must check its session; one query per socket would make the
        database round trips, not the sockets, the cost of the storm.
        """
        by_key = {session_key(session_id): session_id for _user_id, session_id in sessions}
        async with self.sessions() as session:
            rows = await session.execute(
                select(BrowserSession.id, User)
                .join(User, BrowserSession.user_id == User.id)
                .where(BrowserSession.id.in_(by_key), BrowserSession.expires_at > self.clock())
            )
            live = {(user.id, by_key[key]): user for key, user in rows}
        return {pair: live[pair] for pair in sessions if pair in live}

    async def end(self, session_id: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(delete(BrowserSession).where(BrowserSession.id == session_key(session_id)))

    async def end_all(self, user_id: int) -> int:
        """Sign the user out of every browser; how many sessions ended."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(delete(BrowserSession).where(BrowserSession.user_id == user_id))
            ended: int = result.rowcount  # type: ignore[attr-defined]  # a DELETE returns a CursorResult
            return ended
