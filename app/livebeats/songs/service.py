"""Songs: checking uploads, saving a batch, deleting, reordering, listing.

Every change to an owner's song list runs in one transaction that first locks
the owner's row (`lock_owner`), the same lock playback uses, so positions and
`songs_count` can never be computed from a stale view.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from livebeats.errors import InvalidInput, NotAllowed, NotFound
from livebeats.files.storage import Storage, new_key
from livebeats.models import ATTRIBUTION_MAX_LENGTH, SONG_TEXT_MAX_LENGTH, Song, SongStatus, Upload, User
from livebeats.playback.service import (
    NowPlaying,
    Playback,
    active_song,
    listen_to_own_profile,
    lock_owner,
    restart,
)
from livebeats.realtime.topics import profile_topic
from livebeats.songs.mp3 import InvalidSong, read_song_file
from livebeats.text import clean_text

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_BATCH_FILES = 10
MAX_SONGS_PER_USER = 30
MAX_SONGS_SHOWN = 50
PENDING_UPLOAD_MAX_AGE = timedelta(hours=1)
"""An uploaded file must be saved as a song within this time; until then it holds a song's place."""


@dataclass(frozen=True)
class PendingUpload:
    """A checked, stored file waiting for its title/artist form to be saved."""

    token: str
    file_name: str
    title: str
    artist: str
    attribution: str
    duration: int


@dataclass(frozen=True)
class NewSong:
    token: str
    title: str
    artist: str
    attribution: str


def too_many_songs_message(current: int, adding: int) -> str:
    room = max(MAX_SONGS_PER_USER - current, 0)
    return (
        f"An account can hold at most {MAX_SONGS_PER_USER} songs: you have {current}, "
        f"so you can add {room} more (you tried {adding})."
    )


def no_room_for_upload_message(songs: int, pending: int) -> str:
    return (
        f"An account can hold at most {MAX_SONGS_PER_USER} songs: you have {songs} and {pending} "
        f"uploaded file{'s' if pending != 1 else ''} not saved yet, so there is no room for another. "
        "Save those first, or wait: unsaved files are discarded an hour after they were uploaded."
    )


def upload_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_new_song(song: NewSong, index: int) -> NewSong:
    label = f"Song {index + 1}"
    title, artist, attribution = clean_text(song.title), clean_text(song.artist), clean_text(song.attribution)
    if not title:
        raise InvalidInput(f"{label}: title can't be blank.")
    if not artist:
        raise InvalidInput(f"{label} ({title}): artist can't be blank.")
    if len(title) > SONG_TEXT_MAX_LENGTH or len(artist) > SONG_TEXT_MAX_LENGTH:
        raise InvalidInput(f"{label} ({title[:40]}): title and artist must be at most {SONG_TEXT_MAX_LENGTH} characters.")
    if len(attribution) > ATTRIBUTION_MAX_LENGTH:
        raise InvalidInput(f"{label} ({title}): attribution must be at most {ATTRIBUTION_MAX_LENGTH} characters.")
    return NewSong(token=song.token, title=title, artist=artist, attribution=attribution)


