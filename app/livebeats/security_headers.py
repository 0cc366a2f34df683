"""Response headers that keep pages from being framed, sniffed, leaked or downgraded.

The policy fits the app as it is: every script and style is a file under
/static (no inline code, no `style=` attributes, no event-handler attributes),
the live socket and fetches go to this origin, audio comes from /files, and
avatars are GitHub's images over HTTPS.

`Strict-Transport-Security` is only sent over HTTPS (SECURE_COOKIES, or the
scheme a trusted load balancer forwarded): browsers ignore it over plain HTTP,
and a development host must stay reachable without TLS.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "media-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000"
"""One year; without includeSubDomains, so other hosts of the same domain are not forced onto HTTPS."""

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
"""`same-origin` referrers: file links carry bearer tokens, and profile links lead to other sites."""


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, served_over_https: bool) -> None:
        self.app = app
        self.served_over_https = served_over_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self.served_over_https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
