"""Which pages may open a live socket: the same-origin policy does not cover WebSockets, the Origin header does."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_allowed(origin: str | None, app_hostname: str | None, host: str | None) -> bool:
    """Origin's host[:port] must equal APP_HOSTNAME (or, unset, the request's Host), ignoring case."""
    if not origin:
        return False
    parts = urlsplit(origin)
    expected = app_hostname or host
    if parts.scheme not in {"http", "https"} or not parts.netloc or not expected:
        return False
    return parts.netloc.lower() == expected.strip().lower()
