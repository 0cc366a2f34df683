"""Recognise MP3 files by their bytes and read duration and ID3 tags from them.

The file name is never trusted: a file counts as MP3 only if it starts with an
ID3v2 tag or an MPEG audio frame header, and mutagen can find audio frames to
compute a positive duration from. Tags are read by our own bounded reader
(`livebeats.songs.id3`), never by mutagen, which inflates compressed frames
whole; their text is cleaned and cut to the fields' limits right here, so
nothing longer is ever stored, echoed or logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.mp3 import MPEGInfo

from livebeats.models import ATTRIBUTION_MAX_LENGTH, SONG_TEXT_MAX_LENGTH
from livebeats.songs.id3 import read_tags
from livebeats.text import clipped_text

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
        if not looks_like_mp3(handle.read(4)):
            raise InvalidSong(f"{file_name}: not a valid MP3 file (the content is not MPEG audio)")
        try:
            duration = MPEGInfo(handle).length
        except (MutagenError, OSError) as error:
            raise InvalidSong(f"{file_name}: not a valid MP3 file (no audio frames found)") from error
        if not duration or duration <= 0:
            raise InvalidSong(f"{file_name}: not a valid MP3 file (its duration is zero)")
        if duration >= MAX_DURATION_SECONDS:
            raise InvalidSong(f"{file_name}: must be less than 20 minutes long")
        tags = read_tags(handle)
    title, artist = split_file_name(file_name)
    return SongFile(
        duration_seconds=duration,
        title=clipped_text(title or tags.title, SONG_TEXT_MAX_LENGTH),
        artist=clipped_text(artist or tags.artist, SONG_TEXT_MAX_LENGTH),
        attribution=clipped_text(tags.comment, ATTRIBUTION_MAX_LENGTH),
    )
