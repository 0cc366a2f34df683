"""The image's build context as Docker sees it, and the digest its tag is made of.

Kept apart from container_image.py so that it imports no cdktf: the tag is a pure function of files.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

# What Docker reads besides the context's files: it uses both even when .dockerignore lists them
# (Docker docs, "Build context": .dockerignore), so a change to either must change the tag too.
ALWAYS_DIGESTED = ("Dockerfile", ".dockerignore")


def _dockerignore_rules(directory: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """``(excludes, pattern)`` for each line of ``directory/.dockerignore``, in order; the last match decides.

    Docker's syntax: Go's filepath.Match per path segment, plus ``**`` for any number of segments and a
    leading ``!`` for an exception; a pattern that matches a directory excludes what is under it.
    """
    ignore_file = directory / ".dockerignore"
    rules: list[tuple[bool, re.Pattern[str]]] = []
    lines = ignore_file.read_text().splitlines() if ignore_file.exists() else []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        segments = pattern.split("/")
        regex = ""
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if segment == "**":
                regex += ".*" if last else "(?:.*/)?"
            else:
                regex += "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in segment)
                regex += "" if last else "/"
        rules.append((excludes, re.compile(regex + "(?:/.*)?")))
    return rules


def context_files(directory: Path) -> list[Path]:
    """The files ``docker build directory`` sends (honouring its .dockerignore), sorted, relative."""
    rules = _dockerignore_rules(directory)
    files = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        excluded = False
        for excludes, pattern in rules:
            if pattern.fullmatch(relative):
                excluded = excludes
        if not excluded or relative in ALWAYS_DIGESTED:
            files.append(path.relative_to(directory))
    return files


def source_digest(directory: Path, *, platform: str) -> str:
    """A short digest of the build context and platform: the image tag changes exactly when the image does.

    ECR tags are immutable here, so every change of the source or of the
    platform must be a new tag, and an unchanged source must keep its tag (no
    push, no new task definition). The context is what app/.dockerignore lets
    into the image, the one list of it.
    """
    digest = hashlib.sha256(platform.encode())
    for relative in context_files(directory):
        digest.update(str(relative).encode())
        digest.update((directory / relative).read_bytes())
    return digest.hexdigest()[:16]
