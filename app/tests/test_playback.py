"""Playback arithmetic (exact, with a controlled clock) and its concurrency guarantees."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from livebeats.errors import NotAllowed
from livebeats.models import SongStatus
from livebeats.playback.service import Playback

START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


class SteppedClock:
    """A clock the test moves by hand, so every played_at/paused_at is known exactly."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def make_user_with_songs(database_url: str, username: str, durations: list[int]) -> tuple[int, list[int]]:
    connection = await asyncpg.connect(database_url)
    try:
        user_id = await connection.fetchval(
            "INSERT INTO users (email, username, name, tagline, songs_count) VALUES ($1, $2, $2, 't', $3) RETURNING id",
            f"{username}@example.com",
            username,
            len(durations),
        )
        song_ids = [
            await connection.fetchval(
                "INSERT INTO songs (user_id, title, artist, duration, position, storage_key, file_size)"
                " VALUES ($1, $2, 'Artist', $3, $4, $5, 100) RETURNING id",
                user_id,
                f"Song {index}",
                duration,
                index,
                f"{uuid.uuid4()}.mp3",
            )
            for index, duration in enumerate(durations)
        ]
        return user_id, song_ids
    finally:
        await connection.close()


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def playback(engine, hub, clock) -> Playback:
    return Playback(async_sessionmaker(engine, expire_on_commit=False), hub, clock)


async def test_play_pause_resume_arithmetic(playback, clock, database_url):
    owner, (song, _) = await make_user_with_songs(database_url, "owner", [200, 100])
    played = await playback.play(owner, song)
    assert (played.status, played.played_at, played.paused_at) == (SongStatus.PLAYING, START, None)

    clock.advance(30)
    assert played.elapsed(clock()) == timedelta(seconds=30)
    paused = await playback.pause(owner, song)
    assert (paused.status, paused.played_at, paused.paused_at) == (SongStatus.PAUSED, START, START + timedelta(seconds=30))

    clock.advance(100)
    assert paused.elapsed(clock()) == timedelta(seconds=30), "paused time does not count"
    resumed = await playback.play(owner, song)
    assert resumed.played_at == clock() - timedelta(seconds=30)
    assert (resumed.status, resumed.paused_at) == (SongStatus.PLAYING, None)
    clock.advance(5)
    assert resumed.elapsed(clock()) == timedelta(seconds=35)

    current = await playback.current(owner)
    assert current.id == song and current.elapsed(clock()) == timedelta(seconds=35)


async def test_toggle_pauses_a_playing_song_and_plays_otherwise(playback, clock, database_url):
    owner, (song,) = await make_user_with_songs(database_url, "owner", [200])
    assert (await playback.toggle(owner, song)).status == SongStatus.PLAYING
    clock.advance(3)
    assert (await playback.toggle(owner, song)).status == SongStatus.PAUSED
    assert (await playback.toggle(owner, song)).status == SongStatus.PLAYING


async def test_playing_a_song_stops_the_others(playback, clock, database_url):
    owner, (first, second) = await make_user_with_songs(database_url, "owner", [200, 100])
    await playback.play(owner, first)
    clock.advance(10)
    await playback.pause(owner, first)
    await playback.play(owner, second)
    connection = await asyncpg.connect(database_url)
    try:
        states = await connection.fetch("SELECT id, status, played_at, paused_at FROM songs ORDER BY position")
    finally:
        await connection.close()
    assert [(row["status"], row["played_at"], row["paused_at"]) for row in states] == [
        ("stopped", None, None),
        ("playing", clock(), None),
    ]


async def test_next_and_previous_follow_position_and_wrap(playback, clock, database_url):
    owner, songs = await make_user_with_songs(database_url, "owner", [100, 100, 100])
    assert (await playback.skip(owner, owner, 1)).id == songs[0], "nothing active: start at the first"
    assert (await playback.skip(owner, owner, 1)).id == songs[1]
    assert (await playback.skip(owner, owner, 1)).id == songs[2]
    clock.advance(7)
    wrapped = await playback.skip(owner, owner, 1)
    assert (wrapped.id, wrapped.played_at) == (songs[0], clock()), "wraps to the first, from the start"
    assert (await playback.skip(owner, owner, -1)).id == songs[2], "previous wraps to the last"
    assert (await playback.skip(owner, owner, -1)).id == songs[1]


async def test_next_with_one_song_restarts_it(playback, clock, database_url):
    owner, (song,) = await make_user_with_songs(database_url, "owner", [100])
    await playback.play(owner, song)
    clock.advance(50)
    restarted = await playback.skip(owner, owner, 1)
    assert (restarted.id, restarted.played_at) == (song, clock())


async def test_no_songs_means_nothing_to_skip_to(playback, database_url):
    owner, _ = await make_user_with_songs(database_url, "owner", [])
    assert await playback.skip(owner, owner, 1) is None
    assert await playback.current(owner) is None


async def test_auto_advance_only_near_the_end(playback, clock, database_url):
    owner, (first, second) = await make_user_with_songs(database_url, "owner", [60, 60])
    await playback.play(owner, first)
    clock.advance(54.9)
    assert await playback.auto_advance(owner, first) is None, "more than 5 s left"
    clock.advance(0.1)
    advanced = await playback.auto_advance(owner, first)
    assert (advanced.id, advanced.played_at) == (second, clock())
    assert await playback.auto_advance(owner, first) is None, "a stale request for the old song"


async def test_paused_song_does_not_auto_advance(playback, clock, database_url):
    owner, (first, _) = await make_user_with_songs(database_url, "owner", [10, 10])
    await playback.play(owner, first)
    await playback.pause(owner, first)
    clock.advance(60)
    assert await playback.auto_advance(owner, first) is None


async def test_many_concurrent_auto_advance_requests_advance_once(playback, clock, database_url):
    owner, songs = await make_user_with_songs(database_url, "owner", [60, 60, 60])
    await playback.play(owner, songs[0])
    clock.advance(59)
    results = await asyncio.gather(*(playback.auto_advance(owner, songs[0]) for _ in range(40)))
    advanced = [result for result in results if result is not None]
    assert len(advanced) == 1 and advanced[0].id == songs[1]
    assert (await playback.current(owner)).id == songs[1]


async def test_only_the_owner_controls_playback(playback, database_url):
    owner, (song,) = await make_user_with_songs(database_url, "owner", [60])
    listener, _ = await make_user_with_songs(database_url, "listener", [])
    with pytest.raises(NotAllowed, match="Only the profile's owner"):
        await playback.play(listener, song)
    with pytest.raises(NotAllowed):
        await playback.pause(listener, song)
    with pytest.raises(NotAllowed):
        await playback.skip(listener, owner, 1)
    assert await playback.current(owner) is None
