"""The one WebSocket per open page: realtime events out, playback commands and pings in.

Every page opens `/live?profile=<id of the profile shown>`. The connection
subscribes to that profile (song list changes, who is listening), to the
profile its user listens to (what plays, from which second), to the user's own
topic (other tabs switching profile, sign-out) and to "active_users". In-app
navigation keeps the socket: the page sends `{"type": "view", "profile": <id or
null>}` and the connection watches that profile instead.

Bad input never kills the connection: a malformed or unknown message gets an
`error` reply and the socket keeps serving. A browser may hold at most
MAX_SOCKETS_PER_SESSION of these sockets on a node and an account
MAX_SOCKETS_PER_USER (`OpenSockets`): more is a runaway script, not a reader.

One event reaches thousands of connections, so what they would all compute
alike is computed once per process (`SharedWork`): each event's text and
WebSocket frame, and the reads a page needs on connect. An event that finds
its connection idle is written by the fan-out itself, frame bytes straight to
the socket (`transport.py`), not through one task and the ASGI send chain per
connection; anything else waits in the connection's bounded outbox. A connect that cannot get a database connection
in time is closed with 1013 "try again later"; the page reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import sqlalchemy.exc
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from livebeats.accounts.sessions import session_key
from livebeats.clock import utc_now
from livebeats.errors import DATABASE_UNAVAILABLE, InvalidInput, NotFound, UserError
from livebeats.files.tokens import FileTokens
from livebeats.live.transport import FRAME_WRITER, FrameWriter, text_frame
from livebeats.models import SongStatus, User
from livebeats.playback.service import NowPlaying, active_users
from livebeats.realtime import Client
from livebeats.realtime.client import Outgoing
from livebeats.realtime.topics import ACTIVE_USERS, LISTENERS_SHOWN, profile_topic, user_topic
from livebeats.services import Services, services

logger = logging.getLogger(__name__)

OUTBOX_SIZE = 256
CONNECT_READS_GATHER = 0.02
"""Seconds a connect-time read waits for other connects to share it, when connects are arriving in a burst."""
BURST = 0.2
"""A read (or session check) starting within this many seconds of the last one is part of a burst."""
SESSION_CHECKS_PER_QUERY = 500
"""Most sessions one query checks; bounds the statement's size during a reconnect storm."""
RENDERED_EVENTS_KEPT = 64
"""Events whose rendered text is kept for the connections still to send it; a few per busy moment."""
ELAPSED_SLOT = "\u0000elapsed"
"""Stands in for a playing song's "elapsed" in a rendered event, filled in at each send."""
ELAPSED_RESOLUTION = 0.001
"""Seconds: "elapsed" is sent rounded to the millisecond."""
MAX_SOCKETS_PER_SESSION = 10
MAX_SOCKETS_PER_USER = 25
MESSAGE_BURST = 20
MESSAGES_PER_SECOND = 10.0
"""A page sends a ping every 5 s and a command per click; more than this is a runaway script."""
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
SIGNED_OUT = 4001
SERVER_BUSY = "The server is busy; try again later."
DatabaseBusy = sqlalchemy.exc.TimeoutError
"""Raised when no pooled database connection came free within the pool's timeout."""
DATABASE_DOWN = "The server cannot reach its database right now; try again in a moment."

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")
Rendered = TypeVar("Rendered")


def origin_allowed(origin: str | None, app_hostname: str | None, host: str | None) -> bool:
    """Origin's host[:port] must equal APP_HOSTNAME (or, unset, the request's Host), ignoring case."""
    if not origin:
        return False
    parts = urlsplit(origin)
    expected = app_hostname or host
    if parts.scheme not in {"http", "https"} or not parts.netloc or not expected:
        return False
    return parts.netloc.lower() == expected.strip().lower()


MAX_ID = 2**63 - 1
"""The largest id PostgreSQL's bigint holds; larger numbers cannot name anything."""


