"""Compose the ASGI application: settings in, routes and per-process services wired."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from livebeats.accounts import routes as account_routes
from livebeats.accounts.github import GitHubOAuth
from livebeats.accounts.service import Accounts
from livebeats.accounts.sessions import SESSION_MAX_AGE, BrowserSessions
from livebeats.db import DatabaseConnector, create_engine, create_session_factory, open_database
from livebeats.errors import DATABASE_UNAVAILABLE
from livebeats.files import routes as file_routes
from livebeats.files.storage import create_storage
from livebeats.files.tokens import FileTokens
from livebeats.live import endpoint as live_routes
from livebeats.playback.service import Playback
from livebeats.realtime import RealtimeHub
from livebeats.realtime.topics import ACTIVE_USERS, ACTIVE_USERS_INTERVAL, LISTENERS_SHOWN
from livebeats.request_limits import RequestBodyLimit
from livebeats.security_headers import SecurityHeaders
from livebeats.services import Services
from livebeats.settings import Settings
from livebeats.songs import routes as song_routes
from livebeats.songs.cleaner import Cleaner
from livebeats.songs.service import Songs
from livebeats.unavailable import database_unavailable

GITHUB_TIMEOUT = httpx.Timeout(10.0)


def node_id() -> str:
    """Unique per process, readable in logs: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def create_app(settings: Settings) -> Starlette:
    """The app; its database connector is made here, before any event loop, because it reads its credentials now.

    Raises what `open_database` raises (one line naming the setting).
    """
    database: DatabaseConnector = open_database(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(database, pool_size=settings.pool_size)
        sessions = create_session_factory(engine)
        # Pages show at most LISTENERS_SHOWN badges ("+ N more" from the count), so
        # presence events need carry no more. Every play/pause anywhere publishes the
        # whole "active users" list to every page; a page needs the newest, not each.
        hub = RealtimeHub(
            database.connect,
            node_id=node_id(),
            region=settings.aws_region,
            presence_list_limit=LISTENERS_SHOWN,
            latest_wins={ACTIVE_USERS: ACTIVE_USERS_INTERVAL},
        )
        storage = create_storage(settings)
        async with httpx.AsyncClient(timeout=GITHUB_TIMEOUT) as http:
            playback = Playback(sessions, hub)
            songs = Songs(sessions, hub, storage, playback)
            app.state.services = Services(
                settings=settings,
                sessions=sessions,
                hub=hub,
                storage=storage,
                file_tokens=FileTokens(settings.secret_key_base),
                github=GitHubOAuth(settings, http),
                accounts=Accounts(sessions, hub),
                browser_sessions=BrowserSessions(sessions),
                playback=playback,
                songs=songs,
                cleaner=Cleaner(sessions, songs, storage, settings.admin_username_set),
            )
            await hub.start()
            cleaner_task = asyncio.create_task(app.state.services.cleaner.run_forever())
            try:
                yield
            finally:
                cleaner_task.cancel()
                await asyncio.gather(cleaner_task, return_exceptions=True)
                await hub.stop()
                await engine.dispose()

    static_dir = Path(__file__).parent / "static"
    app = Starlette(
        routes=[
            Mount("/static", StaticFiles(directory=static_dir), name="static"),
            *live_routes.routes,
            *file_routes.routes,
            *account_routes.routes(dev_signin_enabled=settings.dev_signin),
            *song_routes.routes,
        ],
        middleware=[
            Middleware(SecurityHeaders, served_over_https=settings.secure_cookies),
            Middleware(RequestBodyLimit, exempt_path_suffix=song_routes.UPLOAD_PATH_SUFFIX),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key_base,
                session_cookie="livebeats_session",
                max_age=int(SESSION_MAX_AGE.total_seconds()),
                same_site="lax",
                https_only=settings.secure_cookies,
            ),
        ],
        exception_handlers={error: database_unavailable for error in DATABASE_UNAVAILABLE},
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
