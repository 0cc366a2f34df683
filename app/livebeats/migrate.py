"""Apply Alembic migrations under a PostgreSQL advisory lock.

Every container runs this at start. Two regions (or two tasks) starting at the
same moment would otherwise race on the same schema; the session-level
advisory lock makes the second one wait, then find nothing left to do.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATION_LOCK_KEY = 7_241_001
"""Arbitrary, fixed advisory-lock key reserved for schema migrations."""


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "livebeats:migrations")
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.commit()
        try:
            await connection.run_sync(_upgrade)
            await connection.commit()
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await connection.commit()