def positive_int(message: dict[str, Any], field: str) -> int:
    value = message.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise InvalidInput(f"'{field}' must be a non-negative integer.")
    return value


def optional_id(message: dict[str, Any], field: str) -> int | None:
    """`positive_int`, or None when the field is null: "no profile"."""
    if message.get(field) is None:
        if field not in message:
            raise InvalidInput(f"'{field}' must be a non-negative integer or null.")
        return None
    try:
        return positive_int(message, field)
    except InvalidInput:
        raise InvalidInput(f"'{field}' must be a non-negative integer or null.") from None


def to_json(message: object) -> str:
    return json.dumps(message, separators=(",", ":"))


def as_sent(item: Outgoing) -> str:
    """An event sent to the browser as published."""
    return item.text


def player_song(file_tokens: FileTokens, now_playing: NowPlaying | None) -> dict[str, Any] | None:
    """The player's view of a song; its file link is a bearer token for the song, the same for every user."""
    if now_playing is None:
        return None
    return {
        "id": now_playing.id,
        "profile_id": now_playing.user_id,
        "title": now_playing.title,
        "artist": now_playing.artist,
        "duration": now_playing.duration,
        "status": now_playing.status.value,
        "elapsed": round(now_playing.elapsed(utc_now()).total_seconds(), 3),
        "url": file_tokens.url(now_playing.id, now_playing.storage_key),
    }


def listeners_message(profile_id: int | None, users: list[dict[str, Any]], count: int) -> dict[str, Any]:
    return {"type": "listeners", "profile_id": profile_id, "count": count, "users": users[:LISTENERS_SHOWN]}


class Coalesced(Generic[Key, Value]):
    """One read per key shared by every caller that asks before it starts.

    A caller always gets a value read after it asked, so a connection that
    subscribed to a topic first and then reads misses no change; yet a
    thousand pages reconnecting at once cost one read (one pooled connection)
    at a time per key instead of a thousand. With `gather`, a read that
    follows another within BURST seconds starts that many seconds after its
    first caller asked, so that in a reconnect storm (pages arriving one every
    few hundred microseconds, each read taking a few milliseconds of CPU) a
    read serves many pages, not one or two; a lone connect does not wait.
    """

    def __init__(self, load: Callable[[Key], Awaitable[Value]], *, gather: float = 0.0) -> None:
        self._load = load
        self._gather = gather
        self._last_started: dict[Key, float] = {}
        self._reading: dict[Key, asyncio.Task[None]] = {}
        self._next: dict[Key, asyncio.Future[Value]] = {}

    async def get(self, key: Key) -> Value:
        waiting = self._next.get(key)
        if waiting is None:
            waiting = self._next[key] = asyncio.get_running_loop().create_future()
            if key not in self._reading:
                self._start(key)
        return await asyncio.shield(waiting)

    def _start(self, key: Key) -> None:
        self._reading[key] = asyncio.create_task(self._read(key))

    async def _read(self, key: Key) -> None:
        last, self._last_started[key] = self._last_started.get(key, float("-inf")), time.monotonic()
        if self._gather and self._last_started[key] - last < BURST:
            try:
                await asyncio.sleep(self._gather)
            except asyncio.CancelledError:
                del self._reading[key]
                self._next.pop(key).cancel()
                raise
        result = self._next.pop(key)
        try:
            value = await self._load(key)
        except asyncio.CancelledError:
            result.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - whatever the load raised, every waiter gets it
            result.set_exception(error)
            result.add_done_callback(lambda future: future.exception())
        else:
            result.set_result(value)
        finally:
            del self._reading[key]
            if key in self._next:
                self._start(key)


