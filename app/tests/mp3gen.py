"""Real MP3 bytes for tests: silent MPEG-1 Layer III frames of a chosen duration.

Each frame is a valid 4-byte header (MPEG-1, Layer III, no CRC, 32 kbit/s,
48 kHz, mono: exactly 96 bytes and 24 ms a frame) followed by zeroed side information and main data, which
decoders play as silence. 32 kbit/s keeps a 20-minute file under 5 MB.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from mutagen.id3 import COMM, ID3, TIT2, TPE1

SAMPLE_RATE = 48_000
SAMPLES_PER_FRAME = 1152
BITRATE = 32_000
FRAME_HEADER = bytes([0xFF, 0xFB, 0x14, 0xC0])
"""Sync + MPEG-1 + Layer III + no CRC | bitrate index 1 (32k) + 48 kHz + no padding | mono."""
FRAME_BYTES = 144 * BITRATE // SAMPLE_RATE


def mp3_frames(seconds: float) -> bytes:
    frames = max(1, math.ceil(seconds * SAMPLE_RATE / SAMPLES_PER_FRAME))
    frame = FRAME_HEADER + bytes(FRAME_BYTES - len(FRAME_HEADER))
    return frame * frames


def mp3_bytes(seconds: float, *, title: str | None = None, artist: str | None = None, comment: str | None = None) -> bytes:
    """An MP3 of about `seconds`, with an ID3v2 tag when any tag value is given."""
    audio = mp3_frames(seconds)
    if title is None and artist is None and comment is None:
        return audio
    tags = ID3()
    if title is not None:
        tags.add(TIT2(encoding=3, text=title))
    if artist is not None:
        tags.add(TPE1(encoding=3, text=artist))
    if comment is not None:
        tags.add(COMM(encoding=3, lang="eng", desc="", text=comment))
    buffer = io.BytesIO()
    tags.save(buffer)
    return buffer.getvalue() + audio


def write_mp3(path: Path, seconds: float, **tags: str) -> Path:
    path.write_bytes(mp3_bytes(seconds, **tags))
    return path
