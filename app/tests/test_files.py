"""GET /files/<id>: signed tokens that outlive the song row, and Range requests."""

from __future__ import annotations

import json
import re

import asyncpg
from mp3gen import mp3_bytes
from support import receive


async def song_url(owner) -> str:
    async with owner.live(owner.user_id) as socket:
        await socket.send(json.dumps({"type": "listen", "profile_id": owner.user_id}))
        return (await receive(socket, "listening"))["player"]["url"]


async def test_whole_file_and_ranges(browsers):
    owner = await browsers("owner")
    data = mp3_bytes(5, artist="X")
    [song_id] = await owner.add_songs([("Ranged - Band.mp3", data)])
    url = await song_url(owner)
    assert url.startswith(f"/files/{song_id}?token=")
    listener = await browsers()
    whole = await listener.http.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "audio/mpeg"

    part = await listener.http.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["content-length"] == "100"

    tail = await listener.http.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    open_ended = await listener.http.get(url, headers={"Range": f"bytes={len(data) - 10}-"})
    assert open_ended.content == data[-10:]
    clamped = await listener.http.get(url, headers={"Range": f"bytes=0-{len(data) * 2}"})
    assert clamped.status_code == 206 and clamped.content == data

    beyond = await listener.http.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"
    garbage = await listener.http.get(url, headers={"Range": "pages=1-2"})
    assert garbage.status_code == 200 and garbage.content == data


async def test_token_is_checked(browsers):
    owner = await browsers("owner")
    [song_id] = await owner.add_songs([("Secret - Band.mp3", mp3_bytes(3))])
    url = await song_url(owner)
    token = re.search(r"token=(.+)$", url).group(1)
    forged = await owner.http.get(f"/files/{song_id}?token={token[:-3]}abc")
    assert forged.status_code == 403 and "reload the page" in forged.text
    other_song = await owner.http.get(f"/files/{song_id + 1}?token={token}")
    assert other_song.status_code == 403
    assert (await owner.http.get(f"/files/{song_id}")).status_code == 403


async def test_token_outlives_the_song_row(browsers, database_url):
    owner = await browsers("owner")
    data = mp3_bytes(3)
    await owner.add_songs([("Short Lived - Band.mp3", data)])
    url = await song_url(owner)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("DELETE FROM songs")
    finally:
        await connection.close()
    response = await owner.http.get(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and response.content == data[:10]


async def test_deleted_file_is_a_clear_404(browsers):
    owner = await browsers("owner")
    [song_id] = await owner.add_songs([("Gone - Band.mp3", mp3_bytes(3))])
    url = await song_url(owner)
    async with owner.live(owner.user_id) as socket:
        await socket.send(json.dumps({"type": "delete", "song_id": song_id}))
        await receive(socket, "songs_deleted")
    response = await owner.http.get(url)
    assert response.status_code == 404 and "deleted" in response.text