class SessionChecks:
    """Session checks asked for at the same moment, made in one query (`BrowserSessions.users`).

    After a node restart or a bus reconnect thousands of sockets check their
    session at once. A check joins the next query to start, never one already
    running, so it always sees the session as of after it asked; a failed
    query fails every check in it (the sockets close with 1013 and retry).
    In a burst (like `Coalesced`) a query waits CONNECT_READS_GATHER for more checks.
    """

    def __init__(self, check: Callable[[list[tuple[int, str]]], Awaitable[dict[tuple[int, str], Any]]]) -> None:
        self._check = check
        self._asked: dict[tuple[int, str], asyncio.Future[Any]] = {}
        self._running: asyncio.Task[None] | None = None
        self._last_started = float("-inf")

    @staticmethod
    def of(websocket: WebSocket) -> SessionChecks:
        state = websocket.app.state
        if not hasattr(state, "live_session_checks"):
            state.live_session_checks = SessionChecks(services(websocket).browser_sessions.users)
        checks: SessionChecks = state.live_session_checks
        return checks

    async def user(self, user_id: int, session_id: str) -> Any:
        """The session's user if the session is live, else None."""
        key = (user_id, session_id)
        answer = self._asked.get(key)
        if answer is None:
            answer = self._asked[key] = asyncio.get_running_loop().create_future()
            if self._running is None:
                self._running = asyncio.create_task(self._run())
        return await asyncio.shield(answer)

    async def _run(self) -> None:
        try:
            if time.monotonic() - self._last_started < BURST:
                await asyncio.sleep(CONNECT_READS_GATHER)
            self._last_started = time.monotonic()
            while self._asked:
                batch = dict(itertools.islice(self._asked.items(), SESSION_CHECKS_PER_QUERY))
                for key in batch:
                    del self._asked[key]
                try:
                    found = await self._check(list(batch))
                except Exception as error:  # noqa: BLE001 - every check in the batch gets the query's error
                    for answer in batch.values():
                        answer.set_exception(error)
                        answer.add_done_callback(lambda future: future.exception())
                except BaseException:
                    for answer in batch.values():
                        answer.cancel()
                    raise
                else:
                    for key, answer in batch.items():
                        answer.set_result(found.get(key))
        finally:
            self._running = None


class SharedWork:
    """What every live connection of this process would otherwise compute alike."""

    def __init__(self, services: Services) -> None:
        self.file_tokens = services.file_tokens
        self.now_playing = Coalesced(services.playback.current, gather=CONNECT_READS_GATHER)
        self.active_users = Coalesced(self._active_users, gather=CONNECT_READS_GATHER)
        self._sessions = services.sessions
        self._rendered: collections.OrderedDict[Outgoing, Any] = collections.OrderedDict()
        self._frames: collections.OrderedDict[Outgoing, bytes] = collections.OrderedDict()
        self._playback_frame: tuple[Outgoing | None, float, bytes] = (None, 0.0, b"")

    @staticmethod
    def of(websocket: WebSocket) -> SharedWork:
        state = websocket.app.state
        if not hasattr(state, "live_shared_work"):
            state.live_shared_work = SharedWork(services(websocket))
        shared: SharedWork = state.live_shared_work
        return shared

    async def _active_users(self, _key: None) -> list[dict[str, Any]]:
        async with self._sessions() as session:
            return await active_users(session)

    def rendered(self, item: Outgoing, render: Callable[[dict[str, Any]], Rendered]) -> Rendered:
        """`render(item.message)`, computed by the first connection to send this event."""
        done: Rendered | None = self._rendered.get(item)
        if done is None:
            done = self._rendered[item] = render(item.message)
            if len(self._rendered) > RENDERED_EVENTS_KEPT:
                self._rendered.popitem(last=False)
        return done

    def frame(self, item: Outgoing, text: Callable[[Outgoing], str]) -> bytes:
        """The WebSocket frame of `text(item)`, built by the first connection to write this event."""
        done = self._frames.get(item)
        if done is None:
            done = self._frames[item] = text_frame(text(item).encode())
            if len(self._frames) > RENDERED_EVENTS_KEPT:
                self._frames.popitem(last=False)
        return done

    def playback_frame(self, item: Outgoing) -> bytes:
        """`playback_text` as a frame, rebuilt once per millisecond: "elapsed" is rounded to one anyway."""
        last_item, built_at, frame = self._playback_frame
        now = time.monotonic()
        if last_item is not item or now - built_at >= ELAPSED_RESOLUTION:
            frame = text_frame(self.playback_text(item).encode())
            self._playback_frame = (item, now, frame)
        return frame

    def playback_text(self, item: Outgoing) -> str:
        """The `playback` event as JSON, with a playing song's "elapsed" as of this send.

        The text is rendered once (one file token, one json.dumps); with
        thousands of listeners the last is sent a second or more after the
        first, so the position must not be frozen at the first send.
        """
        head, now_playing, tail = self.rendered(item, self._playback_parts)
        if now_playing is None:
            return head
        return f"{head}{round(now_playing.elapsed(utc_now()).total_seconds(), 3)}{tail}"

    def _playback_parts(self, message: dict[str, Any]) -> tuple[str, NowPlaying | None, str]:
        song = message["song"]
        now_playing = NowPlaying.from_event(song) if song else None
        player = player_song(self.file_tokens, now_playing)
        if now_playing is None or player is None or now_playing.status != SongStatus.PLAYING:
            return to_json({"type": "playback", "profile_id": message.get("profile_id"), "song": player}), None, ""
        text = to_json({"type": "playback", "profile_id": message.get("profile_id"), "song": {**player, "elapsed": ELAPSED_SLOT}})
        head, _, tail = text.partition(to_json(ELAPSED_SLOT))
        return head, now_playing, tail


