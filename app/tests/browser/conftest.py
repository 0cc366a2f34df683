"""Fixtures for the real-browser tests: one headless Chromium per session, app
nodes as `python -m livebeats serve` subprocesses, and people who sign in
through the fake GitHub exactly as a person would.

The async Playwright API runs on the suite's session event loop (pytest-asyncio),
next to the async database fixtures; the sync API cannot run inside that loop.
"""

from __future__ import annotations

import itertools
import os
import shutil
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from fake_github import Account, FakeGitHub
from mp3gen import write_mp3
from playwright.async_api import Browser, Page, Route, async_playwright, expect
from support import APP_DIR, AppServer

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
"""Debian's chromium by default; Playwright's own browser downloads are not used."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]
AUTOPLAY_BLOCKED_ARGS = [
    *(arg for arg in CHROMIUM_ARGS if not arg.startswith("--autoplay-policy")),
    "--autoplay-policy=document-user-activation-required",
    "--disable-features=MediaEngagementBypassAutoplayPolicies,PreloadMediaEngagementData",
]
"""A browser as people have it: sound plays only after the person interacted with the page.

Media engagement is off, so that the test server's playback history cannot earn
its origin autoplay and skip the "Listen now" path."""
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS_DIR = APP_DIR.parent / "artifacts" / "browser"
DOCS_DIR = APP_DIR.parent / "docs"
AVATAR_URL_PREFIX = "https://avatars.example/"
"""Where the fake GitHub says avatars live; the browser contexts answer it locally."""
AVATAR_COLOURS = [(124, 58, 237), (234, 88, 12), (22, 163, 74), (37, 99, 235), (219, 39, 119)]

SONG_FILES = {"Morning Light - The Beats.mp3": 90, "Evening Tide - The Beats.mp3": 75}
"""Silent MP3s long enough to be heard playing (seconds), named `Title - Artist.mp3`."""

SignIn = Callable[..., Awaitable[Page]]


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"CHROMIUM_PATH: {CHROMIUM} does not exist; install chromium (apt-get install chromium) or point CHROMIUM_PATH at a Chromium binary"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
async def autoplay_blocking_chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=AUTOPLAY_BLOCKED_ARGS, headless=True)
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
def second_region_server(app_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Node B: same database, another region, no public hostname (browsers reach it directly)."""
    with AppServer({**app_env, "AWS_REGION": "us-west-2"}, tmp_path_factory.mktemp("logs") / "us-west-2.log") as node:
        yield node


@pytest.fixture
def restartable_server(app_env: dict[str, str], tmp_path: Path) -> Iterator[AppServer]:
    """A node of its own, so stopping it cannot disturb the other tests' server."""
    with AppServer(app_env, tmp_path / "restartable.log") as node:
        yield node


@pytest.fixture(scope="session")
def song_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("mp3")
    return [write_mp3(directory / name, seconds) for name, seconds in SONG_FILES.items()]


@pytest.fixture(scope="session")
def save_screenshot() -> Callable[..., Awaitable[Path]]:
    """`await save_screenshot(page, "name.png", docs=True)`: into artifacts/browser/.

    With docs=True it is also copied to docs/ for the README, but only when the
    copy is missing or UPDATE_DOCS_SCREENSHOTS is set, so test runs do not
    rewrite a tracked file.
    """

    async def save(page: Page, name: str, *, docs: bool = False) -> Path:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS_DIR / name
        await page.screenshot(path=path)
        print(f"screenshot: {path}")
        docs_copy = DOCS_DIR / name
        if docs and (os.environ.get("UPDATE_DOCS_SCREENSHOTS") or not docs_copy.exists()):
            DOCS_DIR.mkdir(exist_ok=True)
            shutil.copyfile(path, docs_copy)
        return path

    return save


def avatar_png(account_id: int, size: int = 48) -> bytes:
    """A solid-colour PNG, so avatars render without reaching the internet."""
    red, green, blue = AVATAR_COLOURS[account_id % len(AVATAR_COLOURS)]
    row = b"\x00" + bytes([red, green, blue]) * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * size)) + chunk(b"IEND", b"")


async def serve_avatar(route: Route) -> None:
    account_id = int(route.request.url.removeprefix(AVATAR_URL_PREFIX).split("?")[0])
    await route.fulfill(status=200, content_type="image/png", body=avatar_png(account_id))


@pytest.fixture
async def sign_in(chromium: Browser, github: FakeGitHub, server: AppServer) -> AsyncIterator[SignIn]:
    """`await sign_in("alice", node=..., browser=..., viewport=...)`: a new browser context signed in through the fake GitHub.

    Uncaught script errors on any page fail the test.
    """
    contexts = []
    script_errors: list[str] = []
    account_ids = itertools.count(101)

    async def sign_in(
        login: str,
        *,
        node: AppServer | None = None,
        browser: Browser | None = None,
        viewport: dict[str, int] = VIEWPORT,
        **context_options,
    ) -> Page:
        node = node or server
        context = await (browser or chromium).new_context(base_url=node.url, viewport=viewport, **context_options)
        contexts.append(context)
        context.set_default_timeout(10_000)
        await context.route(f"{AVATAR_URL_PREFIX}**", serve_avatar)
        page = await context.new_page()
        page.on("pageerror", lambda error: script_errors.append(f"{login}: {error}"))
        github.next_account = Account(
            id=next(account_ids),
            login=login,
            name=login.capitalize(),
            emails=[{"email": f"{login}@example.test", "primary": True, "verified": True}],
        )
        await page.goto("/signin")
        await page.get_by_role("link", name="Sign in with GitHub").click()
        await expect(page).to_have_url(f"{node.url}/{login}")
        return page

    yield sign_in
    for context in contexts:
        await context.close()
    assert not script_errors, f"uncaught errors in the pages: {script_errors}"
