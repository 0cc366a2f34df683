"""Scenario 7: the app server goes away for a few seconds; open pages recover by themselves."""

from __future__ import annotations

import asyncio
import shutil

from playwright.async_api import expect

from .support import expect_audio_paused, expect_audio_playing, expect_live, song_row, upload_songs

OUTAGE_SECONDS = 3


async def test_page_recovers_after_the_server_restarts(sign_in, song_files, restartable_server):
    owner = await sign_in("owner", node=restartable_server)
    await upload_songs(owner, song_files)
    await expect_audio_playing(owner)
    await expect_live(owner, "eu-west-2")
    await owner.evaluate("() => { window.notReloaded = true; }")
    banner = owner.get_by_text("Re-establishing connection…")
    await expect(banner).to_be_hidden()

    await asyncio.to_thread(restartable_server.stop)
    await expect(banner).to_be_visible(timeout=5_000)
    await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself, not a wait for something
    shutil.move(restartable_server.log_path, restartable_server.log_path.with_suffix(".before-restart.log"))
    await asyncio.to_thread(restartable_server.start)

    await expect(banner).to_be_hidden(timeout=20_000)
    assert await owner.evaluate("() => window.notReloaded === true"), "the page was reloaded"
    await expect_audio_playing(owner)
    await song_row(owner, "Morning Light").click()
    await expect(song_row(owner, "Morning Light")).to_have_attribute("data-status", "paused")
    await expect_audio_paused(owner)
    await owner.get_by_title("Next").click()
    await expect(owner.locator("#player-title")).to_have_text("Evening Tide")
    await expect_audio_playing(owner)


async def test_a_click_while_disconnected_is_carried_out_once_reconnected(sign_in, song_files, restartable_server):
    owner = await sign_in("owner", node=restartable_server)
    await upload_songs(owner, song_files)
    await expect_audio_playing(owner)
    banner = owner.get_by_text("Re-establishing connection…")

    await asyncio.to_thread(restartable_server.stop)
    await expect(banner).to_be_visible(timeout=5_000)
    await song_row(owner, "Morning Light").click()
    await expect(song_row(owner, "Morning Light")).to_have_attribute("data-status", "playing")
    await asyncio.to_thread(restartable_server.start)

    await expect(banner).to_be_hidden(timeout=20_000)
    await expect(song_row(owner, "Morning Light")).to_have_attribute("data-status", "paused")
    await expect_audio_paused(owner)
