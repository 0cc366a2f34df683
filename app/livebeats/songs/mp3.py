"""Recognise MP3 files by their bytes and read duration and ID3 tags from them.

The file name is never trusted: a file counts as MP3 only if it starts with an
ID3v2 tag or an MPEG audio frame header, and mutagen can find audio frames to
compute a positive duration from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.mp3 import MP3

MAX_DURATION_SECONDS = 20 * 60


class InvalidSong(ValueError):
    """The upload cannot become a song; the message says why, for the user."""


@dataclass(frozen=True)
class SongFile:
    duration_seconds: float
    title: str
    artist: str
    attribution: str


def looks_like_mp3(head: bytes) -> bool:
    """True when the bytes start with an ID3v2 tag or an MPEG audio frame sync."""
    if head[:3] == b"ID3":
        return True
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version_bits = (head[1] >> 3) & 0b11
    layer_bits = (head[1] >> 1) & 0b11
    bitrate_index = head[2] >> 4
    sample_rate_index = (head[2] >> 2) & 0b11
    return version_bits != 0b01 and layer_bits != 0 and bitrate_index not in (0, 15) and sample_rate_index != 3


def _tag_text(tags, frame_id: str) -> str:
    if tags is None:
        return ""
    for frame in tags.getall(frame_id):
        text = " ".join(str(part) for part in frame.text).strip()
        if text:
            return text
    return ""


def split_file_name(file_name: str) -> tuple[str, str]:
    """`Title - Artist.mp3` -> ("Title", "Artist"); the first `-` or `–` splits."""
    stem = re.sub(r"\.mp3$", "", Path(file_name).name, flags=re.IGNORECASE)
    match = re.match(r"^(.*?)[-–](.*)$", stem)
    if match is None:
        return stem.strip(), ""
    return match.group(1).strip(), match.group(2).strip()


def read_song_file(path: Path, file_name: str) -> SongFile:
    """Check the file and describe it; raises InvalidSong with a user-facing reason."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if not looks_like_mp3(head):
        raise InvalidSong(f"{file_name}: not a valid MP3 file (the content is not MPEG audio)")
    try:
        audio = MP3(path)
    except MutagenError as error:
        raise InvalidSong(f"{file_name}: not a valid MP3 file (no audio frames found)") from error
    duration = audio.info.length
    if not duration or duration <= 0:
        raise InvalidSong(f"{file_name}: not a valid MP3 file (its duration is zero)")
    if duration >= MAX_DURATION_SECONDS:
        raise InvalidSong(f"{file_name}: must be less than 20 minutes long")
    title, artist = split_file_name(file_name)
    tags = audio.tags
    return SongFile(
        duration_seconds=duration,
        title=title or _tag_text(tags, "TIT2"),
        artist=artist or _tag_text(tags, "TPE1"),
        attribution=_tag_text(tags, "COMM"),
    )
