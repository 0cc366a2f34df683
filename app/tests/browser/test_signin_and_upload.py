"""Scenarios 1, 2 and 8: signing in through GitHub and uploading songs, in a real browser."""

from __future__ import annotations

import asyncpg
from mp3gen import write_mp3
from playwright.async_api import expect

from .support import expect_audio_playing, open_upload_dialog, song_row


async def test_github_sign_in_lands_on_own_profile_with_avatar_and_default_tagline(sign_in, server):
    page = await sign_in("octocat")

    assert page.url == f"{server.url}/octocat"
    await expect(page.get_by_role("heading", level=1)).to_have_text("octocat's beats (you)")
    await expect(page.get_by_role("alert")).to_have_text("Welcome, Octocat!")
    avatar = page.locator(".account-menu summary img.avatar")
    await expect(avatar).to_have_attribute("src", "https://avatars.example/101")
    assert await avatar.evaluate("image => image.complete && image.naturalWidth > 0")
    await expect(page.locator(".account-menu summary")).to_contain_text("octocat")
    await expect(page.get_by_text("No songs yet.")).to_be_visible()


async def test_uploading_two_mp3s_fills_the_form_and_starts_the_first(sign_in, song_files, server):
    page = await sign_in("owner")
    await open_upload_dialog(page)
    await page.locator("#files").set_input_files(song_files)

    entries = page.locator("#upload-list > li")
    await expect(entries).to_have_count(2)
    for entry, title in zip(await entries.all(), ["Morning Light", "Evening Tide"], strict=True):
        await expect(entry.locator(".file-name")).to_have_text(f"{title} - The Beats.mp3")
        await expect(entry.locator("progress")).to_have_js_property("value", 100)
        await expect(entry.get_by_label("Title")).to_have_value(title)
        await expect(entry.get_by_label("Artist")).to_have_value("The Beats")
    await page.get_by_role("button", name="Save").click()

    await expect(page).to_have_url(f"{server.url}/owner")
    await expect(page.get_by_role("alert")).to_have_text("2 songs uploaded")
    await expect(page.locator("#songs-count")).to_have_text("2 songs")
    for title, duration in [("Morning Light", "1:30"), ("Evening Tide", "1:15")]:
        cells = song_row(page, title).locator("td")
        await expect(cells.nth(1)).to_have_text("The Beats")
        await expect(cells.nth(3)).to_have_text(duration)
    await expect(song_row(page, "Morning Light")).to_have_attribute("data-status", "playing")
    await expect(song_row(page, "Evening Tide")).to_have_attribute("data-status", "stopped")
    await expect(page.locator("#player-title")).to_have_text("Morning Light")
    await expect(page).to_have_title("Morning Light - The Beats (Now Playing)")
    await expect_audio_playing(page)
    await expect(page.locator("#player-time")).to_contain_text("/ 1:30")


async def test_oversize_and_fake_mp3_files_are_refused_and_nothing_is_stored(
    sign_in, server, database_url, storage_dir, tmp_path
):
    oversize = write_mp3(tmp_path / "Long Night - The Beats.mp3", 5_600)
    assert oversize.stat().st_size > 20 * 1024 * 1024
    fake = tmp_path / "Not A Song - Nobody.mp3"
    fake.write_text("This is a shopping list, not music.\n" * 100)
    stored_before = sorted(storage_dir.rglob("*"))
    page = await sign_in("owner")

    await open_upload_dialog(page)
    await page.locator("#files").set_input_files([oversize, fake])

    errors = page.locator("#upload-list .field-error")
    await expect(errors).to_have_text(
        [
            "Long Night - The Beats.mp3 is larger than 20 MB, the most a song file may be.",
            "Not A Song - Nobody.mp3: not a valid MP3 file (the content is not MPEG audio)",
        ]
    )
    await expect(page.locator("#upload-list .fields")).to_have_count(2)
    for fields in await page.locator("#upload-list .fields").all():
        await expect(fields).to_be_hidden()
    await expect(page.get_by_role("button", name="Save")).to_be_disabled()
    assert sorted(storage_dir.rglob("*")) == stored_before
    connection = await asyncpg.connect(database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM songs") == 0
    finally:
        await connection.close()
    await page.get_by_role("link", name="Cancel").click()
    await expect(page.locator("#songs-count")).to_have_text("0 songs")
    await expect(page.get_by_text("No songs yet.")).to_be_visible()
