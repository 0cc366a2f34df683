"""Phones (375 × 667, touch): no page scrolls sideways, controls are big enough to
tap, and songs are reordered by tapping, without drag and drop."""

from __future__ import annotations

from playwright.async_api import Page, expect

from .support import expect_audio_playing, listen_to, song_row, upload_songs

PHONE = {"width": 375, "height": 667}
TOUCH_TARGET = 44
"""CSS pixels: the smallest control a finger hits reliably (WCAG 2.5.5, Apple's HIG)."""
OVERFLOW = """() => ({scroll: document.documentElement.scrollWidth, viewport: window.innerWidth})"""
SMALL_CONTROLS = """(least) => [...document.querySelectorAll("button, summary, .nav-links a, .active-users a, a.button, input")]
  .filter((element) => element.offsetParent !== null || getComputedStyle(element).position === "fixed")
  .map((element) => ({element, box: element.getBoundingClientRect()}))
  .filter(({box}) => box.width > 0 && (box.width < least || box.height < least))
  .map(({element, box}) => `${element.getAttribute("aria-label") || element.textContent.trim()} ${Math.round(box.width)}×${Math.round(box.height)}`)"""


async def expect_fits_a_phone(page: Page, name: str) -> None:
    sizes = await page.evaluate(OVERFLOW)
    assert sizes["scroll"] <= sizes["viewport"], f"{name} scrolls sideways: {sizes}"
    small = await page.evaluate(SMALL_CONTROLS, TOUCH_TARGET)
    assert not small, f"{name}: controls smaller than {TOUCH_TARGET} px: {small}"


async def test_every_page_fits_a_phone_and_songs_reorder_by_tapping(sign_in, song_files, save_screenshot):
    owner = await sign_in("owner", viewport=PHONE, has_touch=True, is_mobile=True)
    await upload_songs(owner, song_files)
    await expect_audio_playing(owner)
    listener = await sign_in("listener", viewport=PHONE, has_touch=True, is_mobile=True)
    await listen_to(listener, "owner", "eu-west-2")

    await expect_fits_a_phone(owner, "profile (owner)")
    await expect_fits_a_phone(listener, "profile (listener)")
    await save_screenshot(listener, "screenshot-phone.png", docs=True)

    await song_row(owner, "Evening Tide").get_by_role("button", name="Move Evening Tide up").tap()
    await expect(owner.locator("#songs tr[data-song-id] .song-title")).to_have_text(["Evening Tide", "Morning Light"])
    await expect(listener.locator("#songs tr[data-song-id] .song-title")).to_have_text(["Evening Tide", "Morning Light"])

    await owner.get_by_role("link", name="Upload songs").tap()
    await expect(owner.get_by_role("heading", level=1)).to_have_text("Add music")
    await expect_fits_a_phone(owner, "upload")
    await owner.locator("#files").set_input_files(song_files[:1])
    await expect(owner.locator("#upload-list .fields")).to_be_visible()
    await expect_fits_a_phone(owner, "upload with a file")
    await owner.get_by_role("navigation").get_by_role("link", name="Settings").tap()
    await expect(owner.get_by_role("heading", level=1)).to_have_text("Settings")
    await expect_fits_a_phone(owner, "settings")
    await listener.get_by_role("navigation").get_by_role("link", name="My Songs").tap()
    await expect(listener.get_by_role("heading", level=1)).to_have_text("listener's beats (you)")
    await expect(listener.get_by_role("contentinfo", name="Player")).to_contain_text("Listening to owner")
    await expect_fits_a_phone(listener, "profile without songs, player bar listening")
    await save_screenshot(listener, "screenshot-phone-player.png")


async def test_the_layout_holds_at_every_width(sign_in, song_files, save_screenshot):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    for width in (320, 375, 600, 768, 1024, 1440, 1920):
        await owner.set_viewport_size({"width": width, "height": 800})
        sizes = await owner.evaluate(OVERFLOW)
        assert sizes["scroll"] <= sizes["viewport"], f"the profile scrolls sideways at {width} px: {sizes}"
    await owner.emulate_media(color_scheme="dark")
    await owner.set_viewport_size({"width": 1280, "height": 800})
    await save_screenshot(owner, "screenshot-dark.png")
