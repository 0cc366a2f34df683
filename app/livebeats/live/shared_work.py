"""What every live connection of this process would otherwise compute alike, computed once.

One event reaches thousands of connections, so each event's text and WebSocket
frame, and the reads a page needs on connect, are computed once per process.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.websockets import WebSocket

from livebeats.clock import utc_now
from livebeats.live.coalesced import CONNECT_READS_GATHER, Coalesced
from livebeats.live.messages import player_song, to_json
from livebeats.live.transport import text_frame
from livebeats.models import SongStatus
from livebeats.playback.service import NowPlaying, active_users
from livebeats.realtime.client import Outgoing
from livebeats.services import Services, node_wide, services

RENDERED_EVENTS_KEPT = 64
"""Events whose rendered text is kept for the connections still to send it; a few per busy moment."""
ELAPSED_SLOT = "\u0000elapsed"
"""Stands in for a playing song's "elapsed" in a rendered event, filled in at each send."""
ELAPSED_RESOLUTION = 0.001
"""Seconds: "elapsed" is sent rounded to the millisecond."""

Rendered = TypeVar("Rendered")


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
        return node_wide(websocket, "live_shared_work", lambda: SharedWork(services(websocket)))

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
