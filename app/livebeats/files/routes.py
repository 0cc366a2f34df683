"""GET /files/<song_id>?token=...: stream a song, honouring single Range requests."""

from __future__ import annotations

import re
from typing import Literal

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from livebeats.files.storage import StoredFileMissing

RANGE_PATTERN = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")
"""19 digits hold any file size; a longer number is no valid range and gets the whole file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | Literal[False] | None:
    """(start, end) for a satisfiable single range, None for "whole file", False if unsatisfiable.

    Multiple ranges are answered with the whole file, which RFC 9110 allows.
    """
    if not header:
        return None
    match = RANGE_PATTERN.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            return False
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


async def stream_file(request: Request) -> Response:
    services = request.app.state.services
    try:
        song_id = int(request.path_params["song_id"])
    except ValueError:
        return PlainTextResponse("Not found", status_code=404)
    grant = services.file_tokens.verify(request.query_params.get("token", ""), song_id)
    if grant is None:
        return PlainTextResponse(
            "This file link is invalid or has expired; reload the page for a fresh one.",
            status_code=403,
        )
    storage = services.storage
    try:
        size = await storage.size(grant.storage_key)
    except StoredFileMissing:
        return PlainTextResponse("This song has been deleted.", status_code=404)

    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": "audio/mpeg",
        "Cache-Control": "private, max-age=3600",
    }
    byte_range = parse_range(request.headers.get("range"), size)
    if byte_range is False:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if byte_range is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = byte_range, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers)
    return StreamingResponse(storage.read(grant.storage_key, start, end), status_code=status, headers=headers)


routes = [Route("/files/{song_id}", stream_file, methods=["GET", "HEAD"])]