class Songs:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        hub: Any,
        storage: Storage,
        playback: Playback,
    ) -> None:
        self.sessions = sessions
        self.hub = hub
        self.storage = storage
        self.playback = playback

    async def list_for(self, owner_id: int) -> list[Song]:
        async with self.sessions() as session:
            result = await session.scalars(
                select(Song).where(Song.user_id == owner_id).order_by(Song.position, Song.id).limit(MAX_SONGS_SHOWN)
            )
            return list(result)

    async def _check_room(self, session: AsyncSession, owner: User) -> None:
        """Songs and unsaved uploads together stay within MAX_SONGS_PER_USER."""
        pending = await session.scalar(
            select(func.count(Upload.id)).where(Upload.user_id == owner.id, Upload.expires_at > self.playback.clock())
        )
        pending = pending or 0  # COUNT always returns a row; the type says scalar() may not
        if owner.songs_count + pending >= MAX_SONGS_PER_USER:
            if pending:
                raise InvalidInput(no_room_for_upload_message(owner.songs_count, pending))
            raise InvalidInput(too_many_songs_message(owner.songs_count, 1))

    async def accept_upload(self, owner: User, path: Path, file_name: str) -> PendingUpload:
        """Check one uploaded file, store it under a random key, describe it for the form.

        The room is checked before the file is read (cheap refusal) and again,
        under the owner's lock, before the upload is recorded (parallel uploads).
        """
        async with self.sessions() as session:
            await self._check_room(session, owner)
        try:
            song_file = await asyncio.to_thread(read_song_file, path, file_name)
        except InvalidSong as error:
            raise InvalidInput(str(error)) from error
        key = new_key()
        await self.storage.save(key, path)
        duration = max(1, round(song_file.duration_seconds))
        token = secrets.token_urlsafe(32)
        try:
            async with self.sessions() as session, session.begin():
                locked_owner = await lock_owner(session, owner.id)
                await self._check_room(session, locked_owner)
                session.add(
                    Upload(
                        id=upload_key(token),
                        user_id=owner.id,
                        storage_key=key,
                        file_size=path.stat().st_size,
                        duration=duration,
                        expires_at=self.playback.clock() + PENDING_UPLOAD_MAX_AGE,
                    )
                )
        except BaseException:
            await self.storage.delete(key)
            raise
        return PendingUpload(
            token=token,
            file_name=file_name,
            title=song_file.title,
            artist=song_file.artist,
            attribution=song_file.attribution,
            duration=duration,
        )

    async def _take_uploads(self, session: AsyncSession, owner_id: int, tokens: list[str]) -> list[Upload]:
        """The uploads named by `tokens`, in order, deleted so that none can be saved twice."""
        keys = [upload_key(token) for token in tokens]
        found = {
            upload.id: upload
            for upload in await session.scalars(
                select(Upload).where(Upload.id.in_(keys), Upload.expires_at > self.playback.clock()).with_for_update()
            )
        }
        for index, key in enumerate(keys):
            label = f"Song {index + 1}"
            if key not in found or keys.index(key) != index:
                raise InvalidInput(
                    f"{label}: the upload has expired, was already saved or is invalid; please upload the file again."
                )
            if found[key].user_id != owner_id:
                raise InvalidInput(f"{label}: this upload belongs to another account.")
        await session.execute(delete(Upload).where(Upload.id.in_(keys)))
        return [found[key] for key in keys]

    async def save_batch(self, actor_id: int, owner_id: int, new_songs: list[NewSong]) -> list[int]:
        """Append the songs in one transaction; start the first if nothing is playing."""
        if actor_id != owner_id:
            raise NotAllowed("You can't do that: only the owner can add songs to a profile.")
        if not new_songs:
            raise InvalidInput("Choose at least one MP3 file to upload.")
        if len(new_songs) > MAX_BATCH_FILES:
            raise InvalidInput(f"You can upload at most {MAX_BATCH_FILES} files at a time (you chose {len(new_songs)}).")
        checked = [validate_new_song(song, index) for index, song in enumerate(new_songs)]
        seen: set[tuple[str, str]] = set()
        for song in checked:
            if (song.title, song.artist) in seen:
                raise InvalidInput(f"'{song.title}' by {song.artist} appears twice in this upload.")
            seen.add((song.title, song.artist))

        async with self.sessions() as session, session.begin():
            owner = await lock_owner(session, owner_id)
            if owner.songs_count + len(checked) > MAX_SONGS_PER_USER:
                raise InvalidInput(too_many_songs_message(owner.songs_count, len(checked)))
            uploads = await self._take_uploads(session, owner_id, [song.token for song in checked])
            duplicates = await session.execute(
                select(Song.title, Song.artist).where(
                    Song.user_id == owner_id,
                    tuple_(Song.title, Song.artist).in_([(song.title, song.artist) for song in checked]),
                )
            )
            duplicate = duplicates.first()
            if duplicate is not None:
                raise InvalidInput(f"You already have '{duplicate.title}' by {duplicate.artist}.")
            next_position = (
                await session.scalar(select(func.coalesce(func.max(Song.position) + 1, 0)).where(Song.user_id == owner_id)) or 0
            )  # COALESCE makes it 0 already; the type says scalar() may return None
            songs = [
                Song(
                    user_id=owner_id,
                    title=song.title,
                    artist=song.artist,
                    attribution=song.attribution or None,
                    duration=upload.duration,
                    status=SongStatus.STOPPED,
                    position=next_position + index,
                    storage_key=upload.storage_key,
                    file_size=upload.file_size,
                )
                for index, (song, upload) in enumerate(zip(checked, uploads, strict=True))
            ]
            session.add_all(songs)
            owner.songs_count += len(songs)
            started: NowPlaying | None = None
            owner_started_listening = False
            if await active_song(session, owner_id) is None:
                await session.flush()
                restart(songs[0], self.playback.clock())
                started = NowPlaying.of(songs[0])
                owner_started_listening = listen_to_own_profile(owner)
            await session.flush()
            song_ids = [song.id for song in songs]
        await self.hub.publish(profile_topic(owner_id), {"type": "songs_changed", "profile_id": owner_id})
        if started:
            await self.playback.announce(owner_id, started, owner_started_listening)
        return song_ids

    async def delete(self, actor_id: int, song_id: int) -> None:
        async with self.sessions() as session, session.begin():
            song = await session.get(Song, song_id)
            if song is None:
                raise NotFound("That song was already deleted.")
            if song.user_id != actor_id:
                raise NotAllowed("You can't do that: only the owner can delete a song.")
            owner = await lock_owner(session, song.user_id)
            await session.refresh(song)
            was_active = song.status != SongStatus.STOPPED
            key = song.storage_key
            await session.delete(song)
            await session.flush()
            await renumber_positions(session, [owner.id])
            owner.songs_count = max(owner.songs_count - 1, 0)
            shared = await keys_still_named(session, [key])
        if key not in shared:
            await self.storage.delete(key)
        await self.announce_deleted(actor_id, [song_id], was_active)

    async def announce_deleted(self, owner_id: int, song_ids: list[int], stopped_playback: bool) -> None:
        await self.hub.publish(profile_topic(owner_id), {"type": "songs_deleted", "profile_id": owner_id, "song_ids": song_ids})
        if stopped_playback:
            await self.playback.announce(owner_id, None)

    async def move(self, actor_id: int, song_id: int, new_position: int) -> list[int]:
        """Drag and drop: move one song to `new_position` (0-based), renumber the rest."""
        async with self.sessions() as session, session.begin():
            song = await session.get(Song, song_id)
            if song is None:
                raise NotFound("That song no longer exists.")
            if song.user_id != actor_id:
                raise NotAllowed("You can't do that: only the owner can reorder songs.")
            await lock_owner(session, actor_id)
            songs = list(await session.scalars(select(Song).where(Song.user_id == actor_id).order_by(Song.position, Song.id)))
            if not 0 <= new_position < len(songs):
                raise InvalidInput(f"Position must be between 0 and {len(songs) - 1}.")
            moving = next(s for s in songs if s.id == song_id)
            songs.remove(moving)
            songs.insert(new_position, moving)
            for index, item in enumerate(songs):
                item.position = index
            order = [item.id for item in songs]
        await self.hub.publish(profile_topic(actor_id), {"type": "songs_reordered", "profile_id": actor_id, "order": order})
        return order


async def renumber_positions(session: AsyncSession, owner_ids: list[int]) -> None:
    """Close gaps in positions (0, 1, 2, …) for the given owners, keeping their order."""
    numbered = (
        select(
            Song.id,
            (func.row_number().over(partition_by=Song.user_id, order_by=(Song.position, Song.id)) - 1).label("n"),
        )
        .where(Song.user_id.in_(owner_ids))
        .subquery()
    )
    await session.execute(update(Song).where(Song.id == numbered.c.id).values(position=numbered.c.n))


async def keys_still_named(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these files other songs still play: before uploads became single-use,
    one upload token could make several songs sharing one file."""
    return set(await session.scalars(select(Song.storage_key).where(Song.storage_key.in_(keys)).distinct()))


async def delete_rows(session: AsyncSession, song_ids: list[int]) -> None:
    await session.execute(delete(Song).where(Song.id.in_(song_ids)))
