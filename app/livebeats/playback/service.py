"""Synchronized playback: who plays what, from which second, for everyone listening.

Each owner's playback is serialized by locking the owner's `users` row for the
whole transaction, so concurrent requests (an owner double-clicking, or every
listening browser asking for the next song at once) apply one after another and
see each other's result. That is what makes auto-advance happen exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from livebeats.clock import Clock, utc_now
from livebeats.errors import NotAllowed, NotFound
from livebeats.models import Song, SongStatus, User
from livebeats.realtime.topics import ACTIVE_USERS, profile_topic, user_topic

ADVANCE_TOLERANCE = timedelta(seconds=5)
"""A browser may ask for the next song this long before the server thinks the song ends."""

ACTIVE_USERS_LIMIT = 20


@dataclass(frozen=True)
class NowPlaying:
    """A snapshot of one song's playback state, safe to use after the transaction."""

    id: int
    user_id: int
    title: str
    artist: str
    duration: int
    status: SongStatus
    played_at: datetime | None
    paused_at: datetime | None
    storage_key: str

    @classmethod
    def of(cls, song: Song) -> NowPlaying:
        return cls(
            id=song.id,
            user_id=song.user_id,
            title=song.title,
            artist=song.artist,
            duration=song.duration,
            status=SongStatus(song.status),
            played_at=song.played_at,
            paused_at=song.paused_at,
            storage_key=song.storage_key,
        )

    def elapsed(self, now: datetime) -> timedelta:
        return elapsed(self.status, self.played_at, self.paused_at, now)

    def to_event(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "title": self.title,
            "artist": self.artist,
            "duration": self.duration,
            "status": self.status.value,
            "played_at": self.played_at.isoformat() if self.played_at else None,
            "paused_at": self.paused_at.isoformat() if self.paused_at else None,
            "storage_key": self.storage_key,
        }

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> NowPlaying:
        return cls(
            id=data["id"],
            user_id=data["user_id"],
            title=data["title"],
            artist=data["artist"],
            duration=data["duration"],
            status=SongStatus(data["status"]),
            played_at=datetime.fromisoformat(data["played_at"]) if data["played_at"] else None,
            paused_at=datetime.fromisoformat(data["paused_at"]) if data["paused_at"] else None,
            storage_key=data["storage_key"],
        )


def elapsed(status: SongStatus, played_at: datetime | None, paused_at: datetime | None, now: datetime) -> timedelta:
    """now − played_at while playing, paused_at − played_at while paused, 0 when stopped."""
    if status == SongStatus.PLAYING and played_at is not None:
        return max(now - played_at, timedelta(0))
    if status == SongStatus.PAUSED and played_at is not None and paused_at is not None:
        return max(paused_at - played_at, timedelta(0))
    return timedelta(0)


def start(song: Song, now: datetime) -> None:
    """Play `song`: from the beginning if stopped, from where it was if paused."""
    if song.status == SongStatus.PAUSED and song.played_at and song.paused_at:
        song.played_at = now - (song.paused_at - song.played_at)
    elif song.status != SongStatus.PLAYING:
        song.played_at = now
    song.paused_at = None
    song.status = SongStatus.PLAYING


def restart(song: Song, now: datetime) -> None:
    song.status = SongStatus.PLAYING
    song.played_at = now
    song.paused_at = None


def listen_to_own_profile(owner: User) -> bool:
    """An owner who starts playback hears it; True when that changed what they listen to."""
    if owner.active_profile_user_id == owner.id:
        return False
    owner.active_profile_user_id = owner.id
    return True


async def lock_owner(session: AsyncSession, owner_id: int) -> User:
    """Take the row lock that serializes every change to this owner's songs."""
    owner = await session.scalar(select(User).where(User.id == owner_id).with_for_update())
    if owner is None:
        raise NotFound("That profile no longer exists.")
    return owner


async def stop_others(session: AsyncSession, owner_id: int, keep_song_id: int | None) -> None:
    statement = update(Song).where(Song.user_id == owner_id, Song.status != SongStatus.STOPPED)
    if keep_song_id is not None:
        statement = statement.where(Song.id != keep_song_id)
    await session.execute(statement.values(status=SongStatus.STOPPED, played_at=None, paused_at=None))


async def active_song(session: AsyncSession, owner_id: int) -> Song | None:
    return await session.scalar(
        select(Song).where(Song.user_id == owner_id, Song.status != SongStatus.STOPPED).order_by(Song.updated_at.desc()).limit(1)
    )


async def ordered_songs(session: AsyncSession, owner_id: int) -> list[Song]:
    result = await session.scalars(select(Song).where(Song.user_id == owner_id).order_by(Song.position, Song.id))
    return list(result)


