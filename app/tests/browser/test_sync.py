"""Everyone hears the same second: a late joiner, a listener whose browser blocked
autoplay until "Listen now" was clicked, and a listener whose playback fell behind
(as a throttled background tab's does) all end up at the owner's position.

The gaps are printed (`-s`) as the measured drift between listeners."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect

from .support import expect_audio_playing, listen_to, position_gap, upload_songs

IN_SYNC = 0.3
"""Seconds two browsers may differ in playback position, 10 s after joining."""
AFTER_JOINING = 10
LATE_BY = 3
"""Seconds a listener waits before clicking (the song goes on meanwhile)."""


async def test_late_and_autoplay_blocked_listeners_hear_the_owners_second(sign_in, song_files, autoplay_blocking_chromium):
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
    await blocked.close()
    # The same person opens the app in a new tab, where they have not clicked yet:
    # the server says they are listening, the browser refuses to play.
    blocked = await blocked.context.new_page()
    await blocked.goto("/owner")
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
