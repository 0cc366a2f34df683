"""Cleaning free text from users and from GitHub before it reaches the database or a page."""

import re

INVISIBLE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
"""C0 and C1 controls (PostgreSQL rejects NUL outright), and the bidirectional marks,
embeddings, overrides and isolates that can make `txt.exe` read as `exe.txt`."""


def clean_text(value: str) -> str:
    """Strip surrounding space, control characters and bidirectional overrides."""
    return INVISIBLE_CONTROLS.sub("", value).strip()


def clipped_text(value: str, max_length: int) -> str:
    """`clean_text`, cut to `max_length` characters: for text nobody typed (tags, GitHub)."""
    return clean_text(clean_text(value)[:max_length])
