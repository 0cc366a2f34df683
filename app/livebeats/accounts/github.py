"""GitHub OAuth (authorization code flow) over httpx, against configurable base URLs.

Only three calls are needed (token exchange, /user, /user/emails), so a plain
HTTP client is clearer than an OAuth framework. Every failure becomes a
GitHubError whose message can be flashed to the user as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from livebeats.settings import Settings
from livebeats.text import clipped_text

SCOPE = "user:email"
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
"""Letters, digits, hyphens, and the underscore of Enterprise managed users (`octo_acme`); matched whole."""
NAME_MAX_LENGTH = 255
EMAIL_MAX_LENGTH = 320
URL_MAX_LENGTH = 2048
PROVIDER_ID_MAX_LENGTH = 64


class GitHubError(Exception):
    """Signing in with GitHub failed; the message tells the user what to do."""


@dataclass(frozen=True)
class GitHubIdentity:
    provider_id: str
    login: str
    name: str
    email: str
    avatar_url: str | None
    profile_url: str | None
    token: str
    raw: dict[str, Any]


class GitHubOAuth:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.client_id = settings.github_client_id
        self.client_secret = settings.github_client_secret
        self.base_url = settings.github_base_url.rstrip("/")
        self.api_url = settings.github_api_url.rstrip("/")
        self.http = http

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode({"client_id": self.client_id, "redirect_uri": redirect_uri, "scope": SCOPE, "state": state})
        return f"{self.base_url}/login/oauth/authorize?{query}"

    async def fetch_identity(self, *, code: str, redirect_uri: str) -> GitHubIdentity:
        try:
            token = await self._exchange_code(code, redirect_uri)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
            user_response = await self.http.get(f"{self.api_url}/user", headers=headers)
            emails_response = await self.http.get(f"{self.api_url}/user/emails", headers=headers)
        except httpx.HTTPError as error:
            raise GitHubError("We could not reach GitHub to sign you in. Please try again in a moment.") from error
        if user_response.status_code != 200 or emails_response.status_code != 200:
            raise GitHubError("GitHub refused to share your profile. Please try signing in again.")
        try:
            user = user_response.json()
            emails = emails_response.json()
        except ValueError as error:
            raise GitHubError("GitHub sent an unreadable answer. Please try signing in again.") from error
        if not isinstance(user, dict) or not user.get("id") or not user.get("login"):
            raise GitHubError("GitHub did not send your account id and login. Please try signing in again.")
        provider_id, login = str(user["id"]), user["login"]
        if not isinstance(login, str) or not LOGIN_PATTERN.fullmatch(login) or len(provider_id) > PROVIDER_ID_MAX_LENGTH:
            raise GitHubError("GitHub sent an account login or id we cannot use. Please try signing in again.")
        email = primary_email(emails)
        if not email:
            raise GitHubError(
                "Your GitHub account has no verified email address we can read. Verify one on GitHub, then sign in again."
            )
        name = clipped_text(user["name"], NAME_MAX_LENGTH) if isinstance(user.get("name"), str) else ""
        avatar_url, profile_url = web_url(user.get("avatar_url")), web_url(user.get("html_url"))
        return GitHubIdentity(
            provider_id=provider_id,
            login=login,
            name=name or login,
            email=email.lower(),
            avatar_url=avatar_url,
            profile_url=profile_url,
            token=token,
            raw={"id": provider_id, "login": login, "name": name, "avatar_url": avatar_url, "html_url": profile_url},
        )

    async def _exchange_code(self, code: str, redirect_uri: str) -> str:
        response = await self.http.post(
            f"{self.base_url}/login/oauth/access_token",
            data={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            },
            headers={"Accept": "application/json"},
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not token:
            raise GitHubError("GitHub did not accept the sign-in (the code may have expired). Please try again.")
        return str(token)


def web_url(value: Any) -> str | None:
    """`value` if it is an http(s) URL fit to be a link or an image, else None."""
    if not isinstance(value, str) or len(value) > URL_MAX_LENGTH or clipped_text(value, URL_MAX_LENGTH) != value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or any(char.isspace() for char in value):
        return None
    return value


def primary_email(emails: Any) -> str | None:
    """The primary address, else the first one listed; only addresses GitHub has verified."""
    if not isinstance(emails, list):
        return None
    addresses = [
        item
        for item in emails
        if isinstance(item, dict)
        and item.get("verified") is True
        and isinstance(item.get("email"), str)
        and "@" in item["email"]
        and len(item["email"]) <= EMAIL_MAX_LENGTH
        and clipped_text(item["email"], EMAIL_MAX_LENGTH) == item["email"]
    ]
    for item in addresses:
        if item.get("primary"):
            return str(item["email"])
    return str(addresses[0]["email"]) if addresses else None
