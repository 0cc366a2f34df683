"""The cleaner: every 30 minutes, delete songs older than six hours (admins' songs excepted).

Exactly one node in the whole deployment works at a time: the run happens
inside a transaction holding a PostgreSQL transaction-level advisory lock, and
a node that cannot get the lock skips its turn. Deletions renumber positions,
fix song counts and are announced to open pages like an owner's delete.

The same run sweeps stored files that no song names (uploads whose form was
never saved) and expired browser sessions. Such an upload has expired by
then, so none of those files can still become a song.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from livebeats.clock import Clock, utc_now
from livebeats.files.storage import Storage
from livebeats.models import BrowserSession, Song, SongStatus, Upload, User
from livebeats.songs.service import (
    PENDING_UPLOAD_MAX_AGE,
    Songs,
    delete_rows,
    keys_still_named,
    renumber_positions,
)

CLEANER_LOCK_KEY = 7_241_002
"""Arbitrary, fixed advisory-lock key reserved for the cleaner."""
CLEAN_INTERVAL = timedelta(minutes=30)
SONG_MAX_AGE = timedelta(hours=6)
ORPHAN_MIN_AGE = PENDING_UPLOAD_MAX_AGE + timedelta(hours=1)
"""Unreferenced files younger than this may still be saved as songs."""

logger = logging.getLogger(__name__)


class Cleaner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        songs: Songs,
        storage: Storage,
        admin_usernames: frozenset[str],
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.songs = songs
        self.storage = storage
        self.admin_usernames = admin_usernames
        self.clock = clock

    async def run_once(self) -> list[int] | None:
        """Delete expired songs; their ids, or None when another node holds the lock."""
        cutoff = self.clock() - SONG_MAX_AGE
        async with self.sessions() as session, session.begin():
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(CLEANER_LOCK_KEY))):
                return None
            await self._sweep_orphans(session)
            await session.execute(delete(BrowserSession).where(BrowserSession.expires_at <= self.clock()))
            await session.execute(delete(Upload).where(Upload.expires_at <= self.clock()))
            expired = self._expired(cutoff)
            owner_ids = sorted(set(await session.scalars(expired.with_only_columns(Song.user_id))))
            if not owner_ids:
                return []
            await session.execute(select(User.id).where(User.id.in_(owner_ids)).order_by(User.id).with_for_update())
            rows = (await session.execute(expired.with_only_columns(Song.id, Song.user_id, Song.storage_key, Song.status))).all()
            await delete_rows(session, [row.id for row in rows])
            await renumber_positions(session, owner_ids)
            remaining = select(func.count(Song.id)).where(Song.user_id == User.id).scalar_subquery()
            await session.execute(update(User).where(User.id.in_(owner_ids)).values(songs_count=remaining))
            shared = await keys_still_named(session, [row.storage_key for row in rows])
        for key in {row.storage_key for row in rows} - shared:
            await self.storage.delete(key)
        for owner_id in owner_ids:
            owned = [row for row in rows if row.user_id == owner_id]
            await self.songs.announce_deleted(
                owner_id, [row.id for row in owned], any(row.status != SongStatus.STOPPED for row in owned)
            )
        logger.info("cleaner deleted %d expired songs", len(rows))
        return [row.id for row in rows]

    async def _sweep_orphans(self, session: AsyncSession) -> None:
        candidates = await self.storage.keys_stored_before(self.clock() - ORPHAN_MIN_AGE)
        if not candidates:
            return
        referenced = set(await session.scalars(select(Song.storage_key).where(Song.storage_key.in_(candidates))))
        orphans = [key for key in candidates if key not in referenced]
        for key in orphans:
            await self.storage.delete(key)
        if orphans:
            logger.info("cleaner removed %d uploaded files never saved as songs", len(orphans))

    def _expired(self, cutoff: datetime) -> Select[Song]:
        statement = select(Song).join(User, User.id == Song.user_id).where(Song.inserted_at < cutoff)
        if self.admin_usernames:
            statement = statement.where(func.lower(User.username).not_in(self.admin_usernames))
        return statement

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception("cleaner run failed; retrying in %s", CLEAN_INTERVAL)
            await asyncio.sleep(CLEAN_INTERVAL.total_seconds())
