"""While the database is down: a short "try again" answer (503), not a 500 with a traceback."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = "Live Beats cannot reach its database right now. Please try again in a moment."
PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Try again · Live Beats</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main class="content"><h1>Please try again</h1><p>{MESSAGE}</p><p><a href="">Reload</a></p></main></body></html>
"""


async def database_unavailable(request: Request, error: Exception) -> Response:
    logger.warning("%s %s answered 503: the database is unavailable (%r)", request.method, request.url.path, error)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if "x-csrf-token" in request.headers or "json" in request.headers.get("accept", ""):
        return JSONResponse({"error": MESSAGE}, status_code=503, headers=headers)
    return HTMLResponse(PAGE, status_code=503, headers=headers)
