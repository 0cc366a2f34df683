"""Before serving: can the database be reached? If not, one line naming the setting, not a traceback.

Without this check an unreachable database shows up only inside the ASGI
lifespan (the realtime bus gives up after 30 s), where uvicorn prints a
traceback among its start-up lines.
"""

from __future__ import annotations

import asyncio

import sqlalchemy.exc
from sqlalchemy import text

from livebeats.db import create_engine, open_database
from livebeats.errors import DATABASE_UNAVAILABLE
from livebeats.settings import Settings

# What "the database cannot be reached" looks like from here: no answer in time, or a driver error.
UNREACHABLE: tuple[type[BaseException], ...] = (TimeoutError, *DATABASE_UNAVAILABLE, sqlalchemy.exc.DBAPIError)

CHECK_TIMEOUT_SECONDS = 15.0


def database_settings_named(settings: Settings) -> str:
    if settings.database_url:
        return "DATABASE_URL"
    credentials = "DB_SECRET_ARN" if settings.db_secret_arn else "DB_USERNAME/DB_PASSWORD"
    return f"DB_HOST/DB_PORT/DB_NAME/{credentials}"


def database_problem(settings: Settings) -> str | None:
    """None when `SELECT 1` works; else one line saying what failed and which settings to check.

    A setting that cannot work at all (an unreadable CA file) raises
    DatabaseConfigurationError for the caller to report.
    """
    database = open_database(settings)

    async def check() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        asyncio.run(asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS))
    except UNREACHABLE as error:
        cause = getattr(error, "orig", None) or error
        detail = (str(cause).splitlines() or [type(cause).__name__])[0][:200] if str(cause) else "no answer in time"
        return f"Cannot start: the database cannot be reached ({detail}); check {database_settings_named(settings)}."
    return None
