"""Every PostgreSQL connection of the process, and the one async engine built on them.

`DatabaseConnector.connect` is the only place a connection is opened: the
SQLAlchemy pool (through `async_creator`), the realtime bus's LISTEN
connection and its publish pool, and migrations all call it. So each new
connection gets the current credentials (re-read once when the database
refuses them, see `livebeats.db_credentials`) and the same verified TLS.

One engine (one connection pool) per process: created in the app lifespan or
by a CLI command, and disposed when that ends.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from livebeats.db_credentials import (
    CredentialsSource,
    DatabaseCredentials,
    FixedCredentials,
    SecretsManagerCredentials,
)
from livebeats.settings import Settings

AUTHENTICATION_FAILED = (asyncpg.InvalidAuthorizationSpecificationError,)
"""28000 (no such role / no pg_hba entry) and its subclass 28P01 (wrong password): maybe stale credentials."""

CONNECT_TIMEOUT_SECONDS = 10.0
"""Default for one connection attempt (asyncpg's own default is 60 s)."""

STATEMENT_TIMEOUT_SECONDS = 15.0
"""Longest statement of the engine's pool (asyncpg's command_timeout); the app's queries take milliseconds."""


class DatabaseConfigurationError(ValueError):
    """A database setting cannot be used (e.g. an unreadable DB_SSL_ROOT_CERT); the message names it."""


class DatabaseTlsRefused(ConnectionError):
    """The server's TLS did not satisfy DB_SSLMODE; a ConnectionError so callers retrying outages retry it."""


@dataclass(frozen=True)
class DatabaseHost:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class DatabaseAddress:
    """Where the database is: one host, or several of which one accepts writes.

    Several hosts are the regional-failover setup (README "Regional failure"):
    the primary instance and its cross-region read replica, this node's own
    region first. The connector connects to whichever accepts writes, so after
    the replica is promoted every new connection finds it with no restart and no
    configuration change.
    """

    hosts: tuple[DatabaseHost, ...]
    database: str

    def __str__(self) -> str:
        return ",".join(str(host) for host in self.hosts)


class NoWritableDatabase(ConnectionError):
    """None of several DB_HOST entries accepted writes (all down, or all read replicas mid-failover).

    A ConnectionError, so the callers' retry policy for an unreachable database applies.
    """


def parse_hosts(db_host: str, default_port: int) -> tuple[DatabaseHost, ...]:
    """DB_HOST: `host`, `host:port`, or a comma-separated list of them (libpq's multi-host form).

    Raises DatabaseConfigurationError naming DB_HOST for an empty entry or a bad port.
    """
    hosts = []
    for entry in db_host.split(","):
        host, _, port = entry.strip().partition(":")
        if not host or (port and not (port.isdigit() and 1 <= int(port) <= 65535)):
            raise DatabaseConfigurationError(
                f"DB_HOST: {entry.strip()!r} is not host or host:port (port 1-65535); "
                "several hosts are comma-separated, e.g. db-a.example:5432,db-b.example:5432"
            )
        hosts.append(DatabaseHost(host=host, port=int(port) if port else default_port))
    return tuple(hosts)


def tls_context(sslmode: str, root_cert: Path | None) -> str | ssl.SSLContext:
    """asyncpg's `ssl` argument for a libpq sslmode.

    asyncpg treats any SSLContext as "TLS required", so require/verify-ca/
    verify-full are contexts that say how much to check; disable and prefer
    are passed through as asyncpg's own modes. RDS signs server certificates
    with its own CAs, published as one bundle for every region (RDS User Guide,
    "Using SSL/TLS to encrypt a connection to a DB instance or cluster",
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html),
    and names the instance endpoint in them, so verify-full with DB_HOST set to
    the endpoint checks both the CA and the name.
    """
    if sslmode in ("disable", "prefer"):
        return sslmode
    if sslmode == "require":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        context = ssl.create_default_context(cafile=str(root_cert) if root_cert else None)
    except (OSError, ssl.SSLError) as error:
        raise DatabaseConfigurationError(
            f"DB_SSL_ROOT_CERT: cannot load {root_cert} ({error.strerror or error}); "
            f"DB_SSLMODE={sslmode} needs a readable PEM file of CA certificates"
        ) from None
    context.check_hostname = sslmode == "verify-full"
    return context


class DatabaseConnector:
    """Opens asyncpg connections with fresh credentials and the configured TLS."""

    def __init__(
        self,
        *,
        address: DatabaseAddress,
        credentials: CredentialsSource,
        sslmode: str,
        ssl_root_cert: Path | None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self.address = address
        self.credentials = credentials
        self._sslmode = sslmode
        self._ssl_root_cert = ssl_root_cert
        self._tls = tls_context(sslmode, ssl_root_cert)
        self._connect_timeout = connect_timeout
        self._writer: DatabaseHost | None = None

    async def connect(self, **options: Any) -> asyncpg.Connection:
        """A new connection; `options` are asyncpg.connect's (timeout, server_settings, ...).

        A refused login is retried once with credentials read again, unless
        they are the ones just refused (fixed credentials, or a secret not yet
        updated): then the refusal stands and the caller's retry policy applies.
        """
        options.setdefault("timeout", self._connect_timeout)
        credentials = await self.credentials.current()
        try:
            return await self._open(credentials, options)
        except AUTHENTICATION_FAILED:
            fresh = await self.credentials.refresh(credentials)
            if fresh == credentials:
                raise
            return await self._open(fresh, options)

    async def _open(self, credentials: DatabaseCredentials, options: dict[str, Any]) -> asyncpg.Connection:
        hosts = self.address.hosts
        if len(hosts) == 1:
            return await self._open_host(hosts[0], credentials, options)
        return await self._open_writer(credentials, options)

    async def _open_writer(self, credentials: DatabaseCredentials, options: dict[str, Any]) -> asyncpg.Connection:
        """A connection to the host that accepts writes, trying the last writer found first.

        Each host gets its own `timeout`, as libpq's connect_timeout (asyncpg's
        own multi-host connect shares one timeout among all hosts, so a
        black-holed first host would use it up). asyncpg's
        `target_session_attrs="read-write"` decides per host: it refuses a
        server in recovery (a read replica) or one with
        default_transaction_read_only. A refused login or certificate is the
        same for every host and is raised at once.
        """
        last_writer = self._writer
        order = sorted(self.address.hosts, key=lambda host: host != last_writer)
        refusals = []
        for host in order:
            try:
                connection = await self._open_host(host, credentials, {**options, "target_session_attrs": "read-write"})
            except DatabaseTlsRefused:
                raise
            except asyncpg.TargetServerAttributeNotMatched:
                refusals.append(f"{host} is read-only")
            except (TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as error:
                refusals.append(f"{host}: {error!r}")
            else:
                self._writer = host
                return connection
            if host == self._writer:
                # Gone or demoted: back to the configured order (own region
                # first), so a black-holed old writer is not waited on first
                # by every later connection.
                self._writer = None
        raise NoWritableDatabase(f"no DB_HOST accepts writes ({'; '.join(refusals)})")

    async def _open_host(
        self, host: DatabaseHost, credentials: DatabaseCredentials, options: dict[str, Any]
    ) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(
                host=host.host,
                port=host.port,
                database=self.address.database,
                user=credentials.username,
                password=credentials.password,
                ssl=self._tls,
                **options,
            )
        except ssl.SSLCertVerificationError as error:
            raise DatabaseTlsRefused(self._refused_certificate(host, error)) from None
        except ConnectionError as error:
            # asyncpg's words when a server answers "no TLS here" to a client that requires it.
            if type(error) is ConnectionError and "rejected SSL upgrade" in str(error):
                raise DatabaseTlsRefused(
                    f"DB_SSLMODE={self._sslmode}: the database at {host} does not offer TLS; "
                    "for a local database without TLS set DB_SSLMODE=prefer or disable"
                ) from None
            raise

    def _refused_certificate(self, host: DatabaseHost, error: ssl.SSLCertVerificationError) -> str:
        trusted = (
            f"the CAs in DB_SSL_ROOT_CERT={self._ssl_root_cert}"
            if self._ssl_root_cert
            else "the system's CAs (DB_SSL_ROOT_CERT unset)"
        )
        needs = f"be signed by {trusted}"
        if self._sslmode == "verify-full":
            needs += f" and name DB_HOST={host.host}"
        return (
            f"DB_SSLMODE={self._sslmode}: refused the certificate of the database at {host} "
            f"({error.verify_message}); it must {needs}"
        )


def open_database(settings: Settings) -> DatabaseConnector:
    """The connector for these settings, its credentials read once now.

    Reading at start means an unreadable secret (wrong ARN, no permission)
    stops start-up with one line naming DB_SECRET_ARN, rather than surfacing
    later as failed requests. Call it before the event loop starts: the first
    read blocks. Raises DatabaseConfigurationError or CredentialsUnavailable.
    """
    url = settings.database
    if settings.database_url is None and settings.db_host is not None:
        hosts = parse_hosts(settings.db_host, settings.db_port)
    else:
        hosts = (DatabaseHost(host=str(url.host), port=url.port or 5432),)
    address = DatabaseAddress(hosts=hosts, database=url.database or settings.db_name)
    credentials: CredentialsSource
    if settings.db_secret_arn is not None:
        credentials = SecretsManagerCredentials(secret_id=settings.db_secret_arn, region=settings.db_secret_region)
    else:
        credentials = FixedCredentials(DatabaseCredentials(username=url.username, password=url.password))
    connector = DatabaseConnector(
        address=address,
        credentials=credentials,
        sslmode=settings.database_sslmode,
        ssl_root_cert=settings.db_ssl_root_cert,
    )
    credentials.load()
    return connector


def create_engine(database: DatabaseConnector, *, pool_size: int) -> AsyncEngine:
    """The pool opens connections through `database` (the URL only picks the dialect).

    Every statement, the pre-ping included, gives up after
    STATEMENT_TIMEOUT_SECONDS, and a statement that timed out counts as a lost
    connection: SQLAlchemy then discards it (and every older pooled
    connection) and connects again, which finds the current writer. Without
    this, a database that stops answering without closing its connections (a
    region gone silent, a hung server) would hold each pooled connection, and
    the request using it, until TCP gives up many minutes later.
    """
    engine = create_async_engine(
        "postgresql+asyncpg://",
        async_creator=functools.partial(database.connect, command_timeout=STATEMENT_TIMEOUT_SECONDS),
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
    )
    event.listen(engine.sync_engine, "handle_error", _timeout_is_a_lost_connection)
    return engine


def _timeout_is_a_lost_connection(context: ExceptionContext) -> None:
    """SQLAlchemy's handle_error hook, also called for the pool's pre-ping."""
    if isinstance(context.original_exception, (TimeoutError, asyncio.TimeoutError)):
        context.is_disconnect = True


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
