"""One live socket's connection: what it subscribes to, what it sends the page, the commands it takes.

The connection subscribes to the profile its page shows (song list changes,
who is listening), to the profile its user listens to (what plays, from which
second), to the user's own topic (other tabs switching profile, sign-out) and
to "active_users". In-app navigation keeps the socket: the page sends
`{"type": "view", "profile": <id or null>}` and the connection watches that
profile instead.

A public listener (a signed-out visitor, PUBLIC_PROFILES) has no user: its
connection follows the profile it views, subscribes to nothing else (no user
topic, no "active users"), is never tracked in a presence list and answers
every command but ping and view with an `error`.

An event that finds its connection idle is written by the fan-out itself,
frame bytes straight to the socket (`transport.py`), not through one task and
the ASGI send chain per connection; anything else waits in the connection's
bounded outbox.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, assert_never

from starlette.websockets import WebSocket, WebSocketDisconnect

from livebeats.accounts.sessions import session_key
from livebeats.errors import DATABASE_UNAVAILABLE, NotFound, SignInRequired, UserError
from livebeats.live.close_codes import DATABASE_DOWN, SERVER_BUSY, SIGNED_OUT, TRY_AGAIN_LATER, DatabaseBusy
from livebeats.live.commands import (
    Command,
    Delete,
    Ended,
    Listen,
    Move,
    Next,
    Pause,
    Ping,
    Play,
    Prev,
    StopListening,
    Toggle,
    View,
    parse_command,
)
from livebeats.live.limits import MessageRate
from livebeats.live.messages import listeners_message, player_song, to_json
from livebeats.live.session_checks import SessionChecks
from livebeats.live.shared_work import SharedWork
from livebeats.live.transport import FRAME_WRITER, FrameWriter, text_frame
from livebeats.models import User
from livebeats.realtime import Client
from livebeats.realtime.client import Outgoing
from livebeats.realtime.topics import ACTIVE_USERS, profile_topic, user_topic
from livebeats.services import services

logger = logging.getLogger(__name__)

OUTBOX_SIZE = 256


def as_sent(item: Outgoing) -> str:
    """An event sent to the browser as published."""
    return item.text


class LiveConnection:
    def __init__(self, websocket: WebSocket, user: User | None, viewed_profile_id: int | None) -> None:
        """`user` None: a public listener, following `viewed_profile_id`."""
        self.websocket = websocket
        self.services = services(websocket)
        self.hub = self.services.hub
        self.shared = SharedWork.of(websocket)
        self.user_id = user.id if user else None
        """Kept instead of the ORM row, which would hold its identity-map state for the socket's lifetime."""
        self.user_info = {"id": user.id, "username": user.username, "avatar_url": user.avatar_url} if user else None
        self.session = session_key(websocket.session["sid"]) if user else None
        self.viewed_profile_id = viewed_profile_id
        self.listening_profile_id: int | None = user.active_profile_user_id if user else viewed_profile_id
        self.frames: FrameWriter | None = websocket.scope["extensions"].get(FRAME_WRITER)
        self.client = Client(max_queue=OUTBOX_SIZE, deliver_now=self._deliver_now if self.frames is not None else None)
        self.send_lock = asyncio.Lock()
        self.rate = MessageRate()

    async def run(self) -> None:
        if self.user_id is not None:
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
        users = await self.shared.active_users.get(None) if self.user_id is not None else []
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
        if self.user_id is None:
            return
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
            if not self.rate.take():
                await self.send({"type": "error", "message": "Too many messages; that one was ignored. Slow down."})
                continue
            text = event.get("text")
            if text is None:
                await self.send({"type": "error", "message": "Send JSON text messages, not binary data."})
                continue
            try:
                await self._handle(parse_command(text))
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

    async def _handle(self, command: Command) -> None:
        if self.user_id is None:
            await self._handle_public(command)
            return
        playback, songs, accounts = self.services.playback, self.services.songs, self.services.accounts
        match command:
            case Ping():
                await self._ping(command)
            case Toggle(song_id=song_id):
                await playback.toggle(self.user_id, song_id)
            case Play(song_id=song_id):
                await playback.play(self.user_id, song_id)
            case Pause(song_id=song_id):
                await playback.pause(self.user_id, song_id)
            case Next():
                await playback.skip(self.user_id, self.user_id, 1)
            case Prev():
                await playback.skip(self.user_id, self.user_id, -1)
            case Ended(song_id=song_id):
                if self.listening_profile_id is not None:
                    await playback.auto_advance(self.listening_profile_id, song_id)
            case View(profile_id=profile_id):
                await self._view(profile_id)
            case Listen(profile_id=profile_id):
                await accounts.set_listening(self.user_id, profile_id)
            case StopListening():
                await accounts.set_listening(self.user_id, None)
            case Delete(song_id=song_id):
                await songs.delete(self.user_id, song_id)
            case Move(song_id=song_id, position=position):
                await songs.move(self.user_id, song_id, position)
            case _:
                assert_never(command)

    async def _handle_public(self, command: Command) -> None:
        """A public listener's command: it may only keep its socket alive and follow another profile."""
        match command:
            case Ping():
                await self._ping(command)
            case View(profile_id=profile_id):
                await self._view(profile_id)
                await self._switch_listening(profile_id)
            case _:
                raise SignInRequired("Sign in to do that.")

    async def _ping(self, ping: Ping) -> None:
        region = self.services.settings.aws_region
        await self.send({"type": "pong", "sent_at": ping.sent_at, "region": region})
        if ping.rtt_ms is None or self.listening_profile_id is None or self.user_info is None:
            return
        await self.hub.update_meta(
            topic=profile_topic(self.listening_profile_id),
            client=self.client,
            meta={"ping_ms": round(ping.rtt_ms), "region": region},
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
        if self.user_info is not None:
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