class OpenSockets:
    """How many live sockets each session and each user holds on this node."""

    def __init__(self) -> None:
        self._per_session: collections.Counter[str] = collections.Counter()
        self._per_user: collections.Counter[int] = collections.Counter()

    @staticmethod
    def of(websocket: WebSocket) -> OpenSockets:
        state = websocket.app.state
        if not hasattr(state, "live_open_sockets"):
            state.live_open_sockets = OpenSockets()
        open_sockets: OpenSockets = state.live_open_sockets
        return open_sockets

    def admit(self, user_id: int, session: str) -> str | None:
        """Count one more socket, or say (as a close reason, under 123 bytes) why not."""
        if self._per_session[session] >= MAX_SOCKETS_PER_SESSION:
            return f"Too many tabs: at most {MAX_SOCKETS_PER_SESSION} live pages per browser."
        if self._per_user[user_id] >= MAX_SOCKETS_PER_USER:
            return f"Too many tabs: at most {MAX_SOCKETS_PER_USER} live pages per account."
        self._per_session[session] += 1
        self._per_user[user_id] += 1
        return None

    def release(self, user_id: int, session: str) -> None:
        self._per_session[session] -= 1
        self._per_user[user_id] -= 1
        if self._per_session[session] <= 0:
            del self._per_session[session]
        if self._per_user[user_id] <= 0:
            del self._per_user[user_id]


