"""Careless and hostile requests: every part parsed with a bound, every bad one a clear 4xx.

After each test the server's log must hold no traceback: a bad request is the
client's problem, not an error of ours.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from fake_github import Account
from mp3gen import mp3_bytes
from support import receive
from test_signin import github_sign_in
from websockets.exceptions import ConnectionClosed

KIB = 1024


@pytest.fixture(autouse=True)
def no_traceback_in_the_log(server):
    start = server.log_path.stat().st_size
    yield
    with server.log_path.open("rb") as log:
        log.seek(start)
        written = log.read().decode(errors="replace")
    assert "Traceback" not in written, written[-3000:]


async def test_range_numbers_of_any_length_are_answered(browsers):
    alice = await browsers("alice")
    await alice.add_songs([("Song - Band.mp3", mp3_bytes(2))])
    async with alice.live() as socket:
        song = (await receive(socket, "state"))["player"]
    huge = "9" * 5000
    for header in (f"bytes={huge}-", f"bytes=0-{huge}", f"bytes=-{huge}"):
        response = await alice.http.get(song["url"], headers={"Range": header})
        assert response.status_code in (200, 206, 416), (header[:20], response.status_code)


async def test_oversized_bodies_are_refused_before_they_are_read(browsers):
    alice = await browsers("alice")
    await alice.page("/profile/settings")
    big_form = await alice.http.post(
        "/profile/settings", data={"csrf_token": alice.csrf, "username": "alice", "tagline": "x" * (2 * KIB * KIB)}
    )
    assert big_form.status_code == 413, big_form.status_code
    assert "at most 64 KB" in big_form.text
    song = {"token": "t", "title": "x" * 200, "artist": "y", "attribution": ""}
    big_json = await alice.http.post("/alice/songs", json={"songs": [song] * 2000}, headers={"X-CSRF-Token": alice.csrf})
    assert big_json.status_code == 413 and "at most 64 KB" in big_json.json()["error"]

    async def chunks():
        for _ in range(100):
            yield b"[" * KIB

    streamed = await alice.http.post("/alice/songs", content=chunks(), headers={"X-CSRF-Token": alice.csrf})
    assert streamed.status_code == 413


async def test_deeply_nested_json_is_a_clear_400(browsers):
    alice = await browsers("alice")
    await alice.page("/alice")
    nested = "[" * 50_000 + "]" * 50_000
    response = await alice.http.post(
        "/alice/songs",
        content=b'{"songs": ' + nested[:30_000].encode() + b"}",
        headers={"X-CSRF-Token": alice.csrf, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "Expected JSON" in response.json()["error"]
    async with alice.live() as socket:
        await socket.send('{"type": "ping", "x": ' + nested[:60_000] + "}")
        error = await receive(socket, "error")
        assert "nested" in error["message"]
        await socket.send('{"type": "ping"}')
        assert (await receive(socket, "pong"))["type"] == "pong"


async def test_head_is_answered_like_get(browsers):
    alice = await browsers("alice")
    await alice.add_songs([("Song - Band.mp3", mp3_bytes(2))])
    async with alice.live() as socket:
        song_url = (await receive(socket, "state"))["player"]["url"]
    for path in [
        "/",
        "/signin",
        "/alice",
        "/alice/songs/table",
        "/alice/songs/new",
        "/profile/settings",
        "/static/app.js",
        "/nobody",
        song_url,
    ]:
        get, head = await alice.http.get(path), await alice.http.head(path)
        assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
        assert head.content == b"", path


async def test_github_values_are_bounded_and_cleaned(browsers, github, database_url):
    github.next_account = Account(
        id=41,
        login="mallory",
        name="Mal\u202elory\x1b[2J" + "y" * 1000,
        avatar_url="javascript:alert(1)",
        html_url="javascript:alert(document.cookie)",
        emails=[
            {"email": "victim@example.com", "primary": True, "verified": False},
            {"email": "Mallory@Example.com", "verified": True},
        ],
    )
    browser = await browsers()
    response = await github_sign_in(browser)
    assert response.headers["location"] == "/mallory"
    page = await browser.page("/mallory")
    assert "javascript:" not in page.text
    connection = await asyncpg.connect(database_url)
    try:
        user = await connection.fetchrow("SELECT * FROM users")
    finally:
        await connection.close()
    assert user["email"] == "mallory@example.com", "an unverified address is never the account's email"
    assert user["name"] == ("Mallory[2J" + "y" * 1000)[:255], "controls and overrides gone, cut to 255"
    assert user["avatar_url"] is None and user["profile_url"] is None


async def test_a_login_with_a_trailing_newline_is_not_a_username(browsers, github, database_url):
    github.next_account = Account(id=43, login="mallory\n", emails=[{"email": "m@example.com", "primary": True}])
    browser = await browsers()
    response = await github_sign_in(browser)
    assert response.headers["location"] == "/"
    assert "login or id we cannot use" in (await browser.http.get("/signin")).text
    connection = await asyncpg.connect(database_url)
    try:
        assert await connection.fetch("SELECT username FROM users") == []
    finally:
        await connection.close()


async def test_only_unverified_emails_are_refused_clearly(browsers, github):
    github.next_account = Account(id=42, login="nobody", emails=[{"email": "x@example.com", "primary": True, "verified": False}])
    browser = await browsers()
    response = await github_sign_in(browser)
    assert response.headers["location"] == "/"
    text = (await browser.http.get("/signin")).text
    assert "no verified email address" in text


async def open_socket(browser, opened):
    socket = await browser.live().__aenter__()
    opened.append(socket)
    return socket


async def refused_with(socket) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed):
        while True:
            await socket.recv()
    return socket.close_code, socket.close_reason


async def test_live_sockets_per_session_and_per_user_are_capped(browsers):
    first, second, third = [await browsers("alice") for _ in range(3)]
    opened = []
    try:
        for _ in range(10):
            await receive(await open_socket(first, opened), "state")
        code, reason = await refused_with(await open_socket(first, opened))
        assert code == 1008 and "at most 10 live pages per browser" in reason
        for browser, count in ((second, 10), (third, 5)):
            for _ in range(count):
                await receive(await open_socket(browser, opened), "state")
        code, reason = await refused_with(await open_socket(third, opened))
        assert code == 1008 and "at most 25 live pages per account" in reason
        await opened[0].close()
        await asyncio.sleep(0.2)
        await receive(await open_socket(third, opened), "state")
    finally:
        for socket in opened:
            await socket.close()
