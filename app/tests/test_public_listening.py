"""Public listening (PUBLIC_PROFILES): a signed-out visitor follows a profile's playback, without controls or a name.

`server` runs with the setting at its default (off), `public_server` with it on; both share the database.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from mp3gen import mp3_bytes
from support import Browser, drain, owner_with_songs, receive
from websockets.exceptions import ConnectionClosed, InvalidStatus

from livebeats.live.limits import MAX_PUBLIC_SOCKETS_PER_ADDRESS

CONTROLS = (
    'id="listen"',
    'id="stop-listening"',
    "song-toggle",
    'class="icon-button move"',
    'class="icon-button delete"',
    "player-controls",
    "player-stop",
    "Upload songs",
    'draggable="true"',
)
"""Markup of a control that needs an account: none of it is on a public listener's page."""


async def test_off_by_default_a_visitor_is_sent_to_sign_in_and_their_socket_refused(browsers, server):
    owner, _ = await owner_with_songs(browsers, target=server)
    visitor = await browsers()
    for path in ("/owner", "/owner/songs/table"):
        response = await visitor.page(path)
        assert (response.status_code, response.headers["location"]) == (303, "/signin"), path
    with pytest.raises(InvalidStatus) as refused:
        async with visitor.live(owner.user_id):
            pass
    assert refused.value.response.status_code == 403


async def test_a_visitor_gets_the_profile_without_controls(browsers, public_server):
    await owner_with_songs(browsers, target=public_server)
    visitor = await browsers(target=public_server)
    page = await visitor.page("/owner")
    assert page.status_code == 200
    assert "Song 0" in page.text and "Song 1" in page.text
    assert 'data-live="true" data-public-listener="true"' in page.text and '<audio id="audio"' in page.text
    assert 'id="sidebar"' not in page.text, "no account menu, no active users"
    assert 'href="/signin"' in page.text
    found = [control for control in CONTROLS if control in page.text]
    assert found == []
    table = await visitor.page("/owner/songs/table")
    assert table.status_code == 200 and "Song 0" in table.text
    assert [control for control in CONTROLS if control in table.text] == []
    for path in ("/owner/songs/new", "/profile/settings"):
        response = await visitor.page(path)
        assert (response.status_code, response.headers["location"]) == (303, "/signin"), path


async def test_the_owner_sees_their_controls_on_the_public_node(browsers, public_server):
    owner, _ = await owner_with_songs(browsers, target=public_server)
    page = await owner.page("/owner")
    assert "song-toggle" in page.text and "player-controls" in page.text and "data-public-listener" not in page.text


async def test_a_visitors_socket_follows_the_owners_playback(browsers, public_server):
    owner, songs = await owner_with_songs(browsers, target=public_server)
    visitor = await browsers(target=public_server)
    async with visitor.live(owner.user_id) as public, owner.live(owner.user_id) as owner_socket:
        state = await receive(public, "state")
        assert state["listening_profile_id"] == owner.user_id and state["active_users"] == []
        assert (state["player"]["id"], state["player"]["status"]) == (songs[0], "playing")
        assert state["player"]["url"].startswith(f"/files/{songs[0]}?token=")
        await receive(owner_socket, "state")
        await owner_socket.send(json.dumps({"type": "toggle", "song_id": songs[0]}))
        paused = await receive(public, "playback", lambda m: m["song"]["status"] == "paused")
        assert paused["song"]["id"] == songs[0]
        await owner_socket.send(json.dumps({"type": "play", "song_id": songs[1]}))
        playing = await receive(public, "playback", lambda m: m["song"]["id"] == songs[1])
        assert playing["song"]["status"] == "playing" and playing["song"]["elapsed"] < 2
        file = await visitor.http.get(playing["song"]["url"])
        assert file.status_code == 200 and len(file.content) > 0
        later = await drain(public, 1.5)
        assert not [m for m in later if m["type"] in {"active_users", "listening", "signed_out"}], later


async def test_a_visitors_commands_are_refused_and_change_nothing(browsers, public_server, database_url):
    owner, songs = await owner_with_songs(browsers, target=public_server)
    visitor = await browsers(target=public_server)
    async with visitor.live(owner.user_id) as public:
        await receive(public, "state")
        commands = [
            {"type": "toggle", "song_id": songs[0]},
            {"type": "play", "song_id": songs[1]},
            {"type": "pause", "song_id": songs[0]},
            {"type": "next"},
            {"type": "prev"},
            {"type": "ended", "song_id": songs[0]},
            {"type": "listen", "profile_id": owner.user_id},
            {"type": "stop_listening"},
            {"type": "delete", "song_id": songs[1]},
            {"type": "move", "song_id": songs[1], "position": 0},
        ]
        for command in commands:
            await public.send(json.dumps(command))
            assert (await receive(public, "error"))["message"] == "Sign in to do that.", command
        await public.send('{"type": "toggle"}')
        assert "'song_id' must be a non-negative integer" in (await receive(public, "error"))["message"]
        await public.send(json.dumps({"type": "ping", "sent_at": 7, "rtt_ms": 12}))
        assert (await receive(public, "pong"))["sent_at"] == 7
    async with owner.live(owner.user_id) as owner_socket:
        state = await receive(owner_socket, "state")
        assert (state["player"]["id"], state["player"]["status"]) == (songs[0], "playing")
    table = await owner.page("/owner/songs/table")
    assert table.text.index("Song 0") < table.text.index("Song 1")


