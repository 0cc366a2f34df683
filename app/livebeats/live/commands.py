"""What a page may send on its live socket, parsed once into one typed command per message type.

Each message is a flat JSON object with a string "type"; fields a command does
not use are ignored. Bad input never kills the connection: `parse_command`
raises InvalidInput naming the field and the rule, the connection sends that
as an `error` reply and keeps serving.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from livebeats.errors import InvalidInput

MAX_ID = 2**63 - 1
"""The largest id PostgreSQL's bigint holds; larger numbers cannot name anything."""
MAX_ROUND_TRIP_MS = 60_000
"""A round trip reported as this long or longer is not a measurement; it is ignored."""


@dataclass(frozen=True, slots=True)
class Ping:
    """Sent every 5 s; answered with a `pong` that echoes `sent_at`, whatever JSON value it is."""

    sent_at: object
    rtt_ms: int | float | None
    """The page's last measured round trip, shown next to its listener badge; None when absent or implausible."""


@dataclass(frozen=True, slots=True)
class Toggle:
    """A click on a song row: the server, which knows whether it plays, pauses or plays it."""

    song_id: int


@dataclass(frozen=True, slots=True)
class Play:
    song_id: int


@dataclass(frozen=True, slots=True)
class Pause:
    song_id: int


@dataclass(frozen=True, slots=True)
class Next:
    """The player bar's "next" on the user's own profile (wraps around)."""


@dataclass(frozen=True, slots=True)
class Prev:
    """The player bar's "previous" on the user's own profile (wraps around)."""


@dataclass(frozen=True, slots=True)
class Ended:
    """The listened-to song ended on this page; every listening page says so, the server advances once if it agrees."""

    song_id: int


@dataclass(frozen=True, slots=True)
class View:
    """In-app navigation: the page now shows this profile (None: a page that shows no profile)."""

    profile_id: int | None


@dataclass(frozen=True, slots=True)
class Listen:
    profile_id: int


@dataclass(frozen=True, slots=True)
class StopListening:
    """Follow no profile's playback any more."""


@dataclass(frozen=True, slots=True)
class Delete:
    song_id: int


@dataclass(frozen=True, slots=True)
class Move:
    """Put one of the user's songs at `position` (0-based) in their list."""

    song_id: int
    position: int


Command = Ping | Toggle | Play | Pause | Next | Prev | Ended | View | Listen | StopListening | Delete | Move


def parse_command(raw: str) -> Command:
    """The command a text message carries; InvalidInput (its text is the reply) if it carries none."""
    try:
        message = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidInput("That message was not valid JSON.") from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise InvalidInput("That message holds a number too long to be one of ours.") from None
    except RecursionError:
        raise InvalidInput("That message was nested too deeply; commands are flat JSON objects.") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise InvalidInput('Each message must be a JSON object with a "type".')
    match message["type"]:
        case "ping":
            return Ping(sent_at=message.get("sent_at"), rtt_ms=round_trip(message.get("rtt_ms")))
        case "toggle":
            return Toggle(song_id=positive_int(message, "song_id"))
        case "play":
            return Play(song_id=positive_int(message, "song_id"))
        case "pause":
            return Pause(song_id=positive_int(message, "song_id"))
        case "next":
            return Next()
        case "prev":
            return Prev()
        case "ended":
            return Ended(song_id=positive_int(message, "song_id"))
        case "view":
            return View(profile_id=optional_id(message, "profile"))
        case "listen":
            return Listen(profile_id=positive_int(message, "profile_id"))
        case "stop_listening":
            return StopListening()
        case "delete":
            return Delete(song_id=positive_int(message, "song_id"))
        case "move":
            return Move(song_id=positive_int(message, "song_id"), position=positive_int(message, "position"))
        case kind:
            raise InvalidInput(f"Unknown message type '{kind[:40]}'.")


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


def round_trip(value: object) -> int | float | None:
    """A plausible round trip in milliseconds, else None: a page's bad measurement is not an error."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < MAX_ROUND_TRIP_MS:
        return None
    return value
