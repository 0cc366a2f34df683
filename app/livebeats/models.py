"""Database tables: users, their GitHub identities and their songs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SONG_TEXT_MAX_LENGTH = 255
"""Longest song title or artist, in characters."""
ATTRIBUTION_MAX_LENGTH = 500
"""Longest song attribution (licence, credit), in characters."""


class Base(DeclarativeBase):
    pass


class Timestamps:
    inserted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class User(Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("users_email_lower_key", func.lower("email"), unique=True),
        Index("users_username_lower_key", func.lower("username"), unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    username: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    avatar_url: Mapped[str | None] = mapped_column(Text)
    profile_url: Mapped[str | None] = mapped_column(Text)
    tagline: Mapped[str] = mapped_column(String(255), nullable=False)
    songs_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    active_profile_user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))


class Identity(Timestamps, Base):
    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("user_id", "provider", name="identities_user_id_provider_key"),
        UniqueConstraint("provider", "provider_id", name="identities_provider_provider_id_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(64), nullable=False)
    provider_login: Mapped[str] = mapped_column(String(255), nullable=False)
    provider_email: Mapped[str] = mapped_column(String(320), nullable=False)
    provider_token: Mapped[str] = mapped_column(Text, nullable=False)
    provider_meta: Mapped[dict[str, object]] = mapped_column(JSONB, nullable=False, default=dict)


class SongStatus(enum.StrEnum):
    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"


class Song(Timestamps, Base):
    __tablename__ = "songs"
    __table_args__ = (
        UniqueConstraint("user_id", "title", "artist", name="songs_user_id_title_artist_key"),
        Index("songs_user_id_index", "user_id"),
        Index("songs_status_index", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(String(SONG_TEXT_MAX_LENGTH), nullable=False)
    artist: Mapped[str] = mapped_column(String(SONG_TEXT_MAX_LENGTH), nullable=False)
    attribution: Mapped[str | None] = mapped_column(String(ATTRIBUTION_MAX_LENGTH))
    duration: Mapped[int] = mapped_column(Integer, nullable=False)
    """Whole seconds (rounded, at least 1), as computed from the audio frames."""
    status: Mapped[SongStatus] = mapped_column(
        Enum(SongStatus, name="song_status", values_callable=lambda e: [m.value for m in e]),
        nullable=False,
        default=SongStatus.STOPPED,
        server_default=SongStatus.STOPPED.value,
    )
    played_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)


class BrowserSession(Base):
    """A signed-in browser. The cookie names it; deleting the row signs that browser out everywhere.

    `id` is the SHA-256 of the cookie's random session id, so the table alone
    cannot be replayed as cookies (those also need SECRET_KEY_BASE to sign).
    """

    __tablename__ = "browser_sessions"
    __table_args__ = (Index("browser_sessions_user_id_index", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    inserted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Upload(Base):
    """A checked, stored file not yet saved as a song: it counts against the owner's song limit.

    `id` is the SHA-256 of the upload token the browser holds; saving the song
    deletes the row, so one token makes at most one song.
    """

    __tablename__ = "uploads"
    __table_args__ = (Index("uploads_user_id_index", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    duration: Mapped[int] = mapped_column(Integer, nullable=False)
    inserted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
