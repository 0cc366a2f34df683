"""The per-process services a request handler may use, and the typed way to reach them.

Its own module, importing only the services themselves, so route modules can
type what they use without importing `app.py` (which imports every route).
"""

from __future__ import annotations

from dataclasses import dataclass

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
