"""Keyboard only: every control is reached with Tab and shows where the focus is;
songs are played, paused and reordered without a mouse; the account menu closes on
Esc and gives the focus back; playback changes are announced to screen readers."""

from __future__ import annotations

from playwright.async_api import Page, expect

from .support import expect_audio_paused, song_row, upload_songs

FOCUSED = """() => {
  const element = document.activeElement;
  if (element === document.body) return {name: null, outline: true};  // Tab went past the end
  const style = getComputedStyle(element);
  const name = element.getAttribute("aria-label") || element.textContent.trim().replace(/\\s+/g, " ");
  return {name, outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2};
}"""
MOST_TABS = 60


async def focused(page: Page) -> dict:
    return await page.evaluate(FOCUSED)


async def tab_to(page: Page, name: str, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the control called `name` has the focus, as a keyboard user does."""
    seen = []
    for _ in range(MOST_TABS):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = await focused(page)
        seen.append(now["name"])
        if now["name"] == name:
            assert now["outline"], f"{name!r} has the focus but shows no focus outline"
            return
    raise AssertionError(f"{name!r} is not reachable with Tab; focus went through {seen}")


async def song_titles(page: Page) -> list[str]:
    return await page.locator("#songs tr[data-song-id] .song-title").all_inner_texts()


async def test_owner_plays_pauses_and_reorders_songs_with_the_keyboard(sign_in, song_files):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    await expect(song_row(owner, "Morning Light")).to_have_attribute("data-status", "playing")
    announcer = owner.locator("#announcer")
    await owner.reload()  # the focus starts at the top of the page
    await expect(owner.locator("#ping-region")).to_have_text("eu-west-2")

    await owner.keyboard.press("Tab")
    assert (await focused(owner))["name"] == "Skip to content"
    await expect(owner.get_by_role("link", name="Skip to content")).to_be_visible()
    reached = set()
    for _ in range(MOST_TABS):
        await owner.keyboard.press("Tab")
        now = await focused(owner)
        assert now["outline"], f"{now['name']!r} has the focus but shows no focus outline"
        reached.add(now["name"])
    controls = {
        "My Songs",
        "Settings",
        "Upload songs",
        "Pause Morning Light",
        "Play Evening Tide",
        "Move Morning Light down",
        "Move Evening Tide up",
        "Delete Morning Light",
        "Previous song",
        "Pause",
        "Next song",
    }
    assert controls <= reached, f"not reached with Tab: {controls - reached}"

    await owner.reload()
    await expect(owner.locator("#ping-region")).to_have_text("eu-west-2")
    await tab_to(owner, "Pause Morning Light")
    await owner.keyboard.press("Space")
    await expect(song_row(owner, "Morning Light")).to_have_attribute("data-status", "paused")
    await expect_audio_paused(owner)
    await expect(announcer).to_have_text("Paused: Morning Light")
    assert (await focused(owner))["name"] == "Play Morning Light"

    await tab_to(owner, "Move Evening Tide up")
    await owner.keyboard.press("Enter")
    await expect(owner.locator("#songs tr[data-song-id] .song-title")).to_have_text(["Evening Tide", "Morning Light"])
    await expect(announcer).to_have_text("Evening Tide moved to position 1 of 2")
    # The moved song is now first, so "up" is disabled and its "down" has the focus.
    assert (await focused(owner))["name"] == "Move Evening Tide down"
    await owner.keyboard.press("Enter")
    await expect(owner.locator("#songs tr[data-song-id] .song-title")).to_have_text(["Morning Light", "Evening Tide"])
    await owner.reload()
    assert await song_titles(owner) == ["Morning Light", "Evening Tide"]


async def test_account_menu_opens_and_closes_with_the_keyboard(sign_in):
    page = await sign_in("octocat")
    await page.reload()
    await tab_to(page, "Account menu for octocat")
    await page.keyboard.press("Enter")
    menu = page.locator("#account-menu")
    await expect(menu).to_have_attribute("open", "")
    await tab_to(page, "View profile")
    await page.keyboard.press("Escape")
    await expect(menu).not_to_have_attribute("open", "")
    assert (await focused(page))["name"] == "Account menu for octocat"

    await page.keyboard.press("Enter")
    await tab_to(page, "Sign out")
    await page.keyboard.press("Tab")  # leaving the menu closes it
    await expect(menu).not_to_have_attribute("open", "")
