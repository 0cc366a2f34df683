"""The JSON the server sends a page that more than one part builds: the player's song, the listeners list."""

from __future__ import annotations

import json
from typing import Any

from livebeats.clock import utc_now
from livebeats.files.tokens import FileTokens
from livebeats.playback.service import NowPlaying
from livebeats.realtime.topics import LISTENERS_SHOWN


def to_json(message: object) -> str:
    return json.dumps(message, separators=(",", ":"))


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
