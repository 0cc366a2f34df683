"""The pages work under the strict Content-Security-Policy that is planned (no inline
script or style, nothing from elsewhere but the avatars): the browser reports no
violation while a person uses every page.

The policy is added to each document by Playwright here; once the app sends its
own, this test keeps checking that the script and styles live within it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from .conftest import AVATAR_URL_PREFIX, CHROMIUM, CHROMIUM_ARGS
from .support import expect_audio_playing, listen_to, upload_songs

STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; media-src 'self'; "
    f"img-src 'self' {AVATAR_URL_PREFIX}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Browser]:
    """A browser of its own: Chromium treats documents that Playwright fulfils as coming
    from outside, and would refuse their WebSocket to 127.0.0.1 (local network access)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests"],
        )
        yield browser
        await browser.close()


async def with_strict_csp(page: Page, app_url: str) -> list[str]:
    """Serve the app's documents to `page` with STRICT_CSP; returns the list violations are added to."""

    async def add_header(route: Route) -> None:
        if route.request.resource_type != "document":  # a policy applies to the document it came with
            await route.fallback()
            return
        response = await route.fetch()
        await route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    found: list[str] = []
    page.on("console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None)
    await page.context.route(f"{app_url}/**", add_header)
    await page.reload()
    return found


async def test_no_csp_violation_on_any_page(sign_in, song_files, server):
    owner = await sign_in("owner")
    owner_violations = await with_strict_csp(owner, server.url)
    await upload_songs(owner, song_files)
    await expect_audio_playing(owner)
    listener = await sign_in("listener")
    listener_violations = await with_strict_csp(listener, server.url)
    await listen_to(listener, "owner", "eu-west-2")
    await expect_audio_playing(listener)
    await listener.get_by_role("navigation").get_by_role("link", name="Settings").click()
    await expect(listener.get_by_role("heading", level=1)).to_have_text("Settings")
    await owner.goto("/no-such-user")
    await expect(owner.get_by_role("heading", level=1)).to_have_text("Not found")
    await owner.goto("/owner")
    await expect(owner.locator("#ping-region")).to_have_text("eu-west-2")

    assert not owner_violations and not listener_violations, {"owner": owner_violations, "listener": listener_violations}