async def test_a_visitor_who_views_another_profile_follows_it_instead(browsers, public_server):
    owner, songs = await owner_with_songs(browsers, target=public_server)
    other = await browsers("other", target=public_server)
    other_songs = await other.add_songs([("Elsewhere - Band.mp3", mp3_bytes(60))])
    visitor = await browsers(target=public_server)
    async with visitor.live(owner.user_id) as public, owner.live(owner.user_id) as owner_socket:
        await receive(public, "state")
        await receive(owner_socket, "state")
        await public.send(json.dumps({"type": "view", "profile": other.user_id}))
        assert (await receive(public, "listeners", lambda m: m["profile_id"] != owner.user_id))["profile_id"] == other.user_id
        listening = await receive(public, "listening")
        assert listening["profile_id"] == other.user_id and listening["player"]["id"] == other_songs[0]
        await owner_socket.send(json.dumps({"type": "toggle", "song_id": songs[0]}))
        await receive(owner_socket, "playback")
        assert [m for m in await drain(public, 0.5) if m["type"] == "playback"] == [], "the first profile is not followed"
        await public.send(json.dumps({"type": "view", "profile": 424242}))
        assert (await receive(public, "error"))["message"] == "That profile no longer exists."


async def test_a_visitor_is_not_a_named_listener(browsers, public_server):
    owner, _ = await owner_with_songs(browsers, count=1, target=public_server)
    fan = await browsers("fan", target=public_server)
    visitor = await browsers(target=public_server)
    async with owner.live(owner.user_id) as watcher, fan.live(owner.user_id) as fan_socket:
        await receive(watcher, "state")
        await receive(fan_socket, "state")
        await fan_socket.send(json.dumps({"type": "listen", "profile_id": owner.user_id}))
        await receive(watcher, "listeners", lambda m: m["count"] == 2)
        async with visitor.live(owner.user_id) as public:
            await receive(public, "state")
            shown = await receive(public, "listeners")
            assert sorted(user["username"] for user in shown["users"]) == ["fan", "owner"] and shown["count"] == 2
            await public.send(json.dumps({"type": "ping", "sent_at": 1, "rtt_ms": 40}))
            await receive(public, "pong")
            later = [m for m in await drain(watcher, 1.5) if m["type"] == "listeners"]
            assert all(m["count"] == 2 for m in later), later
            page = await fan.page("/owner")
            assert 'id="listener-count">2<' in page.text
    async with fan.live(owner.user_id) as fan_again:
        assert [user["username"] for user in (await receive(fan_again, "state"))["active_users"]] == ["owner"]


async def test_public_sockets_are_capped_per_address(browsers, public_server):
    owner, _ = await owner_with_songs(browsers, count=1, target=public_server)
    visitor = await browsers(target=public_server)
    opened = []
    try:
        for _ in range(MAX_PUBLIC_SOCKETS_PER_ADDRESS):
            socket = await visitor.live(owner.user_id).__aenter__()
            opened.append(socket)
            await receive(socket, "state")
        async with visitor.live(owner.user_id) as extra:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(extra.recv(), 5)
            assert extra.close_code == 1008 and "signed-out live pages per address" in extra.close_reason
        await opened.pop().close()
        await asyncio.sleep(0.2)
        async with visitor.live(owner.user_id) as again:
            await receive(again, "state")
    finally:
        for socket in opened:
            await socket.close()


async def test_a_visitors_socket_is_still_origin_checked_and_must_name_a_profile(browsers, public_server):
    owner, _ = await owner_with_songs(browsers, count=1, target=public_server)
    visitor = await browsers(target=public_server)
    for socket in (visitor.live(owner.user_id, origin="http://evil.example"), visitor.live()):
        with pytest.raises(InvalidStatus) as refused:
            async with socket:
                pass
        assert refused.value.response.status_code == 403


async def test_a_browser_whose_session_ended_can_listen_as_a_visitor_after_one_page(browsers, public_server):
    """The page it loads drops the ended session's user from its cookie, so its socket is a visitor's, not sent to sign in."""
    owner, songs = await owner_with_songs(browsers, target=public_server)
    alice = await browsers("alice", target=public_server)
    stale = Browser(public_server)
    stale.http.cookies = httpx.Cookies(alice.http.cookies)
    try:
        assert (await alice.http.post("/signout", data={"csrf_token": alice.csrf})).status_code == 303
        page = await stale.page("/owner")
        assert page.status_code == 200 and 'data-public-listener="true"' in page.text
        async with stale.live(owner.user_id) as socket:
            state = await receive(socket, "state")
            assert state["player"]["id"] == songs[0]
    finally:
        await stale.close()
