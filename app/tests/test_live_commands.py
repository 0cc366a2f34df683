"""What a page sends on its live socket, parsed: every command type, and the reply to each kind of bad message."""

from __future__ import annotations

import json

import pytest

from livebeats.errors import InvalidInput
from livebeats.live.commands import (
    MAX_ID,
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

NOT_AN_ID = "'song_id' must be a non-negative integer."


@pytest.mark.parametrize(
    ("raw", "command"),
    [
        ('{"type": "ping", "sent_at": 1712.5, "rtt_ms": 42}', Ping(sent_at=1712.5, rtt_ms=42)),
        ('{"type": "ping", "rtt_ms": 59999.5}', Ping(sent_at=None, rtt_ms=59999.5)),
        ('{"type": "toggle", "song_id": 7}', Toggle(song_id=7)),
        ('{"type": "play", "song_id": 0}', Play(song_id=0)),
        (json.dumps({"type": "pause", "song_id": MAX_ID}), Pause(song_id=MAX_ID)),
        ('{"type": "next"}', Next()),
        ('{"type": "prev"}', Prev()),
        ('{"type": "ended", "song_id": 3}', Ended(song_id=3)),
        ('{"type": "view", "profile": 4}', View(profile_id=4)),
        ('{"type": "view", "profile": null}', View(profile_id=None)),
        ('{"type": "listen", "profile_id": 2}', Listen(profile_id=2)),
        ('{"type": "stop_listening"}', StopListening()),
        ('{"type": "delete", "song_id": 9}', Delete(song_id=9)),
        ('{"type": "move", "song_id": 5, "position": 0}', Move(song_id=5, position=0)),
        ('{"type": "next", "song_id": "ignored", "extra": [1, 2]}', Next()),
    ],
)
def test_each_command_type_is_parsed(raw: str, command: Command) -> None:
    assert parse_command(raw) == command


def test_a_ping_echoes_whatever_sent_at_holds() -> None:
    sent_at = {"clock": [1, "two", None]}
    ping = parse_command(json.dumps({"type": "ping", "sent_at": sent_at}))
    assert isinstance(ping, Ping)
    assert ping.sent_at == sent_at


@pytest.mark.parametrize("rtt_ms", ["-1", "60000", "1e400", "NaN", "true", '"42"', "[42]"])
def test_an_implausible_round_trip_is_dropped_not_refused(rtt_ms: str) -> None:
    assert parse_command('{"type": "ping", "sent_at": 1, "rtt_ms": ' + rtt_ms + "}") == Ping(sent_at=1, rtt_ms=None)


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        ("not json", "That message was not valid JSON."),
        ('{"type": "ping"', "That message was not valid JSON."),
        pytest.param(
            '{"type": "toggle", "song_id": ' + "9" * 5000 + "}",
            "That message holds a number too long to be one of ours.",
            id="a 5000-digit number",
        ),
        (
            '{"type": "ping", "x": ' + "[" * 50_000 + "]" * 50_000 + "}",
            "That message was nested too deeply; commands are flat JSON objects.",
        ),
        ("[]", 'Each message must be a JSON object with a "type".'),
        ('"ping"', 'Each message must be a JSON object with a "type".'),
        ("null", 'Each message must be a JSON object with a "type".'),
        ("{}", 'Each message must be a JSON object with a "type".'),
        ('{"type": 5}', 'Each message must be a JSON object with a "type".'),
        ('{"type": "dance"}', "Unknown message type 'dance'."),
        (json.dumps({"type": "x" * 100}), f"Unknown message type '{'x' * 40}'."),
        ('{"type": "Ping"}', "Unknown message type 'Ping'."),
        ('{"type": "play"}', NOT_AN_ID),
        ('{"type": "play", "song_id": null}', NOT_AN_ID),
        ('{"type": "toggle", "song_id": "7"}', NOT_AN_ID),
        ('{"type": "pause", "song_id": 7.0}', NOT_AN_ID),
        ('{"type": "delete", "song_id": true}', NOT_AN_ID),
        ('{"type": "ended", "song_id": -1}', NOT_AN_ID),
        (json.dumps({"type": "play", "song_id": MAX_ID + 1}), NOT_AN_ID),
        ('{"type": "move", "song_id": 5}', "'position' must be a non-negative integer."),
        ('{"type": "move", "song_id": "a", "position": "b"}', NOT_AN_ID),
        ('{"type": "listen"}', "'profile_id' must be a non-negative integer."),
        ('{"type": "listen", "profile_id": null}', "'profile_id' must be a non-negative integer."),
        ('{"type": "view"}', "'profile' must be a non-negative integer or null."),
        ('{"type": "view", "profile": "4"}', "'profile' must be a non-negative integer or null."),
        ('{"type": "view", "profile": -4}', "'profile' must be a non-negative integer or null."),
    ],
)
def test_a_malformed_message_is_refused_with_the_reply_the_page_gets(raw: str, reply: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_command(raw)
    assert str(refused.value) == reply
