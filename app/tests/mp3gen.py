"""Real MP3 bytes for tests: silent MPEG-1 Layer III frames of a chosen duration.

Each frame is a valid 4-byte header (MPEG-1, Layer III, no CRC, 32 kbit/s,
48 kHz, mono: exactly 96 bytes and 24 ms a frame) followed by zeroed side information and main data, which
decoders play as silence. 32 kbit/s keeps a 20-minute file under 5 MB.
"""

from __future__ import annotations

import io
import math
import zlib
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


def syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def id3v24_frame(frame_id: bytes, payload: bytes, *, compressed: bool = False) -> bytes:
    """One ID3v2.4 frame; `compressed` zlib-packs it behind a data length indicator, as the spec allows."""
    flags = 0
    if compressed:
        flags = 0x08 | 0x01
        payload = syncsafe(len(payload)) + zlib.compress(payload, 9)
    return frame_id + syncsafe(len(payload)) + bytes([0, flags]) + payload


def id3v24_tag(*frames: bytes) -> bytes:
    body = b"".join(frames)
    return b"ID3\x04\x00\x00" + syncsafe(len(body)) + body


def compressed_text_bomb(inflated_bytes: int, frame_id: bytes = b"TIT2") -> bytes:
    """A text frame whose zlib data inflates to `inflated_bytes` of "A": about 1000 times its size."""
    packer = zlib.compressobj(9)
    chunk = b"A" * (1 << 20)
    parts = [packer.compress(b"\x03")]
    for _ in range(inflated_bytes // len(chunk)):
        parts.append(packer.compress(chunk))
    parts.append(packer.flush())
    packed = b"".join(parts)
    payload = syncsafe(inflated_bytes + 1) + packed
    return frame_id + syncsafe(len(payload)) + bytes([0, 0x08 | 0x01]) + payload
