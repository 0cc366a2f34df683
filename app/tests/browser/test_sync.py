"""Everyone hears the same second: a late joiner, a listener whose browser blocked
autoplay until "Listen now" was clicked, and a listener whose playback fell behind
(as a throttled background tab's does) all end up at the owner's position.

The gaps are printed (`-s`) as the measured drift between listeners."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Page, expect

from .support import expect_audio_playing, listen_to, position_gap, upload_songs

IN_SYNC = 0.3
"""Seconds two browsers may differ in playback position, 10 s after joining."""
AFTER_JOINING = 10
LATE_BY = 3
"""Seconds a listener waits before clicking (the song goes on meanwhile)."""
AUTOPLAY_DIALOG_SHOWN = "test: the autoplay dialog is shown"
REPORT_AUTOPLAY_DIALOG = f"""(() => {{
  const showModal = HTMLDialogElement.prototype.showModal;
  HTMLDialogElement.prototype.showModal = function () {{
    showModal.call(this);
    if (this.id === "autoplay-dialog") console.log({AUTOPLAY_DIALOG_SHOWN!r});
  }};
}})()"""


@pytest.fixture
async def reopen_without_a_click() -> AsyncIterator[Callable[[Page], Awaitable[Page]]]:
    """`await reopen_without_a_click(page)`: the same person comes back in a fresh browser
    window (same cookies, no click on the page yet), at the profile they listen to; the
    server says they are listening, the browser refuses to play. A fresh window, so
    that no earlier click on the site can count."""
    windows: list[BrowserContext] = []

    async def reopen(page: Page) -> Page:
        origin = "/".join(page.url.split("/", 3)[:3])
        fresh = await page.context.browser.new_context(base_url=origin, storage_state=await page.context.storage_state())
        windows.append(fresh)
        await page.context.close()
        later = await fresh.new_page()
        # Every Playwright call into the page counts as a click there (it evaluates
        # with a user gesture), so nothing may touch the page until the browser has
        # refused to play: the page says so in its console, and that is awaited.
        await later.add_init_script(REPORT_AUTOPLAY_DIALOG)
        async with later.expect_console_message(lambda message: message.text == AUTOPLAY_DIALOG_SHOWN):
            await later.goto("/owner")
        return later

    yield reopen
    for window in windows:
        await window.close()


async def test_late_and_autoplay_blocked_listeners_hear_the_owners_second(
    sign_in, song_files, autoplay_blocking_chromium, reopen_without_a_click
):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    await expect_audio_playing(owner)

    late = await sign_in("late")
    await asyncio.sleep(LATE_BY)  # the song plays on before this listener arrives
    await listen_to(late, "owner", "eu-west-2")
    await expect_audio_playing(late)

    blocked = await sign_in("blocked", browser=autoplay_blocking_chromium)
    await listen_to(blocked, "owner", "eu-west-2")  # the click allows sound in this document
    await expect_audio_playing(blocked)
    blocked = await reopen_without_a_click(blocked)
    dialog = blocked.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Listen now")).to_be_focused()
    assert await blocked.evaluate("() => document.getElementById('audio').paused")
    await asyncio.sleep(LATE_BY)  # the listener reads the dialog before clicking
    await dialog.get_by_role("button", name="Listen now").click()
    await expect(dialog).to_be_hidden()
    await expect_audio_playing(blocked)

    await asyncio.sleep(AFTER_JOINING)  # the measurement is taken this long after joining
    gaps = {"late joiner": await position_gap(owner, late), "autoplay blocked": await position_gap(owner, blocked)}
    print("drift vs owner after 10 s: " + ", ".join(f"{name} {gap:.3f} s" for name, gap in gaps.items()))
    assert all(gap <= IN_SYNC for gap in gaps.values()), gaps


async def test_a_listener_that_fell_behind_is_pulled_back(sign_in, song_files):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    listener = await sign_in("listener")
    await listen_to(listener, "owner", "eu-west-2")
    await expect_audio_playing(listener)

    # What a background tab, a stall or a slow decoder leaves behind.
    await listener.evaluate("() => { document.getElementById('audio').currentTime -= 4; }")
    await listener.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    await asyncio.sleep(AFTER_JOINING)
    gap = await position_gap(owner, listener)
    print(f"drift vs owner after falling 4 s behind: {gap:.3f} s")
    assert gap <= IN_SYNC, gap


async def test_dismissing_the_autoplay_dialog_leaves_listen_now_in_the_player_bar(
    sign_in, song_files, autoplay_blocking_chromium, reopen_without_a_click
):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    listener = await sign_in("blocked", browser=autoplay_blocking_chromium)
    await listen_to(listener, "owner", "eu-west-2")
    listener = await reopen_without_a_click(listener)
    dialog = listener.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Listen now")).to_be_focused()

    await listener.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    resume = listener.get_by_role("contentinfo", name="Player").get_by_role("button", name="Listen now")
    await expect(resume).to_be_visible()
    await asyncio.sleep(LATE_BY)  # the song plays on while this listener has not clicked
    await resume.click()
    await expect_audio_playing(listener)
    await expect(resume).to_be_hidden()
    await asyncio.sleep(AFTER_JOINING)
    gap = await position_gap(owner, listener)
    print(f"drift vs owner after Esc, then Listen now in the player bar: {gap:.3f} s")
    assert gap <= IN_SYNC, gap
