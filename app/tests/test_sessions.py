"""Sessions are revocable: sign-out and "sign out everywhere" end them on every node, sockets included."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from support import Browser, receive
from websockets.exceptions import ConnectionClosed, InvalidStatus

REMOTE_ORIGIN = "https://livebeats.example.test"


def copy_of(browser: Browser) -> Browser:
    """Another user agent holding a copy of the browser's cookie, as a thief would."""
    thief = Browser(browser.server)
    thief.http.cookies = httpx.Cookies(browser.http.cookies)
    thief.user_id, thief.username = browser.user_id, browser.username
    return thief


async def closed_with(socket, seconds: float = 5.0) -> int | None:
    async def until_closed() -> None:
        with pytest.raises(ConnectionClosed):
            while True:
                await socket.recv()

    await asyncio.wait_for(until_closed(), seconds)
    return socket.close_code


async def socket_refused(browser: Browser, **kwargs) -> bool:
    try:
        async with browser.live(**kwargs) as socket:
            await socket.send('{"type": "ping"}')
            await receive(socket, "pong")
    except (InvalidStatus, ConnectionClosed):
        return True
    return False


async def test_a_cookie_copied_before_sign_out_opens_nothing_after(browsers):
    alice = await browsers("alice")
    stolen = copy_of(alice)
    try:
        assert (await stolen.http.get("/profile/settings")).status_code == 200
        assert (await alice.http.post("/signout", data={"csrf_token": alice.csrf})).status_code == 303
        assert (await stolen.http.get("/profile/settings")).headers.get("location") == "/signin"
        assert (await stolen.http.get("/alice")).headers.get("location") == "/signin"
        assert await socket_refused(stolen)
    finally:
        await stolen.close()


async def test_sign_out_everywhere_ends_every_session_in_both_regions(browsers, second_server):
    here = await browsers("alice")
    there = await browsers("alice", target=second_server)
    bystander = await browsers("bob", target=second_server)
    async with (
        here.live() as local,
        there.live(origin=REMOTE_ORIGIN) as remote,
        bystander.live(origin=REMOTE_ORIGIN) as unrelated,
    ):
        for socket in (local, remote, unrelated):
            await receive(socket, "state")
        settings = await here.page("/profile/settings")
        assert "Sign out everywhere" in settings.text
        response = await here.http.post("/signout/everywhere", data={"csrf_token": here.csrf})
        assert response.headers["location"] == "/signin"
        assert await closed_with(local) == 4001
        assert await closed_with(remote) == 4001
        await unrelated.send('{"type": "ping"}')
        assert (await receive(unrelated, "pong"))["region"] == "us-east-1"
    assert (await there.http.get("/profile/settings")).headers.get("location") == "/signin"
    assert (await here.http.get("/profile/settings")).headers.get("location") == "/signin"
    assert (await bystander.http.get("/profile/settings")).status_code == 200
    assert await socket_refused(there, origin=REMOTE_ORIGIN)


async def test_sign_out_everywhere_needs_the_csrf_token(browsers):
    alice = await browsers("alice")
    await alice.page("/profile/settings")
    response = await alice.http.post("/signout/everywhere", data={"csrf_token": "forged"})
    assert response.headers["location"] == "/profile/settings"
    assert (await alice.http.get("/profile/settings")).status_code == 200


async def test_sessions_checked_together_are_each_live_only_if_checked_alone(engine, database_url):
    """The batched check the live sockets use keeps `user`'s rule: right user, row present, not expired."""
    from datetime import timedelta

    import asyncpg
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from livebeats.accounts.sessions import BrowserSessions
    from livebeats.clock import utc_now

    connection = await asyncpg.connect(database_url)
    try:
        alice, bob = [
            await connection.fetchval(
                "INSERT INTO users (email, username, name, tagline) VALUES ($1, $1, $1, '') RETURNING id", name
            )
            for name in ("alice", "bob")
        ]
    finally:
        await connection.close()
    factory = async_sessionmaker(engine, expire_on_commit=False)
    now = BrowserSessions(factory)
    live, revoked = await now.start(alice), await now.start(alice)
    expired = await BrowserSessions(factory, clock=lambda: utc_now() - timedelta(days=30)).start(bob)
    await now.end(revoked)
    asked = [(alice, live), (bob, live), (alice, revoked), (bob, expired), (alice, "made-up")]

    found = await now.users(asked)

    assert {pair: user.username for pair, user in found.items()} == {(alice, live): "alice"}
    for user_id, session_id in asked:
        alone = await now.user(user_id, session_id)
        assert (alone is not None) == ((user_id, session_id) in found)


@pytest.mark.parametrize("node", ["server", "public_server"])
async def test_a_page_whose_session_ended_is_sent_to_sign_in(browsers, request, node):
    """Its socket closes with 4001 (the page goes to /signin), also where PUBLIC_PROFILES would serve a visitor."""
    target = request.getfixturevalue(node)
    alice = await browsers("alice", target=target)
    stale = copy_of(alice)
    try:
        assert (await alice.http.post("/signout", data={"csrf_token": alice.csrf})).status_code == 303
        async with stale.live(alice.user_id) as socket:
            assert await closed_with(socket) == 4001
            assert socket.close_reason == "signed out"
    finally:
        await stale.close()
