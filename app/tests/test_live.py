"""The live socket end to end: origin check, bad input, playback, presence, other nodes."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from mp3gen import mp3_bytes
from support import drain, owner_with_songs, receive
from websockets.exceptions import ConnectionClosed, InvalidStatus


async def sql(database_url: str, query: str, *args):
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def test_origin_must_match_host_ignoring_case(browsers, server):
    alice = await browsers("alice")
    async with alice.live(origin=server.url.upper().replace("HTTP://", "http://")) as socket:
        assert (await receive(socket, "state"))["region"] == "eu-west-2"
    for origin in ("http://evil.example", f"http://127.0.0.1:{server.port + 1}", "null"):
        with pytest.raises(InvalidStatus) as refused:
            async with alice.live(origin=origin):
                pass
        assert refused.value.response.status_code == 403


async def test_origin_must_match_app_hostname_when_set(browsers, second_server):
    alice = await browsers("alice", target=second_server)
    async with alice.live(origin="https://livebeats.EXAMPLE.test") as socket:
        state = await receive(socket, "state")
        assert (state["region"], state["primary_region"]) == ("us-east-1", "eu-west-2")
    with pytest.raises(InvalidStatus) as refused:
        async with alice.live(origin=second_server.url):
            pass
    assert refused.value.response.status_code == 403


async def test_signed_out_socket_is_refused(browsers):
    anonymous = await browsers()
    with pytest.raises(InvalidStatus) as refused:
        async with anonymous.live():
            pass
    assert refused.value.response.status_code == 403


async def test_malformed_messages_get_errors_and_the_socket_survives(browsers):
    alice = await browsers("alice")
    async with alice.live(alice.user_id) as socket:
        await receive(socket, "state")
        cases = {
            "{not json": "not valid JSON",
            "[1, 2]": 'JSON object with a "type"',
            '{"no": "type"}': 'JSON object with a "type"',
            '{"type": 5}': 'JSON object with a "type"',
            '{"type": "launch_missiles"}': "Unknown message type 'launch_missiles'",
            '{"type": "toggle"}': "'song_id' must be a non-negative integer",
            '{"type": "toggle", "song_id": "7"}': "'song_id' must be a non-negative integer",
            '{"type": "toggle", "song_id": true}': "'song_id' must be a non-negative integer",
            '{"type": "toggle", "song_id": 999999}': "That song no longer exists.",
            '{"type": "toggle", "song_id": 99999999999999999999}': "'song_id' must be a non-negative integer",
            '{"type": "move", "song_id": 1, "position": -1}': "'position' must be a non-negative integer",
            '{"type": "listen", "profile_id": 424242}': "That profile no longer exists.",
        }
        for text, expected in cases.items():
            await socket.send(text)
            assert expected in (await receive(socket, "error"))["message"], text
        await socket.send(b"\x00\x01binary")
        assert "not binary" in (await receive(socket, "error"))["message"]
        await socket.send(json.dumps({"type": "ping", "sent_at": 1.5, "rtt_ms": "fast"}))
        assert (await receive(socket, "pong"))["sent_at"] == 1.5


async def test_message_flood_is_throttled_without_closing(browsers):
    alice = await browsers("alice")
    async with alice.live() as socket:
        await receive(socket, "state")
        for index in range(60):
            await socket.send(json.dumps({"type": "ping", "sent_at": index}))
        messages = await drain(socket, 1.0)
        pongs = [m for m in messages if m["type"] == "pong"]
        throttled = [m for m in messages if m["type"] == "error"]
        assert 20 <= len(pongs) < 60 and len(pongs) + len(throttled) == 60
        assert throttled[0]["message"].startswith("Too many messages")
        await asyncio.sleep(0.5)
        await socket.send(json.dumps({"type": "ping", "sent_at": "again"}))
        assert (await receive(socket, "pong"))["sent_at"] == "again"


async def test_oversized_message_closes_cleanly_and_others_keep_working(browsers):
    alice = await browsers("alice")
    async with alice.live() as big, alice.live() as other:
        await receive(big, "state")
        await big.send("x" * (128 * 1024))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(drain(big, 2), 5)
            await big.recv()
        assert big.close_code == 1009
        await other.send('{"type": "ping"}')
        assert (await receive(other, "pong"))["region"] == "eu-west-2"


async def test_owner_plays_and_listeners_follow_at_the_same_second(browsers, database_url):
    owner, songs = await owner_with_songs(browsers)
    listener = await browsers("listener")
    async with listener.live(owner.user_id) as listener_socket, owner.live(owner.user_id) as owner_socket:
        state = await receive(listener_socket, "state")
        assert state["listening_profile_id"] is None
        await listener_socket.send(json.dumps({"type": "listen", "profile_id": owner.user_id}))
        listening = await receive(listener_socket, "listening")
        assert listening["profile_id"] == owner.user_id
        assert listening["player"]["id"] == songs[0] and listening["player"]["status"] == "playing"

        await owner_socket.send(json.dumps({"type": "toggle", "song_id": songs[0]}))
        paused = await receive(listener_socket, "playback", lambda m: m["song"]["status"] == "paused")
        assert paused["song"]["id"] == songs[0]
        await owner_socket.send(json.dumps({"type": "play", "song_id": songs[1]}))
        playing = await receive(listener_socket, "playback", lambda m: m["song"]["id"] == songs[1])
        assert playing["song"]["status"] == "playing" and playing["song"]["elapsed"] < 2
        assert playing["song"]["url"].startswith(f"/files/{songs[1]}?token=")

        await listener_socket.send(json.dumps({"type": "toggle", "song_id": songs[1]}))
        refused = await receive(listener_socket, "error")
        assert refused["message"] == "Only the profile's owner can control its playback."
        await listener_socket.send(json.dumps({"type": "next"}))
        await listener_socket.send(json.dumps({"type": "delete", "song_id": songs[1]}))
        assert "only the owner can delete" in (await receive(listener_socket, "error"))["message"]

    await sql(database_url, "UPDATE songs SET played_at = now() - interval '30 seconds' WHERE id = $1", songs[1])
    async with listener.live(owner.user_id) as late:
        state = await receive(late, "state")
        assert state["listening_profile_id"] == owner.user_id, "the listened-to profile is remembered"
        assert state["player"]["id"] == songs[1]
        assert 30 <= state["player"]["elapsed"] < 32


async def test_next_and_previous_wrap_over_the_socket(browsers):
    owner, songs = await owner_with_songs(browsers, count=3)
    async with owner.live(owner.user_id) as socket:
        await receive(socket, "state")
        for step, expected in (("prev", songs[2]), ("next", songs[0]), ("next", songs[1])):
            await socket.send(json.dumps({"type": step}))
            message = await receive(socket, "playback")
            assert message["song"]["id"] == expected, step


async def test_every_listener_asking_for_the_next_song_advances_once(browsers, database_url):
    owner, songs = await owner_with_songs(browsers, count=3)
    await sql(database_url, "UPDATE songs SET played_at = now() - interval '57 seconds' WHERE id = $1", songs[0])
    listeners = [await browsers(f"listener{index}") for index in range(12)]
    sockets = []
    for listener in listeners:
        socket = await listener.live(owner.user_id).__aenter__()
        sockets.append(socket)
        await receive(socket, "state")
        await socket.send(json.dumps({"type": "listen", "profile_id": owner.user_id}))
        await receive(socket, "listening")
    try:
        await asyncio.gather(*(socket.send(json.dumps({"type": "ended", "song_id": songs[0]})) for socket in sockets))
        advanced = await receive(sockets[0], "playback")
        assert advanced["song"]["id"] == songs[1]
        later = [m for m in await drain(sockets[0], 1.0) if m["type"] == "playback"]
        assert later == [], "exactly one advance"
        rows = await sql(database_url, "SELECT id, status FROM songs ORDER BY position")
        assert [row["status"] for row in rows] == ["stopped", "playing", "stopped"]
    finally:
        for socket in sockets:
            await socket.close()


async def test_presence_counts_users_once_and_caps_badges(browsers):
    owner, _ = await owner_with_songs(browsers, count=1)
    async with owner.live(owner.user_id) as watcher:
        await receive(watcher, "state")
        await receive(watcher, "listeners")
        opened = []
        try:
            for index in range(21):
                listener = await browsers(f"fan{index:02d}")
                for _ in range(2 if index == 0 else 1):
                    socket = await listener.live().__aenter__()
                    opened.append(socket)
                    await receive(socket, "state")
                    await socket.send(json.dumps({"type": "listen", "profile_id": owner.user_id}))
                    await receive(socket, "listening")
            message = await receive(watcher, "listeners", lambda m: m["count"] == 22, timeout=10)
            assert len(message["users"]) == 20
            assert len({user["id"] for user in message["users"]}) == 20

            await opened[0].send(json.dumps({"type": "ping", "sent_at": 0, "rtt_ms": 42}))
            with_ping = await receive(
                watcher,
                "listeners",
                lambda m: any(u.get("meta", {}).get("ping_ms") == 42 for u in m["users"]),
                timeout=5,
            )
            fan = next(u for u in with_ping["users"] if u["meta"].get("ping_ms") == 42)
            assert (fan["username"], fan["meta"]["region"]) == ("fan00", "eu-west-2")

            await opened[1].close()
            await asyncio.sleep(0.3)
            page = (await owner.page(f"/{owner.username}")).text
            assert page.count('class="badge"') == 20
            assert 'id="listener-count">22<' in page, "the owner, and fan00 with one tab left"
            assert "+ <span>2</span> more" in page
            await opened[0].send(json.dumps({"type": "stop_listening"}))
            await receive(watcher, "listeners", lambda m: m["count"] == 21, timeout=5)
        finally:
            for socket in opened:
                await socket.close()


async def test_events_reach_sockets_on_another_node(browsers, second_server):
    owner, songs = await owner_with_songs(browsers)
    remote = await browsers("remote", target=second_server)
    async with remote.live(owner.user_id, origin="https://livebeats.example.test") as socket:
        await receive(socket, "state")
        await socket.send(json.dumps({"type": "listen", "profile_id": owner.user_id}))
        await receive(socket, "listening")
        async with owner.live(owner.user_id) as owner_socket:
            await receive(owner_socket, "state")
            await owner_socket.send(json.dumps({"type": "play", "song_id": songs[1]}))
            message = await receive(socket, "playback", lambda m: m["song"]["id"] == songs[1])
            assert message["song"]["status"] == "playing"
            listeners = await receive(owner_socket, "listeners", lambda m: m["count"] == 2)
            assert sorted(user["username"] for user in listeners["users"]) == ["owner", "remote"]


async def test_delete_renumbers_and_tells_watchers(browsers, database_url, storage_dir):
    owner, songs = await owner_with_songs(browsers, count=3)
    viewer = await browsers("viewer")
    keys = {row["id"]: row["storage_key"] for row in await sql(database_url, "SELECT id, storage_key FROM songs")}
    async with viewer.live(owner.user_id) as watcher, owner.live(owner.user_id) as socket:
        await receive(watcher, "state")
        await receive(socket, "state")
        await socket.send(json.dumps({"type": "delete", "song_id": songs[0]}))
        deleted = await receive(watcher, "songs_deleted")
        assert deleted["song_ids"] == [songs[0]]
        stopped = await receive(socket, "playback")
        assert stopped["song"] is None, "the playing song was deleted"
    rows = await sql(database_url, "SELECT id, position FROM songs ORDER BY position")
    assert [(row["id"], row["position"]) for row in rows] == [(songs[1], 0), (songs[2], 1)]
    assert (await sql(database_url, "SELECT songs_count FROM users WHERE id = $1", owner.user_id))[0][0] == 2
    assert not (storage_dir / keys[songs[0]]).exists()
    assert (storage_dir / keys[songs[1]]).exists()


async def test_drag_and_drop_reorder_is_seen_by_watchers(browsers, database_url):
    owner, songs = await owner_with_songs(browsers, count=3)
    viewer = await browsers("viewer")
    async with viewer.live(owner.user_id) as watcher, owner.live(owner.user_id) as socket:
        await receive(watcher, "state")
        await socket.send(json.dumps({"type": "move", "song_id": songs[2], "position": 0}))
        reordered = await receive(watcher, "songs_reordered")
        assert reordered["order"] == [songs[2], songs[0], songs[1]]
        await socket.send(json.dumps({"type": "move", "song_id": songs[0], "position": 3}))
        assert "Position must be between 0 and 2" in (await receive(socket, "error"))["message"]
        await watcher.send(json.dumps({"type": "move", "song_id": songs[0], "position": 0}))
        assert "only the owner can reorder" in (await receive(watcher, "error"))["message"]
    rows = await sql(database_url, "SELECT id FROM songs ORDER BY position")
    assert [row["id"] for row in rows] == [songs[2], songs[0], songs[1]]
    table = await viewer.page(f"/{owner.username}/songs/table")
    assert table.text.index(f'data-song-id="{songs[2]}"') < table.text.index(f'data-song-id="{songs[0]}"')


async def test_active_users_lists_who_is_playing(browsers):
    viewer = await browsers("viewer")
    async with viewer.live() as socket:
        assert (await receive(socket, "state"))["active_users"] == []
        owner, _ = await owner_with_songs(browsers, count=1)
        message = await receive(socket, "active_users", lambda m: m["users"])
        assert [user["username"] for user in message["users"]] == ["owner"]


async def test_renaming_moves_open_profile_pages(browsers):
    owner = await browsers("owner")
    viewer = await browsers("viewer")
    async with viewer.live(owner.user_id) as watcher:
        await receive(watcher, "state")
        await owner.page("/profile/settings")
        response = await owner.http.post(
            "/profile/settings", data={"username": "Renamed", "tagline": "new tag", "csrf_token": owner.csrf}
        )
        assert response.status_code == 303
        renamed = await receive(watcher, "profile_renamed")
        assert renamed["username"] == "Renamed"


async def test_page_gets_fresh_state_after_the_realtime_connection_returns(browsers, database_url):
    owner, songs = await owner_with_songs(browsers, count=1)
    async with owner.live(owner.user_id) as socket:
        first = await receive(socket, "state")
        assert first["player"]["id"] == songs[0]
        await sql(
            database_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'livebeats-listen %'",
        )
        again = await receive(socket, "state", timeout=10)
        assert again["player"]["id"] == songs[0] and again["region"] == "eu-west-2"
        await socket.send(json.dumps({"type": "ping"}))
        assert (await receive(socket, "pong"))["region"] == "eu-west-2"


async def test_view_moves_the_socket_to_another_profile(browsers):
    alice, bob, viewer, fan = [await browsers(name) for name in ("alice", "bob", "viewer", "fan")]
    for owner in (alice, bob):
        await owner.add_songs([("Song - Band.mp3", mp3_bytes(60))])
    usernames = lambda message: sorted(user["username"] for user in message["users"])  # noqa: E731
    async with viewer.live(alice.user_id) as socket, fan.live() as fan_socket:
        await receive(socket, "state")
        assert (await receive(socket, "listeners"))["profile_id"] == alice.user_id
        await receive(fan_socket, "state")

        await socket.send(json.dumps({"type": "view", "profile": bob.user_id}))
        listeners = await receive(socket, "listeners")
        assert listeners["profile_id"] == bob.user_id and "fan" not in usernames(listeners)
        await fan_socket.send(json.dumps({"type": "listen", "profile_id": alice.user_id}))
        await receive(fan_socket, "listening")
        await fan_socket.send(json.dumps({"type": "listen", "profile_id": bob.user_id}))
        joined = await receive(socket, "listeners", lambda m: "fan" in usernames(m))
        assert joined["profile_id"] == bob.user_id
        # Alice's listeners (the fan coming and going) are no longer this page's business.
        later = await drain(socket, 0.5)
        assert all(m["profile_id"] == bob.user_id for m in [listeners, joined, *later] if m["type"] == "listeners")

        await socket.send(json.dumps({"type": "view", "profile": None}))
        await fan_socket.send(json.dumps({"type": "stop_listening"}))
        await receive(fan_socket, "listening", lambda m: m["profile_id"] is None)
        await socket.send(json.dumps({"type": "ping", "sent_at": "after"}))
        await receive(socket, "pong")
        assert [m for m in await drain(socket, 0.5) if m["type"] == "listeners"] == []


async def test_bad_view_messages_get_errors_and_keep_the_view(browsers):
    alice = await browsers("alice")
    async with alice.live(alice.user_id) as socket:
        await receive(socket, "state")
        await receive(socket, "listeners")
        cases = {
            '{"type": "view"}': "'profile' must be a non-negative integer or null",
            '{"type": "view", "profile": "2"}': "'profile' must be a non-negative integer or null",
            '{"type": "view", "profile": -1}': "'profile' must be a non-negative integer or null",
            '{"type": "view", "profile": true}': "'profile' must be a non-negative integer or null",
            '{"type": "view", "profile": 99999999999999999999}': "'profile' must be a non-negative integer or null",
            '{"type": "view", "profile": 424242}': "That profile no longer exists.",
        }
        for text, expected in cases.items():
            await socket.send(text)
            assert expected in (await receive(socket, "error"))["message"], text
        await socket.send(json.dumps({"type": "view", "profile": alice.user_id}))
        assert (await receive(socket, "listeners"))["profile_id"] == alice.user_id
