"""Uploads: content check, every limit with its own message, names and tags, saving, deleting."""

from __future__ import annotations

import re
import uuid

import asyncpg
from mp3gen import mp3_bytes, mp3_frames

MB = 1024 * 1024


async def rows(database_url: str, query: str, *args):
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def test_upload_and_save_a_batch(browsers, database_url, storage_dir):
    alice = await browsers("alice")
    first = await alice.upload("Blue Monday - New Order.mp3", mp3_bytes(4))
    assert first.status_code == 200, first.text
    assert first.json() | {"token": "t"} == {
        "token": "t",
        "file_name": "Blue Monday - New Order.mp3",
        "title": "Blue Monday",
        "artist": "New Order",
        "attribution": "",
        "duration": 4,
    }
    second = await alice.upload("Song – Dash – Band.mp3", mp3_bytes(61))
    assert (second.json()["title"], second.json()["artist"], second.json()["duration"]) == ("Song", "Dash – Band", 61)
    response = await alice.save([first.json(), second.json()])
    assert response.status_code == 200, response.text
    assert response.json()["redirect"] == "/alice"

    songs = await rows(database_url, "SELECT * FROM songs ORDER BY position")
    assert [(s["title"], s["artist"], s["position"], s["duration"]) for s in songs] == [
        ("Blue Monday", "New Order", 0, 4),
        ("Song", "Dash – Band", 1, 61),
    ]
    assert [s["status"] for s in songs] == ["playing", "stopped"], "the first new song starts playing"
    owner_row = (await rows(database_url, "SELECT id, songs_count, active_profile_user_id FROM users"))[0]
    assert owner_row["songs_count"] == 2
    assert owner_row["active_profile_user_id"] == owner_row["id"], "the owner hears what started playing"
    for song in songs:
        uuid.UUID(song["storage_key"].removesuffix(".mp3"))
        assert (storage_dir / song["storage_key"]).stat().st_size == song["file_size"]
    assert not list(storage_dir.glob("*Monday*"))

    page = await alice.page("/alice")
    assert "2 songs" in page.text and "Blue Monday" in page.text and "1:01" in page.text
    assert "2 songs uploaded" in page.text


async def test_blanks_are_filled_from_id3_tags(browsers):
    alice = await browsers("alice")
    response = await alice.upload(
        "Just A Title.mp3", mp3_bytes(3, title="Ignored", artist="Tagged Artist", comment="CC BY 4.0 someone")
    )
    assert response.status_code == 200, response.text
    assert (response.json()["title"], response.json()["artist"], response.json()["attribution"]) == (
        "Just A Title",
        "Tagged Artist",
        "CC BY 4.0 someone",
    )
    untitled = await alice.upload(" - Only Artist.mp3", mp3_bytes(3, title="From Tag"))
    assert (untitled.json()["title"], untitled.json()["artist"]) == ("From Tag", "Only Artist")


async def test_not_an_mp3_is_refused_by_content(browsers):
    alice = await browsers("alice")
    response = await alice.upload("Fake - Song.mp3", b"<html>definitely not audio</html>" * 100)
    assert response.status_code == 422
    assert response.json()["error"] == "Fake - Song.mp3: not a valid MP3 file (the content is not MPEG audio)"
    png = await alice.upload("image.mp3", b"\x89PNG\r\n\x1a\n" + bytes(1000))
    assert "not a valid MP3 file" in png.json()["error"]
    tag_only = await alice.upload("tag.mp3", mp3_bytes(3, title="x")[: -len(mp3_frames(3))])
    assert tag_only.status_code == 422 and "not a valid MP3 file" in tag_only.json()["error"]
    empty = await alice.upload("empty.mp3", b"")
    assert empty.status_code == 422 and "not a valid MP3 file" in empty.json()["error"]


async def test_too_long_and_too_large_files_are_refused(browsers):
    alice = await browsers("alice")
    long_song = await alice.upload("Long.mp3", mp3_frames(20 * 60))
    assert long_song.status_code == 422
    assert long_song.json()["error"] == "Long.mp3: must be less than 20 minutes long"
    just_under = await alice.upload("Under.mp3", mp3_frames(20 * 60 - 1))
    assert just_under.status_code == 200, just_under.text
    huge = await alice.upload("Huge.mp3", mp3_frames(20 * 60) * 5)
    assert huge.status_code == 413
    assert huge.json()["error"] == "Huge.mp3 is larger than 20 MB, the most a song file may be."


async def test_batch_of_more_than_ten_is_refused(browsers, database_url):
    alice = await browsers("alice")
    pending = (await alice.upload("One.mp3", mp3_bytes(2))).json()
    batch = [pending | {"title": f"Song {index}", "artist": "A"} for index in range(11)]
    response = await alice.save(batch)
    assert response.status_code == 422
    assert response.json()["error"] == "You can upload at most 10 files at a time (you chose 11)."
    assert await rows(database_url, "SELECT id FROM songs") == []


async def insert_songs(database_url: str, user_id: int, count: int) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.executemany(
            "INSERT INTO songs (user_id, title, artist, duration, position, storage_key, file_size)"
            " VALUES ($1, $2, 'Filler', 60, $3, $4, 100)",
            [(user_id, f"Filler {index}", index, f"{uuid.uuid4()}.mp3") for index in range(count)],
        )
        await connection.execute("UPDATE users SET songs_count = $2 WHERE id = $1", user_id, count)
    finally:
        await connection.close()