class LiveConnection:
    def __init__(self, websocket: WebSocket, user: Any, viewed_profile_id: int | None) -> None:
        self.websocket = websocket
        self.services = services(websocket)
        self.hub = self.services.hub
        self.shared = SharedWork.of(websocket)
        self.user_id: int = user.id
        """Kept instead of the ORM row, which would hold its identity-map state for the socket's lifetime."""
        self.user_info = {"id": user.id, "username": user.username, "avatar_url": user.avatar_url}
        self.session = session_key(websocket.session["sid"])
        self.viewed_profile_id = viewed_profile_id
        self.listening_profile_id: int | None = user.active_profile_user_id
        self.frames: FrameWriter | None = websocket.scope["extensions"].get(FRAME_WRITER)
        self.client = Client(max_queue=OUTBOX_SIZE, deliver_now=self._deliver_now if self.frames is not None else None)
        self.send_lock = asyncio.Lock()
        self.allowance = float(MESSAGE_BURST)
        self.allowance_at = time.monotonic()

    async def run(self) -> None:
        self.hub.attach(self.client, user_topic(self.user_id))
        self.hub.attach(self.client, ACTIVE_USERS)
        if self.viewed_profile_id is not None:
            self.hub.attach(self.client, profile_topic(self.viewed_profile_id))
        if self.listening_profile_id is not None:
            await self._listen_to(self.listening_profile_id)
        try:
            await self.send_state()
            receiving = asyncio.create_task(self._receive_loop())
            delivering = asyncio.create_task(self._deliver_loop())
            done, pending = await asyncio.wait({receiving, delivering}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            # Both may have ended at once (a close ends receiving too): retrieve every error, raise the first.
            errors = [error for error in (task.exception() for task in done) if error is not None]
            if errors:
                raise errors[0]
        except WebSocketDisconnect:
            pass
        except DatabaseBusy:
            logger.warning("live connection closed: no database connection came free in time")
            await self.close(TRY_AGAIN_LATER, SERVER_BUSY)
        except DATABASE_UNAVAILABLE as error:
            logger.warning("live connection closed: the database is unreachable (%r)", error)
            await self.close(TRY_AGAIN_LATER, DATABASE_DOWN)
        finally:
            if self.listening_profile_id is not None:
                await self.hub.untrack(topic=profile_topic(self.listening_profile_id), client=self.client)
            self.hub.detach_all(self.client)
            self.client.close()

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_text(to_json(message))

    async def send_text(self, text: str) -> None:
        """Send one message: framed and written directly when the socket takes it, else through ASGI (waits)."""
        async with self.send_lock:
            if self.frames is None or not self.frames.write(text_frame(text.encode())):
                await self.websocket.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        async with self.send_lock:
            await self.websocket.close(code=code, reason=reason)

    # -- state sent to the browser -------------------------------------------------

    async def current_player(self, profile_id: int | None) -> dict[str, Any] | None:
        if profile_id is None:
            return None
        return player_song(self.shared.file_tokens, await self.shared.now_playing.get(profile_id))

    async def send_state(self) -> None:
        """Everything the page shows live; sent on connect and after the hub resynced.

        Called after subscribing, so the shared reads are at least as new as
        the subscription and any later change arrives as an event.
        """
        player = await self.current_player(self.listening_profile_id)
        users = await self.shared.active_users.get(None)
        await self.send(
            {
                "type": "state",
                "region": self.services.settings.aws_region,
                "primary_region": self.services.settings.primary_region or self.services.settings.aws_region,
                "listening_profile_id": self.listening_profile_id,
                "player": player,
                "active_users": users,
            }
        )
        await self.send_viewed_listeners()

    async def send_viewed_listeners(self) -> None:
        if self.viewed_profile_id is not None:
            users = self.hub.presence(profile_topic(self.viewed_profile_id), may_lag=True)
            await self.send(listeners_message(self.viewed_profile_id, users, len(users)))

    # -- hub → browser ---------------------------------------------------------------

    async def _deliver_loop(self) -> None:
        while (item := await self.client.next_item()) is not None:
            await self._deliver(item)
        await self.close(TRY_AGAIN_LATER, "too many events queued; reconnect")

    def _deliver_now(self, item: Outgoing) -> bool:
        """Write an event's frame during the fan-out; False leaves it to `_deliver` (see `Client`).

        Called only while `_deliver_loop` waits with nothing queued; a send of
        this connection's own in progress (a reply, the connect-time state)
        keeps its place before the event. Never raises: a failure here would
        stop the fan-out to every connection after this one; `_deliver` meets
        it again in this connection's own task.
        """
        frames = self.frames
        if frames is None or self.send_lock.locked():
            return False
        try:
            frame = self._frame(item)
        except Exception:  # noqa: BLE001 - `_deliver` meets it again, in this connection's task
            return False
        return frame is not None and (not frame or frames.write(frame))

    def _frame(self, item: Outgoing) -> bytes | None:
        """What `_deliver` would send, as a frame; b"" when it sends nothing, None when it must wait."""
        message = item.message
        kind = message.get("type")
        if kind == "playback":
            return self.shared.playback_frame(item)
        if kind == "presence":
            if self.viewed_profile_id is None or message.get("topic") != profile_topic(self.viewed_profile_id):
                return b""
            return self.shared.frame(item, lambda event: self.shared.rendered(event, self._listeners_text))
        if kind in {"listening", "signed_out", "resync"}:
            return None
        return self.shared.frame(item, as_sent)

    async def _deliver(self, item: Outgoing) -> None:
        message = item.message
        kind = message.get("type")
        if kind == "playback":
            await self.send_text(self.shared.playback_text(item))
        elif kind == "presence":
            if self.viewed_profile_id is not None and message.get("topic") == profile_topic(self.viewed_profile_id):
                await self.send_text(self.shared.rendered(item, self._listeners_text))
        elif kind == "listening":
            await self._switch_listening(message.get("profile_id"))
        elif kind == "signed_out":
            if message.get("session") in (None, self.session):
                await self._signed_out()
        elif kind == "resync":
            await self._check_still_signed_in()
            await self.send_state()
        else:
            await self.send_text(item.text)

    async def _signed_out(self) -> None:
        await self.send({"type": "signed_out"})
        await self.close(SIGNED_OUT, "signed out")
        raise WebSocketDisconnect(SIGNED_OUT)

    async def _check_still_signed_in(self) -> None:
        """After the bus was deaf, a `signed_out` event may have been missed: ask the database."""
        if await SessionChecks.of(self.websocket).user(self.user_id, self.websocket.session["sid"]) is None:
            await self._signed_out()

    def _listeners_text(self, message: dict[str, Any]) -> str:
        """Rendered once per event: every connection that sends it views the event's profile."""
        users = message.get("users", [])
        return to_json(listeners_message(self.viewed_profile_id, users, message.get("count", len(users))))

    # -- browser → server ------------------------------------------------------------

    async def _receive_loop(self) -> None:
        while True:
            event = await self.websocket.receive()
            if event["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(event.get("code", 1000))
            if not self._within_rate():
                await self.send({"type": "error", "message": "Too many messages; that one was ignored. Slow down."})
                continue
            text = event.get("text")
            if text is None:
                await self.send({"type": "error", "message": "Send JSON text messages, not binary data."})
                continue
            try:
                message = json.loads(text)
                if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                    raise InvalidInput('Each message must be a JSON object with a "type".')
                await self._handle(message)
            except json.JSONDecodeError:
                await self.send({"type": "error", "message": "That message was not valid JSON."})
            except RecursionError:
                await self.send(
                    {"type": "error", "message": "That message was nested too deeply; commands are flat JSON objects."}
                )
            except UserError as error:
                await self.send({"type": "error", "message": str(error)})
            except WebSocketDisconnect:
                raise
            except DATABASE_UNAVAILABLE as error:
                logger.warning("live message not handled: the database is unreachable (%r)", error)
                await self.send({"type": "error", "message": DATABASE_DOWN})
            except Exception:
                logger.exception("live message failed: %.200s", text)
                await self.send({"type": "error", "message": "Something went wrong on our side; please try again."})

    def _within_rate(self) -> bool:
        """Token bucket: MESSAGE_BURST at once, refilled at MESSAGES_PER_SECOND."""
        now = time.monotonic()
        self.allowance = min(MESSAGE_BURST, self.allowance + (now - self.allowance_at) * MESSAGES_PER_SECOND)
        self.allowance_at = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        playback, songs = self.services.playback, self.services.songs
        if kind == "ping":
            await self._ping(message)
        elif kind == "toggle":
            await playback.toggle(self.user_id, positive_int(message, "song_id"))
        elif kind == "play":
            await playback.play(self.user_id, positive_int(message, "song_id"))
        elif kind == "pause":
            await playback.pause(self.user_id, positive_int(message, "song_id"))
        elif kind in {"next", "prev"}:
            await playback.skip(self.user_id, self.user_id, 1 if kind == "next" else -1)
        elif kind == "ended":
            if self.listening_profile_id is not None:
                await playback.auto_advance(self.listening_profile_id, positive_int(message, "song_id"))
        elif kind == "view":
            await self._view(optional_id(message, "profile"))
        elif kind == "listen":
            await self.services.accounts.set_listening(self.user_id, positive_int(message, "profile_id"))
        elif kind == "stop_listening":
            await self.services.accounts.set_listening(self.user_id, None)
        elif kind == "delete":
            await songs.delete(self.user_id, positive_int(message, "song_id"))
        elif kind == "move":
            await songs.move(self.user_id, positive_int(message, "song_id"), positive_int(message, "position"))
        else:
            raise InvalidInput(f"Unknown message type '{str(kind)[:40]}'.")

    async def _ping(self, message: dict[str, Any]) -> None:
        region = self.services.settings.aws_region
        await self.send({"type": "pong", "sent_at": message.get("sent_at"), "region": region})
        rtt = message.get("rtt_ms")
        if not isinstance(rtt, (int, float)) or isinstance(rtt, bool) or not 0 <= rtt < 60_000:
            return
        if self.listening_profile_id is None:
            return
        await self.hub.update_meta(
            topic=profile_topic(self.listening_profile_id),
            client=self.client,
            meta={"ping_ms": round(rtt), "region": region},
        )

    async def _view(self, profile_id: int | None) -> None:
        """The page moved to another profile (in-app navigation): watch it instead, on the same socket.

        As on connect: subscribe first, then send the profile's listeners, so no change falls in between.
        """
        if profile_id is not None:
            async with self.services.sessions() as session:
                if await session.get(User, profile_id) is None:
                    raise NotFound("That profile no longer exists.")
        previous = self.viewed_profile_id
        if previous is not None and previous not in (profile_id, self.listening_profile_id):
            self.hub.detach(self.client, profile_topic(previous))
        self.viewed_profile_id = profile_id
        if profile_id is not None:
            self.hub.attach(self.client, profile_topic(profile_id))
        await self.send_viewed_listeners()

    async def _listen_to(self, profile_id: int) -> None:
        self.listening_profile_id = profile_id
        topic = profile_topic(profile_id)
        self.hub.attach(self.client, topic)
        await self.hub.track(topic=topic, client=self.client, user=self.user_info)

    async def _switch_listening(self, profile_id: int | None) -> None:
        """Follow the user's listened-to profile (changed in this tab or another one)."""
        previous = self.listening_profile_id
        if previous != profile_id:
            if previous is not None:
                await self.hub.untrack(topic=profile_topic(previous), client=self.client)
                if previous != self.viewed_profile_id:
                    self.hub.detach(self.client, profile_topic(previous))
            self.listening_profile_id = None
            if profile_id is not None:
                await self._listen_to(profile_id)
        player = await self.current_player(profile_id)
        await self.send({"type": "listening", "profile_id": profile_id, "player": player})


async def signed_in_user(websocket: WebSocket) -> Any:
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
    if user is None:
        await websocket.close(code=POLICY_VIOLATION)
        return
    try:
        viewed = int(websocket.query_params["profile"]) if websocket.query_params.get("profile") else None
    except ValueError:
        await websocket.close(code=POLICY_VIOLATION)
        return
    open_sockets, session = OpenSockets.of(websocket), session_key(websocket.session["sid"])
    refusal = open_sockets.admit(user.id, session)
    await websocket.accept()
    if refusal is not None:
        await websocket.close(code=POLICY_VIOLATION, reason=refusal)
        return
    connection = LiveConnection(websocket, user, viewed)
    del user  # the ORM row; the connection keeps what it needs of it for as long as the socket lives
    try:
        await connection.run()
    finally:
        open_sockets.release(connection.user_id, session)


routes = [WebSocketRoute("/live", live_endpoint)]
