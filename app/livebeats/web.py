"""Small request helpers shared by every domain's routes: templates, flash, auth, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from livebeats.models import User
from livebeats.services import services as services  # re-exported: the route modules take it from here

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

Handler = Callable[[Request], Awaitable[Response]]


def flash(request: Request, kind: str, message: str) -> None:
    """Queue a message for the next rendered page ("info" or "error")."""
    request.session.setdefault("flash", []).append([kind, message])


def pop_flashes(request: Request) -> list[list[str]]:
    flashes: list[list[str]] = request.session.pop("flash", [])
    return flashes


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if token is None:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_valid(request: Request, supplied: object) -> bool:
    """Whether a form's token matches the session's; a file posted in its place never does."""
    expected = request.session.get("csrf")
    return bool(expected and isinstance(supplied, str) and supplied and secrets.compare_digest(expected, supplied))


async def current_user(connection: HTTPConnection) -> User | None:
    """The signed-in user, loaded once per request; None if signed out (here or anywhere), expired or deleted.

    A cookie whose session has ended stops naming its user, so the browser is
    a visitor from then on (its live socket, too) rather than a user to sign out again.
    """
    if not hasattr(connection.state, "user"):
        user_id, session_id = connection.session.get("user_id"), connection.session.get("sid")
        user = None
        if isinstance(user_id, int) and isinstance(session_id, str):
            user = await services(connection).browser_sessions.user(user_id, session_id)
        if user is None:
            connection.session.pop("user_id", None)
        connection.state.user = user
    current: User | None = connection.state.user
    return current


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def signed_in(handler: Handler) -> Handler:
    """Pages for signed-in users: everyone else is sent to /signin with "Please sign in"."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        if await current_user(request) is None:
            if request.headers.get("accept", "").startswith("application/json"):
                return JSONResponse({"error": "Please sign in."}, status_code=401)
            flash(request, "error", "Please sign in")
            return redirect("/signin")
        return await handler(request)

    return guarded


def signed_in_or_public(handler: Handler) -> Handler:
    """Pages a signed-out visitor may see when PUBLIC_PROFILES is on (with no user in `request.state`);
    otherwise exactly `signed_in`, so turning the setting off changes nothing else."""
    private = signed_in(handler)

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        if request.app.state.settings.public_profiles and await current_user(request) is None:
            return await handler(request)
        return await private(request)

    return guarded


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    base = {
        "current_user": getattr(request.state, "user", None),
        "flashes": pop_flashes(request),
        "csrf_token": csrf_token(request),
        "settings": request.app.state.settings,
    }
    return templates.TemplateResponse(request, template, {**base, **(context or {})}, status_code=status_code)
