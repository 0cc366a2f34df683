"""Command line: `python -m livebeats migrate | serve | dev`.

The Dockerfile, the local run and the tests all start the app through here,
so there is exactly one way to configure, migrate and serve it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import secrets
import signal
import sys
import tempfile
from collections.abc import Iterator

from pydantic import ValidationError

from livebeats.db_credentials import CredentialsUnavailable
from livebeats.settings import Settings, describe_validation_error, load_settings

WS_MAX_MESSAGE_BYTES = 64 * 1024
"""Browsers send small commands; anything bigger is refused by closing the socket (1009)."""


class WithoutTraceback(logging.Filter):
    """Turn a record's traceback into one line: for libraries that log expected outages with exc_info."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg, record.args = f"{record.getMessage()} ({record.exc_info[1]!r})", ()
            record.exc_info = record.exc_text = None
        return True


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as error:
        print(describe_validation_error(error), file=sys.stderr)
        raise SystemExit(2) from None


@contextlib.contextmanager
def database_settings_checked() -> Iterator[None]:
    """A database setting that cannot work (unreadable secret or CA file) stops start-up with one line, status 2."""
    from livebeats.db import DatabaseConfigurationError

    try:
        yield
    except (DatabaseConfigurationError, CredentialsUnavailable) as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def migrate(settings: Settings) -> None:
    from livebeats.db import AUTHENTICATION_FAILED, DatabaseTlsRefused, create_engine, open_database
    from livebeats.migrate import migrate as run_migrations

    with database_settings_checked():
        database = open_database(settings)

    async def run() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            await run_migrations(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except (DatabaseTlsRefused, CredentialsUnavailable) as error:
        print(f"Migration failed: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except AUTHENTICATION_FAILED as error:
        print(
            f"Migration failed: the database refused the login ({error}); check DB_SECRET_ARN's value or DB_USERNAME/DB_PASSWORD.",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    except (OSError, ConnectionError) as error:
        print(f"Migration failed: cannot reach the database ({error}); check DATABASE_URL or DB_HOST/DB_PORT.", file=sys.stderr)
        raise SystemExit(1) from None


def serve(settings: Settings) -> None:
    import uvicorn

    from livebeats.app import create_app
    from livebeats.live.transport import LiveWebSocketProtocol
    from livebeats.preflight import database_problem

    with database_settings_checked():
        if problem := database_problem(settings):
            print(problem, file=sys.stderr)
            raise SystemExit(1)
        app = create_app(settings)
    collect_garbage_for_long_lived_sockets()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        ws=LiveWebSocketProtocol,
        ws_max_size=WS_MAX_MESSAGE_BYTES,
        ws_per_message_deflate=False,
        log_level="info",
    )


FULL_COLLECTION_EVERY = 1000
"""Generation-1 collections between two full (generation-2) ones; CPython's default is 10."""


def collect_garbage_for_long_lived_sockets() -> None:
    """Keep CPython's full garbage collections from scaling with every socket held.

    Each live socket keeps a few hundred long-lived objects; at 5,000 sockets a
    full collection walks about a million of them. With CPython's defaults,
    5,000 pages connecting at once (a reconnect storm: a deploy, a node restart)
    ran ten full collections, 1.4 s of CPU in a 6 s connect (bench/README.md).
    What the app built at start-up is frozen (never garbage: modules, routes,
    metadata) and full collections come a hundred times less often. Garbage
    without cycles is still freed at once, and young cycles still collected;
    only cycles that outlived two collections wait longer.
    """
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def dev() -> None:
    """A throwaway PostgreSQL, local file storage and development sign-in, on 127.0.0.1."""
    from livebeats.devdb import throwaway_postgres

    with throwaway_postgres() as dsn, tempfile.TemporaryDirectory(prefix="livebeats-songs-") as songs_dir:
        os.environ.update({"DATABASE_URL": dsn, "APP_ENV": "development", "DEV_SIGNIN": "true", "HOST": "127.0.0.1"})
        os.environ.setdefault("SECRET_KEY_BASE", secrets.token_urlsafe(48))
        os.environ.setdefault("STORAGE_DIR", songs_dir)
        settings = settings_or_exit()
        migrate(settings)
        print(f"Live Beats (development) on http://127.0.0.1:{settings.port}/signin", file=sys.stderr)
        # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into
        # SystemExit lets the context managers above remove the cluster and files.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            serve(settings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m livebeats", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command",
        choices=["migrate", "serve", "dev"],
        help="migrate: apply migrations under a lock; serve: run the web server; dev: local run on a throwaway database",
    )
    command = parser.parse_args(argv).command
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # While PostgreSQL is down asyncpg retries its pool's floor every few seconds, each with a traceback.
    logging.getLogger("asyncpg.pool").addFilter(WithoutTraceback())
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials/endpoint via ..." on every start
    if command == "dev":
        dev()
        return
    settings = settings_or_exit()
    if command == "migrate":
        migrate(settings)
    else:
        serve(settings)


if __name__ == "__main__":
    main()
