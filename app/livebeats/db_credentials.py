"""Who the app connects to PostgreSQL as: fixed credentials, or a Secrets Manager secret read when needed.

A deployed task is given the *address* of its credentials (DB_SECRET_ARN), not
their value: a value injected at container start goes stale the moment the
password changes, and from then on every new connection fails (pool refill,
LISTEN reconnect, restart) while the old ones keep the site looking healthy.
So the secret is read when the first connection is made, cached, and read
again when PostgreSQL refuses it: a password change costs one failed
authentication per connection being opened, never a restart.

Local runs and tests keep fixed credentials (DATABASE_URL, DB_USERNAME /
DB_PASSWORD), behind the same two-method interface.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

SECRETS_MANAGER_TIMEOUTS = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
"""A connection attempt waits on this call; fail within seconds rather than botocore's 60 s defaults."""


@dataclass(frozen=True)
class DatabaseCredentials:
    username: str | None
    password: str | None = field(default=None, repr=False)


class CredentialsUnavailable(ConnectionError):
    """The credentials secret could not be read or holds no username and password.

    A ConnectionError, so that code retrying "the database is unreachable" also
    retries this; the message names DB_SECRET_ARN.
    """


class CredentialsSource(Protocol):
    async def current(self) -> DatabaseCredentials:
        """The credentials to try first (cached after the first read)."""

    async def refresh(self, rejected: DatabaseCredentials) -> DatabaseCredentials:
        """Credentials to retry with after PostgreSQL refused `rejected`."""

    def load(self) -> DatabaseCredentials:
        """Read now, blocking (before the event loop starts), so a bad source stops start-up."""


class FixedCredentials:
    """DATABASE_URL or DB_USERNAME/DB_PASSWORD: they cannot change while the process runs."""

    def __init__(self, credentials: DatabaseCredentials) -> None:
        self._credentials = credentials

    async def current(self) -> DatabaseCredentials:
        return self._credentials

    async def refresh(self, rejected: DatabaseCredentials) -> DatabaseCredentials:
        return self._credentials

    def load(self) -> DatabaseCredentials:
        return self._credentials


class SecretsManagerCredentials:
    """A secret whose value is JSON with "username" and "password" (the shape RDS and our stack both write).

    boto3 is blocking, so reads run in a worker thread; boto3 takes the
    endpoint from AWS_ENDPOINT_URL when set (the tests point it at moto).
    Concurrent refreshes after one password change (a pool refilling ten
    connections) share a single read: a refresh whose rejected value is no
    longer the cached one just returns the newer value.
    """

    def __init__(self, *, secret_id: str, region: str | None) -> None:
        """region: where the secret is (the secondary region reads the primary's); None: the ARN's region."""
        self._secret_id = secret_id
        self._client: Any = boto3.client(
            "secretsmanager", region_name=region or region_of_arn(secret_id), config=SECRETS_MANAGER_TIMEOUTS
        )
        self._cached: DatabaseCredentials | None = None
        self._reading: asyncio.Lock | None = None

    async def current(self) -> DatabaseCredentials:
        if self._cached is not None:
            return self._cached
        return await self._read_once(None)

    async def refresh(self, rejected: DatabaseCredentials) -> DatabaseCredentials:
        return await self._read_once(rejected)

    def load(self) -> DatabaseCredentials:
        self._cached = self._read()
        return self._cached

    async def _read_once(self, stale: DatabaseCredentials | None) -> DatabaseCredentials:
        if self._reading is None:
            self._reading = asyncio.Lock()
        async with self._reading:
            if self._cached is not None and self._cached != stale:
                return self._cached
            self._cached = await asyncio.to_thread(self._read)
            return self._cached

    def _read(self) -> DatabaseCredentials:
        try:
            response = self._client.get_secret_value(SecretId=self._secret_id)
        except (ClientError, BotoCoreError) as error:
            raise CredentialsUnavailable(f"DB_SECRET_ARN: cannot read {self._secret_id}: {error}") from None
        try:
            value = json.loads(response["SecretString"])
            return DatabaseCredentials(username=str(value["username"]), password=str(value["password"]))
        except (KeyError, TypeError, ValueError):
            raise CredentialsUnavailable(
                f'DB_SECRET_ARN: {self._secret_id} must hold JSON {{"username": ..., "password": ...}}'
            ) from None


def region_of_arn(arn: str) -> str | None:
    """`arn:aws:secretsmanager:<region>:<account>:secret:<name>` -> region; None for a plain name (SDK default)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[0] == "arn" and parts[3] else None
