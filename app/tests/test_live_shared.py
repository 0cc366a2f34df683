"""What live connections share: rendered events, connect-time reads; and the socket when the pool is exhausted."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from livebeats.accounts.sessions import BrowserSessions
from livebeats.db import create_session_factory
from livebeats.files.tokens import FileTokens
from livebeats.live import shared_work
from livebeats.live.close_codes import SERVER_BUSY, TRY_AGAIN_LATER
from livebeats.live.coalesced import Coalesced
from livebeats.live.endpoint import routes
from livebeats.live.shared_work import SharedWork
from livebeats.models import SongStatus
from livebeats.playback.service import NowPlaying
from livebeats.realtime.client import Outgoing


class SignedIn:
    """Stands in for the session cookie: the socket's user is user 1."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app({**scope, "session": {"user_id": 1, "sid": "session-1"}}, receive, send)


def test_connect_with_the_pool_exhausted_closes_with_try_again_later(database_url: str) -> None:
    """The pool's only connection is taken: the socket is accepted and closed with 1013, not an HTTP 500."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = make_url(database_url).set(drivername="postgresql+asyncpg")
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.3)
        app.state.services = SimpleNamespace(
            settings=SimpleNamespace(app_hostname=None),
            browser_sessions=BrowserSessions(create_session_factory(engine)),
        )
        async with engine.connect():
            yield
        await engine.dispose()

    with (
        TestClient(SignedIn(Starlette(routes=routes, lifespan=lifespan))) as client,
        client.websocket_connect("/live", headers={"origin": "http://testserver"}) as socket,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        socket.receive_text()
    assert (closed.value.code, closed.value.reason) == (TRY_AGAIN_LATER, SERVER_BUSY)


async def test_concurrent_reads_are_shared_and_never_older_than_the_request() -> None:
    reads: list[int] = []
    release = asyncio.Event()

    async def load(key: str) -> tuple[str, int]:
        reads.append(len(reads) + 1)
        number = len(reads)
        await release.wait()
        return key, number

    shared = Coalesced(load)
    first = [asyncio.create_task(shared.get("a")) for _ in range(100)]
    await asyncio.sleep(0)
    later = [asyncio.create_task(shared.get("a")) for _ in range(100)]
    other = asyncio.create_task(shared.get("b"))
    await asyncio.sleep(0)
    release.set()
    assert {await task for task in first} == {("a", 1)}
    assert {await task for task in later} == {("a", 3)}, "asked while read 1 ran: gets the one after it"
    assert await other == ("b", 2)
    assert len(reads) == 3


async def test_a_failed_read_fails_every_caller_sharing_it() -> None:
    async def load(_key: None) -> None:
        raise TimeoutError("pool exhausted")

    shared = Coalesced(load)
    results = await asyncio.gather(*(shared.get(None) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(result, TimeoutError) for result in results)


def test_a_playing_event_is_rendered_once_but_its_position_is_as_of_each_send(monkeypatch) -> None:
    started = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    song = NowPlaying(
        id=3,
        user_id=1,
        title='Say "hi"',
        artist="Band",
        duration=180,
        status=SongStatus.PLAYING,
        played_at=started,
        paused_at=None,
        storage_key="song.mp3",
    )
    event = Outgoing({"type": "playback", "profile_id": 1, "song": song.to_event()})
    shared = SharedWork.__new__(SharedWork)
    shared.file_tokens, shared._rendered = FileTokens("test-secret"), collections.OrderedDict()  # noqa: SLF001 - the render cache, without an app

    monkeypatch.setattr(shared_work, "utc_now", lambda: started + timedelta(seconds=10))
    first = json.loads(shared.playback_text(event))
    monkeypatch.setattr(shared_work, "utc_now", lambda: started + timedelta(seconds=11.5))
    second = json.loads(shared.playback_text(event))

    assert (first["song"]["elapsed"], second["song"]["elapsed"]) == (10.0, 11.5)
    assert first["song"]["url"] == second["song"]["url"], "one file token per event, not per listener"
    assert {**first["song"], "elapsed": 0} == {**second["song"], "elapsed": 0}
    assert first["song"]["title"] == 'Say "hi"'
