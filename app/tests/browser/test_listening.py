"""Scenarios 3–6 and 9: an owner plays, a listener in another browser context hears it live."""

from __future__ import annotations

import re

import asyncpg
from playwright.async_api import Page, expect

from .support import (
    audio_state,
    expect_audio_paused,
    expect_audio_playing,
    expect_listeners,
    expect_live,
    listen_to,
    position_gap,
    song_row,
    upload_songs,
)

SAME_SECOND = 1.5
"""Seconds two browsers may differ in playback position and still hear "the same second"."""
FILE_PATH = re.compile(r"/files/(\d+)\?")


def playing_file(state: dict) -> str:
    match = FILE_PATH.search(state["src"])
    assert match, f"the player has no song file: {state['src']!r}"
    return match.group(1)


async def owner_and_listener(sign_in, song_files, listener_node=None, listener_region="eu-west-2") -> tuple[Page, Page]:
    """The owner uploads two songs (the first starts playing); a listener joins from another browser."""
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    await expect_audio_playing(owner)
    listener = await sign_in("listener", node=listener_node)
    await listen_to(listener, "owner", listener_region)
    await expect_audio_playing(listener)
    return owner, listener


async def expect_same_song_same_second(owner: Page, listener: Page, title: str) -> None:
    for page in (owner, listener):
        await expect(page.locator("#player-title")).to_have_text(title)
        await expect_audio_playing(page)
    assert playing_file(await audio_state(owner)) == playing_file(await audio_state(listener))
    gap = await position_gap(owner, listener)
    assert gap <= SAME_SECOND, f"the listener is {gap:.2f} s away from the owner"


async def test_listener_hears_the_same_second_and_both_see_each_other(sign_in, song_files, save_screenshot):
    owner, listener = await owner_and_listener(sign_in, song_files)

    await expect_same_song_same_second(owner, listener, "Morning Light")
    for page in (owner, listener):
        await expect_listeners(page, ["owner", "listener"])
        await expect(song_row(page, "Morning Light")).to_have_attribute("data-status", "playing")
    # Each badge shows that listener's ping and region once its second ping (5 s apart) is shared.
    await expect(owner.locator("#listeners .badge small")).to_have_count(2, timeout=12_000)
    for detail in await owner.locator("#listeners .badge small").all_inner_texts():
        assert re.fullmatch(r"\d+ ms · eu-west-2", detail), detail

    await save_screenshot(owner, "screenshot-profile.png", docs=True)


async def test_owner_pause_and_next_reach_the_listener(sign_in, song_files):
    owner, listener = await owner_and_listener(sign_in, song_files)

    await owner.get_by_title("Play/pause").click()
    await expect_audio_paused(listener, timeout=1_000)
    await expect_audio_paused(owner)
    for page in (owner, listener):
        await expect(song_row(page, "Morning Light")).to_have_attribute("data-status", "paused")

    await owner.get_by_title("Next").click()
    await expect_same_song_same_second(owner, listener, "Evening Tide")
    for page in (owner, listener):
        await expect(song_row(page, "Evening Tide")).to_have_attribute("data-status", "playing")
        await expect(song_row(page, "Morning Light")).to_have_attribute("data-status", "stopped")
        await expect(page).to_have_title("Evening Tide - The Beats (Now Playing)")


async def test_deleting_the_playing_song_removes_it_everywhere_and_stops_the_player(sign_in, song_files, storage_dir):
    owner, listener = await owner_and_listener(sign_in, song_files)

    owner.once("dialog", lambda dialog: dialog.accept())
    await owner.get_by_title("Delete Morning Light").click()

    for page in (owner, listener):
        await expect(song_row(page, "Morning Light")).to_have_count(0)
        await expect(song_row(page, "Evening Tide")).to_have_count(1)
        await expect(page.locator("#songs-count")).to_have_text("1 song")
        await expect(page.locator("#player-title")).to_have_text("Nothing playing")
        await expect_audio_paused(page)
        assert (await audio_state(page))["src"] == ""


FORGE_COMMANDS = """async (commands) => {
  const socket = new WebSocket(`ws://${location.host}/live`);
  const errors = [];
  return await new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error(`answered only ${JSON.stringify(errors)}`)), 5000);
    socket.onopen = () => commands.forEach((command) => socket.send(JSON.stringify(command)));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type !== "error") return;
      errors.push(message.message);
      if (errors.length === commands.length) { socket.close(); resolve(errors); }
    };
  });
}"""


async def test_listener_cannot_control_playback(sign_in, song_files, database_url):
    owner, listener = await owner_and_listener(sign_in, song_files)
    song_id = int(await song_row(owner, "Morning Light").get_attribute("data-song-id"))

    await expect(listener.locator("#player-controls")).to_be_hidden()
    await expect(listener.get_by_role("button", name="Delete")).to_have_count(0)
    await expect(listener.get_by_role("link", name="Upload songs")).to_have_count(0)
    await song_row(listener, "Morning Light").click()
    await song_row(listener, "Evening Tide").click()
    refusals = await listener.evaluate(
        FORGE_COMMANDS, [{"type": "toggle", "song_id": song_id}, {"type": "delete", "song_id": song_id}]
    )

    assert refusals[0] == "Only the profile's owner can control its playback."
    assert "owner" in refusals[1], refusals[1]
    for page in (owner, listener):
        await expect(song_row(page, "Morning Light")).to_have_attribute("data-status", "playing")
        await expect(page.locator("#songs tr[data-song-id]")).to_have_count(2)
    await expect_same_song_same_second(owner, listener, "Morning Light")
    connection = await asyncpg.connect(database_url)
    try:
        statuses = dict(await connection.fetch("SELECT title, status FROM songs"))
    finally:
        await connection.close()
    assert statuses == {"Morning Light": "playing", "Evening Tide": "stopped"}


async def test_listener_on_another_node_in_another_region(sign_in, song_files, second_region_server):
    owner, listener = await owner_and_listener(
        sign_in, song_files, listener_node=second_region_server, listener_region="us-west-2"
    )

    await expect_live(owner, "eu-west-2")
    await expect_same_song_same_second(owner, listener, "Morning Light")
    for page in (owner, listener):
        await expect_listeners(page, ["owner", "listener"])
    badge = owner.locator("#listeners .badge").filter(has_text="listener").locator("small")
    await expect(badge).to_have_text(re.compile(r"^\d+ ms · us-west-2$"), timeout=12_000)

    await owner.get_by_title("Play/pause").click()
    await expect_audio_paused(listener, timeout=1_000)
