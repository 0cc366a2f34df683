"""The player keeps playing while a person moves around the app: links swap the
page content, the <audio> element and the live socket stay; history works; a page
opened directly is still rendered by the server."""

from __future__ import annotations

from playwright.async_api import expect

from .support import audio_state, expect_audio_playing, expect_listeners, expect_live, listen_to, upload_songs

WATCH_PLAYER = """() => {
  const audio = document.getElementById("audio");
  window.sameDocument = true;
  window.sameAudio = audio;
  window.playerEvents = [];
  for (const kind of ["pause", "emptied", "abort"]) audio.addEventListener(kind, () => window.playerEvents.push(kind));
  const sockets = window.socketsOpened = [];
  const Original = window.WebSocket;
  window.WebSocket = function (...args) { const socket = new Original(...args); sockets.push(args[0]); return socket; };
  Object.assign(window.WebSocket, Original);
}"""
PLAYER_KEPT = """() => ({
  sameDocument: window.sameDocument === true,
  sameAudio: window.sameAudio === document.getElementById("audio"),
  events: window.playerEvents,
  sockets: window.socketsOpened,
})"""


async def expect_player_kept(page, *, sockets: int) -> None:
    kept = await page.evaluate(PLAYER_KEPT)
    assert kept["sameDocument"], "the page was reloaded"
    assert kept["sameAudio"], "the <audio> element was replaced"
    assert kept["events"] == [], f"the player was interrupted: {kept['events']}"
    assert len(kept["sockets"]) == sockets, f"live sockets opened: {kept['sockets']}"
    await expect_audio_playing(page)


async def test_owner_keeps_hearing_the_song_while_moving_around(sign_in, song_files, server):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    await expect_audio_playing(owner)
    playing = (await audio_state(owner))["src"]
    await owner.evaluate(WATCH_PLAYER)

    await owner.get_by_role("navigation").get_by_role("link", name="Settings").click()
    await expect(owner).to_have_url(f"{server.url}/profile/settings")
    await expect(owner.get_by_role("heading", level=1)).to_have_text("Settings")
    await expect(owner).to_have_title("Morning Light - The Beats (Now Playing)")
    await expect_player_kept(owner, sockets=0)

    await owner.get_by_label("Tagline").fill("Morning music")
    await owner.get_by_role("button", name="Save").click()
    await expect(owner.get_by_role("alert")).to_have_text("Settings updated")
    await owner.get_by_role("navigation").get_by_role("link", name="My Songs").click()
    await expect(owner).to_have_url(f"{server.url}/owner")
    await expect(owner.get_by_role("heading", level=1)).to_have_text("Morning music (you)")
    await expect(owner.locator("#songs tr[data-song-id]")).to_have_count(2)

    await owner.go_back()
    await expect(owner).to_have_url(f"{server.url}/profile/settings")
    await expect(owner.get_by_role("heading", level=1)).to_have_text("Settings")
    await owner.go_forward()
    await expect(owner).to_have_url(f"{server.url}/owner")
    await expect(owner.locator("#songs tr[data-song-id]")).to_have_count(2)
    # One socket all along: moving to another page tells it which profile is shown.
    await expect_player_kept(owner, sockets=0)
    assert (await audio_state(owner))["src"] == playing
    # The profile page opened this way is live: the owner's controls still act.
    await owner.get_by_title("Next").click()
    await expect(owner.locator("#songs tr[data-song-id]").filter(has_text="Evening Tide")).to_have_attribute(
        "data-status", "playing"
    )


async def test_listener_moves_to_other_pages_and_stays_a_listener(sign_in, song_files):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    listener = await sign_in("listener")
    await listen_to(listener, "owner", "eu-west-2")
    await expect_audio_playing(listener)
    await listener.evaluate(WATCH_PLAYER)

    await listener.get_by_role("navigation").get_by_role("link", name="My Songs").click()
    await expect(listener.get_by_role("heading", level=1)).to_have_text("listener's beats (you)")
    await expect_player_kept(listener, sockets=0)
    await expect_listeners(owner, ["owner", "listener"])
    await listener.get_by_role("navigation").get_by_role("link", name="owner").click()
    await expect(listener.get_by_role("heading", level=1)).to_have_text("owner's beats")
    await expect_listeners(listener, ["owner", "listener"])
    await expect_player_kept(listener, sockets=0)


async def test_pages_opened_directly_are_rendered_by_the_server(sign_in, song_files):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    for path, text in [
        ("/owner", "Morning Light"),
        ("/profile/settings", "<h1>Settings</h1>"),
        ("/owner/songs/new", "Add music"),
    ]:
        response = await owner.request.get(path)
        assert response.status == 200
        assert text in await response.text(), path
    await owner.goto("/profile/settings")
    await expect(owner.get_by_role("heading", level=1)).to_have_text("Settings")
    await expect_audio_playing(owner)


async def test_moving_between_profiles_keeps_one_socket_and_live_listeners(sign_in, song_files):
    alice = await sign_in("alice")
    await upload_songs(alice, song_files)
    bob = await sign_in("bob")
    await upload_songs(bob, song_files)
    viewer = await sign_in("viewer")
    await viewer.goto("/alice")
    await expect_live(viewer, "eu-west-2")
    await expect_listeners(viewer, ["alice"])
    sockets = []
    viewer.on("websocket", lambda socket: sockets.append(socket.url))

    await viewer.get_by_role("navigation").get_by_role("link", name="bob").click()
    await expect(viewer.get_by_role("heading", level=1)).to_have_text("bob's beats")
    await expect_listeners(viewer, ["bob"])
    fan = await sign_in("fan")
    await listen_to(fan, "bob", "eu-west-2")
    await expect_listeners(viewer, ["bob", "fan"])
    await fan.get_by_role("button", name="Stop listening").click()
    await expect_listeners(viewer, ["bob"])

    await viewer.go_back()
    await expect(viewer.get_by_role("heading", level=1)).to_have_text("alice's beats")
    await expect_listeners(viewer, ["alice"])
    await listen_to(fan, "alice", "eu-west-2")
    await expect_listeners(viewer, ["alice", "fan"])
    assert sockets == [], f"live sockets opened while moving between profiles: {sockets}"
