"""A signed-out visitor on a public profile (PUBLIC_PROFILES) hears the owner's song at the owner's second,
sees no control that needs an account, and the page passes the accessibility scan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from .conftest import VIEWPORT
from .support import expect_audio_paused, expect_audio_playing, expect_live, position_gap, song_row, upload_songs
from .test_accessibility import scan
from .test_sync import AUTOPLAY_DIALOG_SHOWN, REPORT_AUTOPLAY_DIALOG

IN_SYNC = 0.3
"""Seconds the visitor's playback position may differ from the owner's (as in test_sync)."""
AFTER_JOINING = 5


@pytest.fixture
async def visitor(chromium: Browser, public_server) -> AsyncIterator[Page]:
    """A browser that never signed in, at the public node; uncaught script errors fail the test."""
    context = await chromium.new_context(base_url=public_server.url, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert not errors, f"uncaught errors in the visitor's page: {errors}"


async def test_a_signed_out_visitor_hears_the_owners_second_without_controls(sign_in, song_files, public_server, visitor):
    owner = await sign_in("owner", node=public_server)
    await upload_songs(owner, song_files)
    await expect_audio_playing(owner)

    await visitor.goto("/owner")
    await expect_live(visitor, "eu-west-2")
    await expect_audio_playing(visitor)
    await expect(song_row(visitor, "Morning Light")).to_have_attribute("data-status", "playing")
    await expect(visitor.get_by_role("button")).to_have_count(0)
    await expect(visitor.get_by_role("link", name="Sign in to listen with friends")).to_be_visible()
    await expect(visitor.locator("#player-title")).to_have_text("Morning Light")

    await asyncio.sleep(AFTER_JOINING)
    gap = await position_gap(owner, visitor)
    print(f"drift of a signed-out visitor vs owner after {AFTER_JOINING} s: {gap:.3f} s")
    assert gap <= IN_SYNC, gap

    await owner.get_by_role("button", name="Pause Morning Light").click()
    await expect_audio_paused(visitor, timeout=5_000)
    await expect(song_row(visitor, "Morning Light")).to_have_attribute("data-status", "paused")
    await expect(owner.locator("#listener-count")).to_have_text("1")  # the owner; the visitor has no badge

    assert await scan(visitor, "profile (public listener)") == []


async def test_a_visitor_whose_browser_blocks_autoplay_clicks_listen_now_and_joins_in_sync(
    sign_in, song_files, public_server, autoplay_blocking_chromium
):
    owner = await sign_in("owner", node=public_server)
    await upload_songs(owner, song_files)
    context = await autoplay_blocking_chromium.new_context(base_url=public_server.url, viewport=VIEWPORT)
    try:
        visitor = await context.new_page()
        # No Playwright call may touch the page before the browser refused to play (see test_sync).
        await visitor.add_init_script(REPORT_AUTOPLAY_DIALOG)
        async with visitor.expect_console_message(lambda message: message.text == AUTOPLAY_DIALOG_SHOWN):
            await visitor.goto("/owner")
        dialog = visitor.get_by_role("dialog")
        await expect(dialog.get_by_role("button", name="Listen now")).to_be_focused()
        await dialog.get_by_role("button", name="Listen now").click()
        await expect(dialog).to_be_hidden()
        await expect_audio_playing(visitor)
        await asyncio.sleep(AFTER_JOINING)
        gap = await position_gap(owner, visitor)
        print(f"drift of an autoplay-blocked signed-out visitor vs owner: {gap:.3f} s")
        assert gap <= IN_SYNC, gap
    finally:
        await context.close()
