"""Sign-in (GitHub and development), sign-out and settings pages."""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livebeats.accounts.github import GitHubError
from livebeats.accounts.service import FormErrors
from livebeats.accounts.sessions import session_key
from livebeats.errors import DATABASE_UNAVAILABLE, UserError
from livebeats.realtime.topics import user_topic
from livebeats.web import csrf_valid, current_user, flash, redirect, render, services, signed_in

logger = logging.getLogger(__name__)


async def start_session(request: Request, user_id: int) -> None:
    """A fresh session per sign-in, with its row (see `livebeats.accounts.sessions`)."""
    session_id = await services(request).browser_sessions.start(user_id)
    request.session.clear()
    request.session["user_id"] = user_id
    request.session["sid"] = session_id


def callback_url(request: Request) -> str:
    """Where GitHub sends the user back: the public APP_HOSTNAME when set, else this request's host.

    With APP_HOSTNAME set nothing of the request is used (neither Host nor a
    forwarded scheme), so a forged header cannot send the code elsewhere.
    """
    settings = services(request).settings
    if settings.app_hostname:
        scheme = "https" if settings.secure_cookies else "http"
        return f"{scheme}://{settings.app_hostname}{request.app.url_path_for('github_callback')}"
    return str(request.url_for("github_callback"))


async def home(request: Request) -> Response:
    user = await current_user(request)
    return redirect(f"/{user.username}" if user else "/signin")


async def signin(request: Request) -> Response:
    """The health-check target: renders from settings and the cookie only, never the database."""
    return render(request, "signin.html", {"github_configured": request.app.state.settings.github_configured})


async def github_start(request: Request) -> Response:
    if not services(request).settings.github_configured:
        flash(request, "error", "Sign-in with GitHub is not configured yet.")
        return redirect("/signin")
    state = secrets.token_urlsafe(24)
    request.session["oauth_state"] = state
    return redirect(services(request).github.authorize_url(state=state, redirect_uri=callback_url(request)))


async def github_callback(request: Request) -> Response:
    expected_state = request.session.pop("oauth_state", None)
    state = request.query_params.get("state")
    if not expected_state or not state or not secrets.compare_digest(expected_state, state):
        flash(request, "error", "That sign-in link was not started here or has expired. Please sign in again.")
        return redirect("/")
    if "error" in request.query_params or not request.query_params.get("code"):
        flash(request, "error", "GitHub sign-in was cancelled. Please try again.")
        return redirect("/")
    try:
        identity = await services(request).github.fetch_identity(
            code=request.query_params["code"], redirect_uri=callback_url(request)
        )
        user = await services(request).accounts.sign_in_with_github(identity)
    except (GitHubError, UserError) as error:
        flash(request, "error", str(error))
        return redirect("/")
    await start_session(request, user.id)
    flash(request, "info", f"Welcome, {user.name}!")
    return redirect(f"/{user.username}")


async def dev_signin(request: Request) -> Response:
    """Sign in as a made-up user; only mounted when DEV_SIGNIN=true in development."""
    form = await request.form()
    if not csrf_valid(request, form.get("csrf_token")):
        flash(request, "error", "Your form expired; please try again.")
        return redirect("/signin")
    try:
        user = await services(request).accounts.sign_in_for_development(str(form.get("username", "")).strip())
    except FormErrors as error:
        flash(request, "error", str(error))
        return redirect("/signin")
    await start_session(request, user.id)
    return redirect(f"/{user.username}")


async def signout(request: Request) -> Response:
    form = await request.form()
    if not csrf_valid(request, form.get("csrf_token")):
        flash(request, "error", "Your form expired; please try again.")
        return redirect("/")
    user_id, session_id = request.session.get("user_id"), request.session.get("sid")
    request.session.clear()
    flash(request, "info", "Signed out.")
    if isinstance(user_id, int) and isinstance(session_id, str):
        try:
            await services(request).browser_sessions.end(session_id)
            await services(request).hub.publish(user_topic(user_id), {"type": "signed_out", "session": session_key(session_id)})
        except DATABASE_UNAVAILABLE as error:
            # This browser forgets its cookie all the same; the row expires with it.
            logger.warning("sign-out could not revoke the session in the database: %r", error)
    return redirect("/signin")


@signed_in
async def signout_everywhere(request: Request) -> Response:
    """End every session of this user, in every browser and region; open pages go to /signin."""
    form = await request.form()
    if not csrf_valid(request, form.get("csrf_token")):
        flash(request, "error", "Your form expired; please try again.")
        return redirect("/profile/settings")
    user_id = request.state.user.id
    ended = await services(request).browser_sessions.end_all(user_id)
    await services(request).hub.publish(user_topic(user_id), {"type": "signed_out", "session": None})
    request.session.clear()
    flash(request, "info", f"Signed out everywhere ({ended} session{'s' if ended != 1 else ''}).")
    return redirect("/signin")


@signed_in
async def settings_page(request: Request) -> Response:
    user = request.state.user
    if request.method in ("GET", "HEAD"):
        return render(request, "settings.html", {"form": {"username": user.username, "tagline": user.tagline}, "errors": {}})
    form = await request.form()
    values = {"username": str(form.get("username", "")), "tagline": str(form.get("tagline", ""))}
    if not csrf_valid(request, form.get("csrf_token")):
        return render(
            request, "settings.html", {"form": values, "errors": {"form": "Your form expired; please submit it again."}}, 400
        )
    try:
        updated = await services(request).accounts.update_settings(user.id, **values)
    except FormErrors as error:
        return render(request, "settings.html", {"form": values, "errors": error.fields}, 422)
    request.state.user = updated
    flash(request, "info", "Settings updated")
    return redirect("/profile/settings")


def routes(*, dev_signin_enabled: bool) -> list[Route]:
    table = [
        Route("/", home),
        Route("/signin", signin, methods=["GET", "HEAD"]),
        Route("/oauth/github", github_start),
        Route("/oauth/callbacks/github", github_callback, name="github_callback"),
        Route("/signout", signout, methods=["POST"]),
        Route("/signout/everywhere", signout_everywhere, methods=["POST"]),
        Route("/profile/settings", settings_page, methods=["GET", "POST"]),
    ]
    if dev_signin_enabled:
        table.append(Route("/dev/signin", dev_signin, methods=["POST"]))
    return table
