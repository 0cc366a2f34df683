"""Read title, artist and comment from an MP3's ID3 tags, within fixed bounds.

A general tag library (mutagen) reads every frame of the tag into memory and
inflates zlib-compressed frames whole, so a 0.3 MB upload could make the server
hold a gigabyte of "title". This reader looks only at the three frames the
upload form needs and never holds more than a few kilobytes of any of them:

- frames are walked by their headers, seeking past everything else, and at
  most `MAX_FRAMES` of them;
- a wanted frame's bytes are read up to `MAX_FRAME_BYTES`, and a compressed
  one is inflated to at most `MAX_FRAME_BYTES` (the rest is never produced);
- a tag version 2.3 tag with whole-tag unsynchronisation is the one case that
  must be decoded before it can be walked; then only its first
  `MAX_UNSYNCHRONISED_TAG_BYTES` are read.

Formats: ID3v2.2, v2.3 and v2.4 (https://id3.org/id3v2.4.0-structure,
https://id3.org/id3v2.4.0-frames, https://id3.org/id3v2.3.0), and ID3v1 at the
end of the file for what v2 did not say.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import BinaryIO

MAX_FRAMES = 512
"""Real tags have a few dozen frames; a tag of millions of empty frames is a time bomb."""
MAX_FRAME_BYTES = 8 * 1024
"""Enough for the longest field (500 characters) in any ID3 text encoding."""
MAX_UNSYNCHRONISED_TAG_BYTES = 256 * 1024
HEADER_BYTES = 10
ID3V1_BYTES = 128

FRAME_IDS = {
    2: {b"TT2": "title", b"TP1": "artist", b"COM": "comment"},
    3: {b"TIT2": "title", b"TPE1": "artist", b"COMM": "comment"},
    4: {b"TIT2": "title", b"TPE1": "artist", b"COMM": "comment"},
}
ENCODINGS = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}

# Frame format flags (second flag byte), per version.
V23_COMPRESSED, V23_ENCRYPTED, V23_GROUPED = 0x80, 0x40, 0x20
V24_GROUPED, V24_COMPRESSED, V24_ENCRYPTED, V24_UNSYNCHRONISED, V24_DATA_LENGTH = 0x40, 0x08, 0x04, 0x02, 0x01
TAG_UNSYNCHRONISED, TAG_EXTENDED_HEADER = 0x80, 0x40


@dataclass(frozen=True)
class TagText:
    """Text found in the tags; "" where a field is missing. Not yet cleaned or cut."""

    title: str = ""
    artist: str = ""
    comment: str = ""


def read_tags(handle: BinaryIO) -> TagText:
    """The file's title, artist and first comment; never raises on malformed tags."""
    found = _read_v2(handle)
    if not all(found.get(field) for field in ("title", "artist", "comment")):
        for field, value in _read_v1(handle).items():
            if value and not found.get(field):
                found[field] = value
    return TagText(**found)


def _syncsafe(data: bytes) -> int | None:
    if any(byte & 0x80 for byte in data):
        return None
    value = 0
    for byte in data:
        value = (value << 7) | byte
    return value


def _unsynchronise_decode(data: bytes) -> bytes:
    return data.replace(b"\xff\x00", b"\xff")


def _read_v2(handle: BinaryIO) -> dict[str, str]:
    handle.seek(0)
    header = handle.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or header[:3] != b"ID3" or header[3] not in FRAME_IDS:
        return {}
    version, flags, size = header[3], header[5], _syncsafe(header[6:10])
    if size is None:
        return {}
    if version == 2 and flags & 0x40:
        return {}  # v2.2 "compression" had no defined scheme; nothing can be read
    source: BinaryIO = handle
    start, end = HEADER_BYTES, HEADER_BYTES + size
    if flags & TAG_UNSYNCHRONISED and version < 4:
        body = handle.read(min(size, MAX_UNSYNCHRONISED_TAG_BYTES))
        source, start = io.BytesIO(_unsynchronise_decode(body)), 0
        end = len(source.getvalue())
    if flags & TAG_EXTENDED_HEADER and version > 2:
        source.seek(start)
        raw = source.read(4)
        if len(raw) < 4:
            return {}
        if version == 3:
            start += 4 + int.from_bytes(raw, "big")
        else:
            extended = _syncsafe(raw)
            if extended is None:
                return {}
            start += extended
    return _walk_frames(source, start, end, version, tag_unsynchronised=bool(flags & TAG_UNSYNCHRONISED))


