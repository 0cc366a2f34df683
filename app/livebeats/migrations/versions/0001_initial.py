"""Users, GitHub identities and songs.

Revision ID: 0001
Revises:
Create Date: 2024-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

timestamps = (
    sa.Column("inserted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("avatar_url", sa.Text),
        sa.Column("profile_url", sa.Text),
        sa.Column("tagline", sa.String(255), nullable=False),
        sa.Column("songs_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active_profile_user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        *[column.copy() for column in timestamps],
    )
    op.create_index("users_email_lower_key", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("users_username_lower_key", "users", [sa.text("lower(username)")], unique=True)

    op.create_table(
        "identities",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("provider_login", sa.String(255), nullable=False),
        sa.Column("provider_email", sa.String(320), nullable=False),
        sa.Column("provider_token", sa.Text, nullable=False),
        sa.Column("provider_meta", postgresql.JSONB, nullable=False),
        *[column.copy() for column in timestamps],
        sa.UniqueConstraint("user_id", "provider", name="identities_user_id_provider_key"),
        sa.UniqueConstraint("provider", "provider_id", name="identities_provider_provider_id_key"),
    )

    song_status = postgresql.ENUM("stopped", "playing", "paused", name="song_status")
    op.create_table(
        "songs",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("artist", sa.String(255), nullable=False),
        sa.Column("attribution", sa.String(500)),
        sa.Column("duration", sa.Integer, nullable=False),
        sa.Column("status", song_status, nullable=False, server_default="stopped"),
        sa.Column("played_at", sa.DateTime(timezone=True)),
        sa.Column("paused_at", sa.DateTime(timezone=True)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("storage_key", sa.String(255), nullable=False),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        *[column.copy() for column in timestamps],
        sa.UniqueConstraint("user_id", "title", "artist", name="songs_user_id_title_artist_key"),
    )
    op.create_index("songs_user_id_index", "songs", ["user_id"])
    op.create_index("songs_status_index", "songs", ["status"])


def downgrade() -> None:
    op.drop_table("songs")
    postgresql.ENUM(name="song_status").drop(op.get_bind())
    op.drop_table("identities")
    op.drop_table("users")