async def active_users(session: AsyncSession) -> list[dict[str, Any]]:
    """Users playing a song right now, the most recently started first."""
    rows = await session.execute(
        select(User.id, User.username, User.avatar_url)
        .join(Song, Song.user_id == User.id)
        .where(Song.status == SongStatus.PLAYING)
        .order_by(Song.played_at.desc())
        .limit(ACTIVE_USERS_LIMIT)
    )
    return [{"id": id_, "username": username, "avatar_url": avatar} for id_, username, avatar in rows]


class Playback:
    """Owner-only playback commands; each one commits, then tells every listener."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], hub: Any, clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.hub = hub
        self.clock = clock

    async def current(self, owner_id: int) -> NowPlaying | None:
        async with self.sessions() as session:
            song = await active_song(session, owner_id)
            return NowPlaying.of(song) if song else None

    async def play(self, actor_id: int, song_id: int) -> NowPlaying:
        async with self.sessions() as session, session.begin():
            song = await session.get(Song, song_id)
            if song is None:
                raise NotFound("That song no longer exists.")
            self._require_owner(actor_id, song.user_id)
            owner = await lock_owner(session, song.user_id)
            await session.refresh(song)
            await stop_others(session, owner.id, song.id)
            start(song, self.clock())
            owner_was_elsewhere = listen_to_own_profile(owner)
            now_playing = NowPlaying.of(song)
        await self.announce(now_playing.user_id, now_playing, owner_was_elsewhere)
        return now_playing

    async def pause(self, actor_id: int, song_id: int) -> NowPlaying:
        async with self.sessions() as session, session.begin():
            song = await session.get(Song, song_id)
            if song is None:
                raise NotFound("That song no longer exists.")
            self._require_owner(actor_id, song.user_id)
            await lock_owner(session, song.user_id)
            await session.refresh(song)
            if song.status == SongStatus.PLAYING:
                song.status = SongStatus.PAUSED
                song.paused_at = self.clock()
            now_playing = NowPlaying.of(song)
        await self.announce(now_playing.user_id, now_playing)
        return now_playing

    async def toggle(self, actor_id: int, song_id: int) -> NowPlaying:
        """A click on a song row: pause it if it is playing, else play it."""
        async with self.sessions() as session:
            song = await session.get(Song, song_id)
        if song is not None and song.status == SongStatus.PLAYING:
            return await self.pause(actor_id, song_id)
        return await self.play(actor_id, song_id)

    async def skip(self, actor_id: int, owner_id: int, step: int) -> NowPlaying | None:
        """Next (step 1) or previous (step -1) by position, wrapping around."""
        self._require_owner(actor_id, owner_id)
        async with self.sessions() as session, session.begin():
            owner = await lock_owner(session, owner_id)
            now_playing = await self._skip_locked(session, owner_id, step)
            owner_was_elsewhere = now_playing is not None and listen_to_own_profile(owner)
        if now_playing:
            await self.announce(owner_id, now_playing, owner_was_elsewhere)
        return now_playing

    async def auto_advance(self, owner_id: int, ended_song_id: int) -> NowPlaying | None:
        """A listener's song ended: advance once, only if the server agrees it ended.

        Every listening browser asks; the first request (under the owner lock)
        advances, and the rest then see a song that has only just started.
        """
        async with self.sessions() as session, session.begin():
            await lock_owner(session, owner_id)
            current = await active_song(session, owner_id)
            if current is None or current.id != ended_song_id or current.status != SongStatus.PLAYING:
                return None
            remaining = timedelta(seconds=current.duration) - NowPlaying.of(current).elapsed(self.clock())
            if remaining > ADVANCE_TOLERANCE:
                return None
            now_playing = await self._skip_locked(session, owner_id, 1)
        if now_playing:
            await self.announce(owner_id, now_playing)
        return now_playing

    async def _skip_locked(self, session: AsyncSession, owner_id: int, step: int) -> NowPlaying | None:
        songs = await ordered_songs(session, owner_id)
        if not songs:
            return None
        current_index = next((index for index, song in enumerate(songs) if song.status != SongStatus.STOPPED), None)
        target_index = 0 if current_index is None else (current_index + step) % len(songs)
        target = songs[target_index]
        await stop_others(session, owner_id, target.id)
        restart(target, self.clock())
        return NowPlaying.of(target)

    async def announce(self, owner_id: int, now_playing: NowPlaying | None, owner_started_listening: bool = False) -> None:
        """Tell the profile's listeners, and refresh everyone's "Active users"."""
        if owner_started_listening:
            await self.hub.publish(user_topic(owner_id), {"type": "listening", "profile_id": owner_id})
        await self.hub.publish(
            profile_topic(owner_id),
            {
                "type": "playback",
                "profile_id": owner_id,
                "song": now_playing.to_event() if now_playing else None,
            },
        )
        async with self.sessions() as session:
            users = await active_users(session)
        await self.hub.publish(ACTIVE_USERS, {"type": "active_users", "users": users})

    @staticmethod
    def _require_owner(actor_id: int, owner_id: int) -> None:
        if actor_id != owner_id:
            raise NotAllowed("Only the profile's owner can control its playback.")
