"""`/live`: who may open a live socket, and the connection that then serves it.

Every page opens `/live?profile=<id of the profile shown>` with its session
cookie; a socket from another site's page, without a session, with a
malformed profile or over the tab limits is closed with 1008, one whose
session has ended (signed out elsewhere, expired) with 4001 "signed out". With
PUBLIC_PROFILES on, a socket without a session that names a profile is
served as that profile's public listener instead (see `LiveConnection`),
within `PublicSockets`' limits.
"""

from __future__ import annotations

import logging

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from livebeats.accounts.sessions import session_key
from livebeats.errors import DATABASE_UNAVAILABLE
from livebeats.live.close_codes import (
    DATABASE_DOWN,
    POLICY_VIOLATION,
    SERVER_BUSY,
    SIGNED_OUT,
    TRY_AGAIN_LATER,
    DatabaseBusy,
)
from livebeats.live.connection import LiveConnection
from livebeats.live.limits import OpenSockets, PublicSockets
from livebeats.live.origin import origin_allowed
from livebeats.live.session_checks import SessionChecks
from livebeats.models import User
from livebeats.services import services

logger = logging.getLogger(__name__)


async def signed_in_user(websocket: WebSocket) -> User | None:
    """`current_user`'s answer for a socket, checked together with the other sockets connecting now."""
    user_id, session_id = websocket.session.get("user_id"), websocket.session.get("sid")
    if not isinstance(user_id, int) or not isinstance(session_id, str):
        return None
    return await SessionChecks.of(websocket).user(user_id, session_id)


async def live_endpoint(websocket: WebSocket) -> None:
    settings = services(websocket).settings
    if not origin_allowed(websocket.headers.get("origin"), settings.app_hostname, websocket.headers.get("host")):
        await websocket.close(code=POLICY_VIOLATION)
        return
    try:
        user = await signed_in_user(websocket)
    except DATABASE_UNAVAILABLE as error:
        busy = isinstance(error, DatabaseBusy)
        logger.warning(
            "live connection refused: %s",
            "no database connection came free in time" if busy else f"the database is unreachable ({error!r})",
        )
        await websocket.accept()
        await websocket.close(code=TRY_AGAIN_LATER, reason=SERVER_BUSY if busy else DATABASE_DOWN)
        return
    try:
        viewed = int(websocket.query_params["profile"]) if websocket.query_params.get("profile") else None
    except ValueError:
        await websocket.close(code=POLICY_VIOLATION)
        return
    if user is None:
        if isinstance(websocket.session.get("user_id"), int):
            # A page rendered signed in whose session has ended (signed out elsewhere, expired):
            # it goes to the sign-in page, as on sign-out, instead of retrying or turning public.
            await websocket.accept()
            await websocket.close(code=SIGNED_OUT, reason="signed out")
        elif settings.public_profiles and viewed is not None:
            await serve_public_listener(websocket, viewed)
        else:
            await websocket.close(code=POLICY_VIOLATION)
        return
    open_sockets, session, user_id = OpenSockets.of(websocket), session_key(websocket.session["sid"]), user.id
    refusal = open_sockets.admit(user_id, session)
    await websocket.accept()
    if refusal is not None:
        await websocket.close(code=POLICY_VIOLATION, reason=refusal)
        return
    connection = LiveConnection(websocket, user, viewed)
    del user  # the ORM row; the connection keeps what it needs of it for as long as the socket lives
    try:
        await connection.run()
    finally:
        open_sockets.release(user_id, session)


async def serve_public_listener(websocket: WebSocket, profile_id: int) -> None:
    """A signed-out visitor's socket on a public profile: counted per client address, not per session."""
    public_sockets = PublicSockets.of(websocket)
    address = websocket.client.host if websocket.client else ""
    refusal = public_sockets.admit(address)
    await websocket.accept()
    if refusal is not None:
        await websocket.close(code=POLICY_VIOLATION, reason=refusal)
        return
    try:
        await LiveConnection(websocket, None, profile_id).run()
    finally:
        public_sockets.release(address)


routes = [WebSocketRoute("/live", live_endpoint)]
