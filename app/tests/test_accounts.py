"""Settings: the username rules (pattern, reserved, unique ignoring case), tagline, flash."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from support import APP_DIR, cli_command, cli_environment

from livebeats.devdb import throwaway_postgres


async def save_settings(browser, username: str, tagline: str = "my beats"):
    await browser.page("/profile/settings")
    return await browser.http.post(
        "/profile/settings", data={"username": username, "tagline": tagline, "csrf_token": browser.csrf}
    )


async def test_settings_page_shows_email_from_github(browsers):
    alice = await browsers("alice")
    page = await alice.page("/profile/settings")
    assert "Email (from GitHub)" in page.text and "alice@dev.invalid" in page.text


async def test_settings_update_flashes_and_renames(browsers, database_url):
    alice = await browsers("alice")
    response = await save_settings(alice, "Alice_2", "Fresh tagline")
    assert response.status_code == 303
    page = await alice.page(response.headers["location"])
    assert "Settings updated" in page.text
    assert (await alice.page("/Alice_2")).status_code == 200
    assert "Fresh tagline" in (await alice.page("/Alice_2")).text
    assert (await alice.http.get("/alice_2")).headers["location"] == "/Alice_2"


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("a", "Username must be 2 to 32 characters: letters, digits, &#39;_&#39; or &#39;-&#39;."),
        ("x" * 33, "Username must be 2 to 32 characters"),
        ("bad name", "Username must be 2 to 32 characters"),
        ("émile", "Username must be 2 to 32 characters"),
        ("signin", "The username &#39;signin&#39; is reserved"),
        ("BOB", "The username &#39;BOB&#39; is already taken (names ignore case)."),
    ],
)
async def test_username_rules(browsers, username, message):
    await browsers("bob")
    alice = await browsers("alice")
    response = await save_settings(alice, username)
    assert response.status_code == 422
    assert message in response.text
    assert (await alice.http.get("/alice")).status_code == 200, "nothing changed"


async def test_valid_edge_usernames(browsers):
    alice = await browsers("alice")
    for username in ("ab", "x" * 32, "a_b-C9"):
        assert (await save_settings(alice, username)).status_code == 303, username
    assert (await save_settings(alice, "A_B-c9")).status_code == 303, "own name in another case is fine"


async def test_control_characters_are_removed_from_tagline(browsers):
    alice = await browsers("alice")
    assert (await save_settings(alice, "alice", "beats\x00 and more")).status_code == 303
    assert "beats and more" in (await alice.page("/alice")).text


async def test_tagline_is_required(browsers):
    alice = await browsers("alice")
    response = await save_settings(alice, "alice", "   ")
    assert response.status_code == 422 and "Tagline can&#39;t be blank." in response.text


async def test_settings_form_needs_csrf(browsers):
    alice = await browsers("alice")
    response = await alice.http.post("/profile/settings", data={"username": "x1", "tagline": "t", "csrf_token": "no"})
    assert response.status_code == 400 and "Your form expired" in response.text


async def test_concurrent_migrations_wait_for_each_other():
    """Two regions starting at once: both succeed, and the schema is applied once."""
    with throwaway_postgres(database="race") as dsn:
        environment = cli_environment({"DATABASE_URL": dsn, "SECRET_KEY_BASE": "s" * 40, "APP_ENV": "development"})
        processes = [
            await asyncio.create_subprocess_exec(
                *cli_command("migrate"),
                cwd=APP_DIR,
                env=environment,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        assert [await process.wait() for process in processes] == [0, 0]
        connection = await asyncpg.connect(dsn)
        try:
            assert await connection.fetchval("SELECT version_num FROM alembic_version") == "0003"
            assert await connection.fetchval("SELECT count(*) FROM users") == 0
        finally:
            await connection.close()
