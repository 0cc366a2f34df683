"""A bound on every request body, enforced before the application reads it.

Forms and JSON commands are a few hundred bytes; without a bound, a client
could make the server buffer any amount (Starlette reads a whole urlencoded
form or JSON body into memory). The song upload, the one large body, streams
to a temporary file under its own limit and is exempt here.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
MAX_DISCARDED_BYTES = 4 * 1024 * 1024
"""A refused body up to this size is read and thrown away, so the client, still
sending, gets to read the 413 instead of a reset connection; beyond it we hang up."""
TOO_LARGE = f"The request body is too large: at most {MAX_BODY_BYTES // 1024} KB is accepted here."


class BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    def __init__(self, app: ASGIApp, *, exempt_path_suffix: str) -> None:
        self.app = app
        self.exempt_path_suffix = exempt_path_suffix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith(self.exempt_path_suffix):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await self._refuse(scope, receive, send, body_complete=False)
            return
        received = 0
        started = body_complete = False

        async def bounded_receive() -> Message:
            nonlocal received, body_complete
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_complete = not message.get("more_body", False)
                if received > MAX_BODY_BYTES:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, body_complete=body_complete)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, *, body_complete: bool) -> None:
        """JSON for the page's fetch calls (they send X-CSRF-Token), text for forms."""
        headers = Headers(scope=scope)
        if "x-csrf-token" in headers or "json" in headers.get("accept", ""):
            response: Response = JSONResponse({"error": TOO_LARGE}, status_code=413)
        else:
            response = PlainTextResponse(TOO_LARGE, status_code=413)
        if not (body_complete or await _discard_body(receive)):
            response.headers["Connection"] = "close"
        await response(scope, _nothing_more, send)


async def _discard_body(receive: Receive) -> bool:
    """Read what is left of the body, up to MAX_DISCARDED_BYTES; True if it all came."""
    discarded = 0
    while discarded <= MAX_DISCARDED_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return False
        discarded += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
    return False


async def _nothing_more() -> Message:
    return {"type": "http.disconnect"}
