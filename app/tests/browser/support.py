"""What a person does and sees in the app, as Playwright steps the browser tests share."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

AUDIO_STATE = """() => {
  const audio = document.getElementById("audio");
  return {time: audio.currentTime, paused: audio.paused, src: audio.src, at: performance.timeOrigin + performance.now()};
}"""
AUDIO_ADVANCES = """start => {
  const audio = document.getElementById("audio");
  return !audio.paused && audio.currentTime > start + 0.3;
}"""


async def upload_songs(page: Page, files: list[Path]) -> None:
    """From the owner's profile: open the upload dialog, choose the files, save, return to the profile."""
    await open_upload_dialog(page)
    await page.locator("#files").set_input_files(files)
    save = page.get_by_role("button", name="Save")
    await expect(save).to_be_enabled()
    await save.click()
    await expect(page.locator("#songs tr[data-song-id]")).to_have_count(len(files))


async def open_upload_dialog(page: Page) -> None:
    """Click "Upload songs" and wait for the page's script, which handles the file input."""
    await page.get_by_role("link", name="Upload songs").click()
    await page.wait_for_url("**/songs/new", wait_until="load")


async def audio_state(page: Page) -> dict:
    return await page.evaluate(AUDIO_STATE)


async def expect_audio_playing(page: Page, timeout: float = 5_000) -> None:
    """The page's <audio> is not paused and its currentTime moves on."""
    start = (await audio_state(page))["time"]
    await page.wait_for_function(AUDIO_ADVANCES, arg=start, timeout=timeout)


async def expect_audio_paused(page: Page, timeout: float = 1_000) -> None:
    await page.wait_for_function("() => document.getElementById('audio').paused", timeout=timeout)


async def position_gap(first: Page, second: Page) -> float:
    """Seconds between two pages' playback positions, read at (nearly) the same moment."""
    one, other = await audio_state(first), await audio_state(second)
    one_now = one["time"] + (other["at"] - one["at"]) / 1000
    return abs(other["time"] - one_now)


def song_row(page: Page, title: str):
    return page.locator("#songs tr[data-song-id]").filter(has_text=title)


async def expect_listeners(page: Page, usernames: list[str], timeout: float = 5_000) -> None:
    """The "Listening now (N)" box names exactly these users."""
    await expect(page.locator("#listener-count")).to_have_text(str(len(usernames)), timeout=timeout)
    badges = page.locator("#listeners .badge > span")
    await expect(badges).to_have_count(len(usernames), timeout=timeout)
    assert sorted(await badges.all_inner_texts()) == sorted(usernames)


async def expect_live(page: Page, region: str) -> None:
    """The live socket is up: the ping box names the region the page is connected to."""
    await expect(page.locator("#ping-region")).to_have_text(region)


async def listen_to(page: Page, username: str, region: str) -> None:
    """Open a profile and click "Listen", as a visitor does."""
    await page.goto(f"/{username}")
    await expect_live(page, region)
    await page.get_by_role("button", name="Listen", exact=True).click()
    await expect(page.get_by_role("button", name="Stop listening")).to_be_visible()
    await expect(page.get_by_role("button", name="Listen", exact=True)).to_be_hidden()