async def test_thirty_songs_per_account(browsers, database_url):
    alice = await browsers("alice")
    await insert_songs(database_url, alice.user_id, 28)
    uploads = [(await alice.upload(f"New {index} - A.mp3", mp3_bytes(2))).json() for index in range(2)]
    response = await alice.save(uploads + [uploads[0] | {"title": "Third"}])
    assert response.status_code == 422
    assert response.json()["error"] == ("An account can hold at most 30 songs: you have 28, so you can add 2 more (you tried 3).")
    assert (await alice.save(uploads)).status_code == 200
    full = await alice.upload("One More - A.mp3", mp3_bytes(2))
    assert full.status_code == 422
    assert "at most 30 songs: you have 30, so you can add 0 more" in full.json()["error"]


async def test_duplicate_title_and_artist_is_refused(browsers, database_url):
    alice = await browsers("alice")
    await alice.add_songs([("Same - Band.mp3", mp3_bytes(2))])
    again = (await alice.upload("Same - Band.mp3", mp3_bytes(3))).json()
    response = await alice.save([again])
    assert response.status_code == 422
    assert response.json()["error"] == "You already have 'Same' by Band."
    twice = await alice.save([again | {"title": "Other"}, again | {"title": "Other"}])
    assert twice.json()["error"] == "'Other' by Band appears twice in this upload."
    assert len(await rows(database_url, "SELECT id FROM songs")) == 1
    bob = await browsers("bob")
    assert len(await bob.add_songs([("Same - Band.mp3", mp3_bytes(2))])) == 1, "other owners may have it"


async def test_blank_title_is_refused(browsers):
    alice = await browsers("alice")
    pending = (await alice.upload("x - y.mp3", mp3_bytes(2))).json()
    response = await alice.save([pending | {"title": "  "}])
    assert response.json()["error"] == "Song 1: title can't be blank."


async def test_only_the_owner_uploads(browsers, database_url):
    alice = await browsers("alice")
    bob = await browsers("bob")
    page = await bob.http.get("/alice/songs/new")
    assert page.status_code == 303 and page.headers["location"] == "/bob"
    assert "You can&#39;t do that" in (await bob.page("/bob")).text
    upload = await bob.upload("Sneaky - Song.mp3", mp3_bytes(2), username="alice")
    assert upload.status_code == 403
    pending = (await alice.upload("Mine - Song.mp3", mp3_bytes(2))).json()
    stolen = await bob.save([pending], username="alice")
    assert stolen.status_code == 403
    stolen_token = await bob.save([pending])
    assert stolen_token.status_code == 422
    assert "belongs to another account" in stolen_token.json()["error"]
    assert await rows(database_url, "SELECT id FROM songs") == []


async def test_signed_out_upload_gets_json_401(browsers):
    anonymous = await browsers()
    response = await anonymous.http.post("/alice/songs/uploads", content=mp3_bytes(2), headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.json() == {"error": "Please sign in."}


async def test_upload_needs_csrf_token(browsers):
    alice = await browsers("alice")
    alice.csrf = "forged"
    response = await alice.upload("Song - A.mp3", mp3_bytes(2))
    assert response.status_code == 403
    assert "reload" in response.json()["error"]


async def test_malformed_save_body_gets_clear_error(browsers):
    alice = await browsers("alice")
    response = await alice.http.post(
        "/alice/songs", content=b"{not json", headers={"X-CSRF-Token": alice.csrf, "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "Expected JSON" in response.json()["error"]
    forged = await alice.save([{"token": "forged", "title": "a", "artist": "b"}])
    assert forged.status_code == 422 and "upload the file again" in forged.json()["error"]


async def test_upload_page_mentions_expiry_and_limits(browsers):
    alice = await browsers("alice")
    page = await alice.page("/alice/songs/new")
    assert page.status_code == 200
    assert "Songs expire after six hours" in page.text
    assert re.search(r"up to 20 MB each and 10 at a time; an account holds at most 30 songs", page.text)


async def test_empty_profile_shows_friendly_state(browsers):
    alice = await browsers("alice")
    bob = await browsers("bob")
    assert "Upload some MP3s" in (await alice.page("/alice")).text
    other = await bob.page("/alice")
    assert "alice has not uploaded any songs yet" in other.text
    assert "(you)" not in other.text and "Upload songs" not in other.text
    assert (await bob.http.get("/nobody-here")).status_code == 404


async def test_streamed_upload_without_length_is_cut_at_the_limit(browsers):
    alice = await browsers("alice")

    async def body():
        chunk = mp3_frames(60)
        for _ in range(20 * MB // len(chunk) + 2):
            yield chunk

    response = await alice.http.post(
        "/alice/songs/uploads",
        params={"filename": "Endless.mp3"},
        content=body(),
        headers={"X-CSRF-Token": alice.csrf, "Content-Type": "audio/mpeg"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "Endless.mp3 is larger than 20 MB, the most a song file may be."


async def test_control_characters_never_reach_the_database(browsers, database_url):
    alice = await browsers("alice")
    pending = await alice.upload("Nul\x00 Title - Ar\x07tist.mp3", mp3_bytes(2))
    assert pending.status_code == 200, pending.text
    assert (pending.json()["title"], pending.json()["artist"]) == ("Nul Title", "Artist")
    response = await alice.save([pending.json() | {"attribution": "CC\x00 BY"}])
    assert response.status_code == 200, response.text
    [song] = await rows(database_url, "SELECT title, attribution FROM songs")
    assert (song["title"], song["attribution"]) == ("Nul Title", "CC BY")


async def test_odd_profile_paths_are_not_found(browsers):
    alice = await browsers("alice")
    for path in ("/%00", "/" + "x" * 300, "/a%20b", "/favicon.ico"):
        assert (await alice.http.get(path)).status_code == 404, path
