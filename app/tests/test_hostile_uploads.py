"""Uploads built to hurt the server: compressed-tag bombs, oversized and hostile tag text.

The server runs as a real subprocess; its resident memory is read from /proc
while the upload is processed, so the bound is on what the process really held.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from pathlib import Path

import asyncpg
import pytest
from mp3gen import compressed_text_bomb, id3v24_frame, id3v24_tag, mp3_frames
from mutagen.id3 import COMM, ID3, TPE1
from support import receive

MIB = 1024 * 1024
BOMB_INFLATES_TO = 256 * MIB


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class PeakMemory:
    """Samples a process's RSS every few milliseconds from a thread, keeping the highest."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.baseline = resident_bytes(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, resident_bytes(self.pid))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / MIB


@pytest.fixture(scope="module")
def tag_bomb() -> bytes:
    """0.52 MB: title and artist frames that each inflate to 256 MiB."""
    return id3v24_tag(*tag_bomb_frames()) + mp3_frames(3)


@pytest.fixture(scope="module")
def frame_flood(tag_bomb) -> bytes:
    """The worst upload by size: 20 MB, almost all of it two million empty frames, the bombs behind them."""
    empty = id3v24_frame(b"TXXX", b"\x00")
    flood_bytes = 20 * MIB - len(tag_bomb) - 64 * 1024
    frames = empty * (flood_bytes // len(empty))
    return id3v24_tag(frames, *tag_bomb_frames()) + mp3_frames(3)


def tag_bomb_frames() -> list[bytes]:
    return [compressed_text_bomb(BOMB_INFLATES_TO, frame_id) for frame_id in (b"TIT2", b"TPE1")]


async def upload_measured(browser, server, name: str, data: bytes):
    await browser.upload("warm-up.mp3", id3v24_tag(id3v24_frame(b"TIT2", b"\x03warm", compressed=True)) + mp3_frames(3))
    with PeakMemory(server.process.pid) as memory:
        started = time.perf_counter()
        response = await browser.upload(name, data)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.05)
    print(
        f"\n{name}: upload of {len(data) / MIB:.2f} MiB answered {response.status_code} in {elapsed:.2f} s: "
        f"RSS {memory.baseline / MIB:.0f} -> peak {memory.peak / MIB:.0f} MiB, answer {len(response.content)} bytes"
    )
    return response, memory


async def test_a_frame_flood_at_the_size_limit_keeps_memory_bounded(browsers, server, frame_flood):
    alice = await browsers("alice")
    response, memory = await upload_measured(alice, server, "Flood - Band.mp3", frame_flood)
    assert response.status_code == 200, response.text[:200]
    assert (response.json()["title"], response.json()["artist"]) == ("Flood", "Band")
    assert memory.growth_mib < 48, f"the server's memory grew by {memory.growth_mib:.0f} MiB"


async def test_a_compressed_tag_bomb_keeps_memory_bounded(browsers, server, tag_bomb):
    alice = await browsers("alice")
    response, memory = await upload_measured(alice, server, "bomb.mp3", tag_bomb)
    assert response.status_code == 200, response.text[:200]
    assert response.json()["title"] == "bomb"
    assert len(response.json()["artist"]) == 255 and set(response.json()["artist"]) == {"A"}
    assert len(response.content) < 4096
    assert memory.growth_mib < 48, f"the server's memory grew by {memory.growth_mib:.0f} MiB"


async def test_tag_text_is_cut_to_the_field_limits_and_cleaned(browsers):
    alice = await browsers("alice")
    tag = id3v24_tag(
        id3v24_frame(b"TIT2", b"\x03" + "T\u202eitle\x07 ".encode() + b"x" * 3 * MIB),
        id3v24_frame(b"TPE1", b"\x03Band\x1b[31m"),
        id3v24_frame(b"COMM", b"\x03eng\x00" + b"c" * 5000, compressed=True),
    )
    response = await alice.upload("untitled.mp3", tag + mp3_frames(3))
    assert response.status_code == 200, response.text[:200]
    body = response.json()
    assert body["title"] == "untitled", "the file name still wins over the tag"
    assert body["artist"] == "Band[31m"
    assert body["attribution"] == "c" * 500
    blank = await alice.upload(" - x.mp3", tag + mp3_frames(3))
    assert blank.json()["title"] == "Title " + "x" * 249


