"""With the database down: sign-out still signs out, signed-in pages say "try again" (503), no tracebacks.

This module runs its own PostgreSQL cluster and app server, because it stops
the cluster in the middle; the shared one stays up for every other test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from realtime.support import ClusterControl
from support import AppServer, Browser, run_cli
from websockets.exceptions import ConnectionClosed

from livebeats.devdb import throwaway_postgres


@pytest.fixture(scope="module")
def own_database(app_env: dict[str, str]) -> Iterator[str]:
    with throwaway_postgres() as dsn:
        result = run_cli("migrate", {**app_env, "DATABASE_URL": dsn})
        assert result.returncode == 0, result.stderr
        yield dsn


@pytest.fixture(scope="module")
def own_server(app_env: dict[str, str], own_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with AppServer({**app_env, "DATABASE_URL": own_database}, tmp_path_factory.mktemp("down") / "server.log") as app:
        yield app


@pytest.fixture
async def database_stopped(own_database: str) -> AsyncIterator[ClusterControl]:
    cluster = await ClusterControl.of(own_database)
    yield cluster
    await cluster.start()


def log_since(server: AppServer, offset: int) -> str:
    with server.log_path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


async def test_pages_say_try_again_and_sign_out_still_signs_out(own_server, database_stopped):
    alice = Browser(own_server)
    try:
        await alice.sign_in("alice")
        offset = own_server.log_path.stat().st_size
        await database_stopped.stop()

        page = await alice.http.get("/alice")
        assert page.status_code == 503 and "try again" in page.text
        assert page.headers["retry-after"] == "5"
        assert "content-security-policy" in page.headers
        settings = await alice.http.get("/profile/settings", headers={"Accept": "application/json"})
        assert settings.status_code == 503 and "try again" in settings.json()["error"]
        assert (await alice.http.get("/signin")).status_code == 200, "the health check needs no database"
        with pytest.raises(ConnectionClosed):
            async with alice.live() as socket:
                await socket.recv()
        assert socket.close_code == 1013

        signed_out = await alice.http.post("/signout", data={"csrf_token": alice.csrf})
        assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/signin")
        assert (await alice.http.get("/profile/settings")).headers["location"] == "/signin"
        assert "Traceback" not in log_since(own_server, offset)
    finally:
        await alice.close()
