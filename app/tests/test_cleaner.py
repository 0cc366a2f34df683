"""The cleaner: expired songs go (admins' stay), positions renumber, pages hear, one node at a time."""

from __future__ import annotations

import asyncio
import os
import time

import asyncpg
from mp3gen import mp3_bytes
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from support import receive

from livebeats.files.storage import LocalStorage
from livebeats.models import Song
from livebeats.playback.service import Playback
from livebeats.songs.cleaner import CLEANER_LOCK_KEY, Cleaner
from livebeats.songs.service import Songs


def make_cleaner(engine, hub, storage_dir, admins=frozenset({"keeper"})) -> Cleaner:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    storage = LocalStorage(storage_dir)
    playback = Playback(sessions, hub)
    songs = Songs(sessions, hub, storage, playback)
    return Cleaner(sessions, songs, storage, admins)


async def age_songs(database_url: str, song_ids: list[int], hours: float) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE songs SET inserted_at = now() - make_interval(secs => $2) WHERE id = ANY($1)",
            song_ids,
            hours * 3600,
        )
    finally:
        await connection.close()


async def test_expired_songs_are_deleted_and_announced(browsers, engine, hub, database_url, storage_dir):
    owner = await browsers("owner")
    keeper = await browsers("keeper")
    songs = await owner.add_songs([(f"S{index} - Band.mp3", mp3_bytes(3)) for index in range(4)])
    kept = await keeper.add_songs([("Old - Admin.mp3", mp3_bytes(3))])
    await age_songs(database_url, [songs[0], songs[2], *kept], 6.1)
    await age_songs(database_url, [songs[1]], 5.9)

    async with owner.live(owner.user_id) as socket:
        await receive(socket, "state")
        deleted = await make_cleaner(engine, hub, storage_dir).run_once()
        assert sorted(deleted) == [songs[0], songs[2]]
        message = await receive(socket, "songs_deleted")
        assert sorted(message["song_ids"]) == [songs[0], songs[2]]
        stopped = await receive(socket, "playback")
        assert stopped["song"] is None, "the playing first song expired"

    connection = await asyncpg.connect(database_url)
    try:
        remaining = await connection.fetch("SELECT id, position, user_id FROM songs ORDER BY user_id, position")
        counts = dict(await connection.fetch("SELECT username, songs_count FROM users"))
    finally:
        await connection.close()
    assert [(row["id"], row["position"]) for row in remaining if row["user_id"] == owner.user_id] == [
        (songs[1], 0),
        (songs[3], 1),
    ]
    assert [row["id"] for row in remaining if row["user_id"] == keeper.user_id] == kept
    assert counts == {"owner": 2, "keeper": 1}
    assert len(list(storage_dir.glob("*.mp3"))) == 3


async def test_only_one_node_cleans_at_a_time(browsers, engine, hub, database_url, storage_dir):
    owner = await browsers("owner")
    songs = await owner.add_songs([("Old - Band.mp3", mp3_bytes(3))])
    await age_songs(database_url, songs, 7)
    other_node = await asyncpg.connect(database_url)
    try:
        async with other_node.transaction():
            await other_node.execute("SELECT pg_advisory_xact_lock($1)", CLEANER_LOCK_KEY)
            assert await make_cleaner(engine, hub, storage_dir).run_once() is None
        results = await asyncio.gather(*(make_cleaner(engine, hub, storage_dir).run_once() for _ in range(3)))
    finally:
        await other_node.close()
    assert [result for result in results if result] == [songs], "exactly one run deleted the song"
    assert all(result in (None, []) for result in results if result != songs)
    async with async_sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count(Song.id))) == 0


async def test_nothing_to_clean(engine, hub, storage_dir):
    assert await make_cleaner(engine, hub, storage_dir).run_once() == []


async def test_uploads_never_saved_are_swept(browsers, engine, hub, storage_dir):
    owner = await browsers("owner")

    async def new_file(action) -> str:
        before = {path.name for path in storage_dir.glob("*.mp3")}
        await action
        [created] = {path.name for path in storage_dir.glob("*.mp3")} - before
        return created

    saved = await new_file(owner.add_songs([("Kept - Band.mp3", mp3_bytes(3))]))
    forgotten = await new_file(owner.upload("Forgotten - Band.mp3", mp3_bytes(3)))
    fresh = await new_file(owner.upload("Fresh - Band.mp3", mp3_bytes(3)))
    eight_hours_ago = time.time() - 8 * 3600
    for key in (saved, forgotten):
        os.utime(storage_dir / key, (eight_hours_ago, eight_hours_ago))

    assert await make_cleaner(engine, hub, storage_dir).run_once() == []
    assert (storage_dir / saved).exists(), "a song's file stays, however old"
    assert (storage_dir / fresh).exists(), "a recent upload may still be saved"
    assert not (storage_dir / forgotten).exists()
