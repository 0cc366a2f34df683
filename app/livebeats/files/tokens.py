"""Signed file tokens: who may stream which stored file, without a database call.

A token names the storage key itself (not just the song id), so it stays valid
for `FILE_TOKEN_MAX_AGE` even after the song row is gone: a browser in the
middle of a song keeps getting its Range requests answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

FILE_TOKEN_MAX_AGE = 6 * 60 * 60
"""Seconds a token is honoured: longer than any song, pause included in practice."""


@dataclass(frozen=True)
class FileGrant:
    song_id: int
    storage_key: str


class FileTokens:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="livebeats.files")

    def issue(self, song_id: int, storage_key: str) -> str:
        return self._serializer.dumps([song_id, storage_key])

    def url(self, song_id: int, storage_key: str) -> str:
        return f"/files/{song_id}?token={self.issue(song_id, storage_key)}"

    def verify(self, token: str, song_id: int) -> FileGrant | None:
        """The grant, or None when the token is forged, expired or for another song."""
        try:
            signed_id, storage_key = self._serializer.loads(token, max_age=FILE_TOKEN_MAX_AGE)
        except (BadSignature, ValueError, TypeError):
            return None
        if signed_id != song_id:
            return None
        return FileGrant(song_id=signed_id, storage_key=storage_key)
