"""Cleaning free text from users before it reaches the database or a page."""

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Strip surrounding space and control characters (PostgreSQL rejects NUL outright)."""
    return CONTROL_CHARACTERS.sub("", value).strip()
