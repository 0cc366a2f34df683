"""The per-process services a request handler may use, and the typed way to reach them.

Its own module, importing only the services themselves, so route modules can
type what they use without importing `app.py` (which imports every route).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from livebeats.accounts.github import GitHubOAuth
from livebeats.accounts.service import Accounts
from livebeats.accounts.sessions import BrowserSessions
from livebeats.files.storage import Storage
from livebeats.files.tokens import FileTokens
from livebeats.playback.service import Playback
from livebeats.realtime import RealtimeHub
from livebeats.settings import Settings
from livebeats.songs.cleaner import Cleaner
from livebeats.songs.service import Songs


@dataclass
class Services:
    """Everything a request handler may need, created once per process in the lifespan."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    hub: RealtimeHub
    storage: Storage
    file_tokens: FileTokens
    github: GitHubOAuth
    accounts: Accounts
    browser_sessions: BrowserSessions
    playback: Playback
    songs: Songs
    cleaner: Cleaner


def services(connection: HTTPConnection) -> Services:
    """The app's `Services`, set by its lifespan before the first request or socket."""
    found: Services = connection.app.state.services
    return found


T = TypeVar("T")


def node_wide(connection: HTTPConnection, name: str, build: Callable[[], T]) -> T:
    """The app's one `name` object, which every connection to this process shares; built by the first to ask."""
    state = connection.app.state
    if not hasattr(state, name):
        setattr(state, name, build())
    found: T = getattr(state, name)
    return found
