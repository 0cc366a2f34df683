"""Session fixtures: a throwaway PostgreSQL, the fake GitHub, and the app running for real.

The cluster is started by the session itself (livebeats.devdb), migrated with
the same `python -m livebeats migrate` the container runs, and emptied before
every test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from fake_github import FakeGitHub
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from support import AppServer, Browser, run_cli

from livebeats.devdb import throwaway_postgres
from livebeats.realtime import RealtimeHub

SECRET = "test-secret-key-base-0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with throwaway_postgres() as dsn:
        result = run_cli("migrate", {"DATABASE_URL": dsn, "SECRET_KEY_BASE": SECRET, "APP_ENV": "development"})
        assert result.returncode == 0, result.stderr
        yield dsn


@pytest.fixture(scope="session")
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def storage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("songs")


@pytest.fixture(scope="session")
def app_env(database_url: str, github: FakeGitHub, storage_dir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY_BASE": SECRET,
        "APP_ENV": "development",
        "DEV_SIGNIN": "true",
        "GITHUB_CLIENT_ID": "test-client-id",
        "GITHUB_CLIENT_SECRET": "test-client-secret",
        "GITHUB_BASE_URL": github.url,
        "GITHUB_API_URL": github.url,
        "STORAGE_DIR": str(storage_dir),
        "AWS_REGION": "eu-west-2",
        "PRIMARY_REGION": "eu-west-2",
        "POOL_SIZE": "10",
        "ADMIN_USERNAMES": "keeper",
    }


@pytest.fixture(scope="session")
def server(app_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with AppServer(app_env, tmp_path_factory.mktemp("logs") / "server.log") as app:
        yield app


@pytest.fixture(scope="session")
def second_server(app_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Another node on the same database, in another region, behind a public hostname."""
    with AppServer(
        {**app_env, "AWS_REGION": "us-east-1", "APP_HOSTNAME": "LiveBeats.Example.TEST"},
        tmp_path_factory.mktemp("logs") / "second.log",
    ) as app:
        yield app


@pytest.fixture(scope="session")
def public_server(app_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """A node with PUBLIC_PROFILES on, on the same database: signed-out visitors may listen."""
    with AppServer({**app_env, "PUBLIC_PROFILES": "true"}, tmp_path_factory.mktemp("logs") / "public.log") as app:
        yield app


@pytest.fixture(autouse=True)
async def clean_database(request: pytest.FixtureRequest) -> None:
    """Empty tables and song storage before each app test (the realtime package's own tests need neither)."""
    if "realtime" in request.node.path.parts:
        return
    database_url = request.getfixturevalue("database_url")
    github = request.getfixturevalue("github")
    connection = await asyncpg.connect(database_url)
    try:
        for attempt in range(3):
            try:
                await connection.execute("TRUNCATE users, identities, songs, browser_sessions RESTART IDENTITY CASCADE")
                break
            except asyncpg.DeadlockDetectedError:
                # A server still finishing the last test's request can hold these
                # tables' locks in another order; PostgreSQL picked us to give way.
                if attempt == 2:
                    raise
    finally:
        await connection.close()
    for stored in request.getfixturevalue("storage_dir").iterdir():
        stored.unlink()
    github.reset()


@pytest.fixture
async def browsers(server: AppServer) -> AsyncIterator[callable]:
    """Make browsers against the main server; all are closed after the test."""
    made: list[Browser] = []

    async def make(username: str | None = None, target: AppServer | None = None) -> Browser:
        browser = Browser(target or server)
        made.append(browser)
        if username:
            await browser.sign_in(username)
        return browser

    yield make
    for browser in made:
        await browser.close()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://"))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def hub(database_url: str) -> AsyncIterator[RealtimeHub]:
    """A real hub for in-process service tests: its events reach the running servers too."""
    realtime = RealtimeHub(database_url, node_id="pytest", region="test")
    await realtime.start()
    yield realtime
    await realtime.stop()