def _walk_frames(source: BinaryIO, position: int, end: int, version: int, *, tag_unsynchronised: bool) -> dict[str, str]:
    wanted = FRAME_IDS[version]
    id_length, header_length = (3, 6) if version == 2 else (4, 10)
    found: dict[str, str] = {}
    for _ in range(MAX_FRAMES):
        if position + header_length > end or len(found) == len(set(wanted.values())):
            break
        source.seek(position)
        header = source.read(header_length)
        if len(header) < header_length or header[0] == 0:
            break  # padding or a truncated tag
        frame_id = header[:id_length]
        if version == 4:
            size = _syncsafe(header[4:8])
        else:
            size = int.from_bytes(header[id_length : header_length - (2 if version == 3 else 0)], "big")
        if size is None or size <= 0:
            break
        position += header_length + size
        field = wanted.get(frame_id)
        if field is None or field in found:
            continue
        data = source.read(min(size, MAX_FRAME_BYTES))
        format_flags = header[9] if version > 2 else 0
        text = _frame_text(data, version, format_flags, tag_unsynchronised, is_comment=field == "comment")
        if text:
            found[field] = text
    return found


def _frame_text(data: bytes, version: int, flags: int, tag_unsynchronised: bool, *, is_comment: bool) -> str:
    """The text of a (possibly compressed) text or comment frame; "" if unreadable."""
    compressed = False
    if version == 3:
        if flags & V23_ENCRYPTED:
            return ""
        if flags & V23_COMPRESSED:
            data, compressed = data[4:], True
        if flags & V23_GROUPED:
            data = data[1:]
    elif version == 4:
        if flags & V24_ENCRYPTED:
            return ""
        if flags & V24_GROUPED:
            data = data[1:]
        if flags & V24_DATA_LENGTH:
            data = data[4:]
        if flags & V24_UNSYNCHRONISED or tag_unsynchronised:
            data = _unsynchronise_decode(data)
        compressed = bool(flags & V24_COMPRESSED)
    if compressed:
        try:
            data = zlib.decompressobj().decompress(data, MAX_FRAME_BYTES)
        except zlib.error:
            return ""
    return _decode_text(data, is_comment=is_comment)


def _decode_text(data: bytes, *, is_comment: bool) -> str:
    if not data or data[0] not in ENCODINGS:
        return ""
    encoding, body = ENCODINGS[data[0]], data[1:]
    wide = encoding.startswith("utf-16")
    terminator = b"\x00\x00" if wide else b"\x00"
    if is_comment:
        body = body[3:]  # language
        index = _find_terminator(body, terminator, wide)
        body = body[index + len(terminator) :] if index >= 0 else b""
    if wide and len(body) % 2:
        body = body[:-1]
    text = body.decode(encoding, errors="replace")
    return " ".join(part.strip() for part in text.split("\x00") if part.strip())


def _find_terminator(data: bytes, terminator: bytes, wide: bool) -> int:
    index = data.find(terminator)
    while wide and index >= 0 and index % 2:
        index = data.find(terminator, index + 1)
    return index


def _read_v1(handle: BinaryIO) -> dict[str, str]:
    handle.seek(0, io.SEEK_END)
    if handle.tell() < ID3V1_BYTES:
        return {}
    handle.seek(-ID3V1_BYTES, io.SEEK_END)
    tag = handle.read(ID3V1_BYTES)
    if tag[:3] != b"TAG":
        return {}
    comment = tag[97:125] if tag[125] == 0 and tag[126] != 0 else tag[97:127]

    def text(raw: bytes) -> str:
        return raw.split(b"\x00", 1)[0].decode("latin-1").strip()

    return {"title": text(tag[3:33]), "artist": text(tag[33:63]), "comment": text(comment)}