async def test_compressed_tags_of_honest_size_are_still_read(browsers):
    alice = await browsers("alice")
    tag = id3v24_tag(
        id3v24_frame(b"TPE1", b"\x01" + "Zoë".encode("utf-16"), compressed=True),
        id3v24_frame(b"COMM", b"\x03eng" + b"desc\x00CC BY 4.0", compressed=True),
    )
    response = await alice.upload("Song.mp3", tag + mp3_frames(3))
    assert (response.json()["artist"], response.json()["attribution"]) == ("Zoë", "CC BY 4.0")


async def test_unsaved_uploads_count_against_the_song_limit(browsers, database_url, storage_dir):
    alice = await browsers("alice")
    accepted = [await alice.upload(f"Song {index} - A.mp3", mp3_frames(2)) for index in range(31)]
    assert [response.status_code for response in accepted] == [200] * 30 + [422]
    assert accepted[-1].json()["error"] == (
        "An account can hold at most 30 songs: you have 0 and 30 uploaded files not saved yet, so there is "
        "no room for another. Save those first, or wait: unsaved files are discarded an hour after they were uploaded."
    )
    assert len(list(storage_dir.iterdir())) == 30, "the refused file was not kept"
    saved = await alice.save([response.json() for response in accepted[:10]])
    assert saved.status_code == 200, saved.text


async def test_an_upload_token_makes_one_song_once(browsers, database_url):
    alice = await browsers("alice")
    pending = (await alice.upload("Once - Only.mp3", mp3_frames(2))).json()
    assert (await alice.save([pending])).status_code == 200
    again = await alice.save([pending | {"title": "Twice"}])
    assert again.status_code == 422
    assert "already saved" in again.json()["error"]
    twice_in_one = (await alice.upload("Other - Song.mp3", mp3_frames(2))).json()
    doubled = await alice.save([twice_in_one, twice_in_one | {"title": "Copy"}])
    assert doubled.status_code == 422 and "Song 2" in doubled.json()["error"]
    connection = await asyncpg.connect(database_url)
    try:
        keys = [row["storage_key"] for row in await connection.fetch("SELECT storage_key FROM songs")]
    finally:
        await connection.close()
    assert len(keys) == 1


async def test_deleting_one_of_songs_sharing_a_file_keeps_the_file(browsers, database_url, storage_dir):
    """Songs made from one token before tokens became single-use share a file; deleting one must not break the rest."""
    alice = await browsers("alice")
    [first_id] = await alice.add_songs([("First - Band.mp3", mp3_frames(2))])
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO songs (user_id, title, artist, duration, position, storage_key, file_size)"
            " SELECT user_id, 'Second', artist, duration, 1, storage_key, file_size FROM songs WHERE id = $1",
            first_id,
        )
        await connection.execute("UPDATE users SET songs_count = 2")
    finally:
        await connection.close()
    [stored] = list(storage_dir.iterdir())
    async with alice.live() as socket:
        await receive(socket, "state")
        await socket.send(json.dumps({"type": "delete", "song_id": first_id}))
        await receive(socket, "songs_deleted")
    assert stored.exists(), "the second song still plays this file"


async def test_tags_of_every_version_are_still_read(browsers):
    """The bounded reader replaces mutagen's: ID3v2.3 (UTF-16 and Latin-1) and ID3v1 still fill the form."""
    tags = ID3()
    tags.add(TPE1(encoding=1, text="Ärtist"))
    tags.add(COMM(encoding=0, lang="eng", desc="d", text="Cömment"))
    buffer = io.BytesIO()
    tags.save(buffer, v2_version=3)
    alice = await browsers("alice")
    v23 = await alice.upload("Song.mp3", buffer.getvalue() + mp3_frames(2))
    assert (v23.json()["artist"], v23.json()["attribution"]) == ("Ärtist", "Cömment")
    v1_tag = (
        b"TAG" + b"V1 Title".ljust(30, b"\0") + b"V1 Artist".ljust(30, b"\0") + bytes(34) + b"V1 note".ljust(30, b"\0") + b"\0"
    )
    v1 = await alice.upload(" - .mp3", mp3_frames(2) + v1_tag)
    assert (v1.json()["title"], v1.json()["artist"], v1.json()["attribution"]) == ("V1 Title", "V1 Artist", "V1 note")
