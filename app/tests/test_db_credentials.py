"""The database password changes under running nodes: HTTP and realtime recover with no restart.

Deployed tasks are given the *address* of their database credentials
(DB_SECRET_ARN), and read the secret when they connect. Here the real app
(`python -m livebeats serve`, two nodes) logs in with a password-checked role on
the session's PostgreSQL, reading the secret from moto's Secrets Manager; the
test then does what an operator changing the password does (ALTER USER, put the
new value in the secret) and what a restart, failover or idle timeout does to
every open connection (pg_terminate_backend).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import boto3
import pytest
from moto.server import ThreadedMotoServer
from mp3gen import mp3_bytes
from sqlalchemy.engine import make_url
from support import AppServer, free_port, receive, run_cli

ROLE = "livebeats_rotating"
"""The app's login in this test only: password-checked, unlike the session's trust-authenticated superuser."""

SECRET_REGION = "us-east-1"
"""Not the nodes' AWS_REGION (eu-west-2): the secondary region reads the primary's secret cross-region."""

AWS_TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def secrets_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def secrets(secrets_endpoint: str):
    return boto3.client(
        "secretsmanager",
        endpoint_url=secrets_endpoint,
        region_name=SECRET_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection, and ROLE logging in by password (scram) from 127.0.0.1 with the app's privileges."""
    connection = await asyncpg.connect(database_url)
    hba_file = Path(await connection.fetchval("SHOW hba_file"))
    original_hba = hba_file.read_text()
    hba_file.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n{original_hba}")
    await connection.execute("SELECT pg_reload_conf()")
    await connection.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD 'first-password'")
    await connection.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    await connection.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    try:
        yield connection
    finally:
        await drop_every_connection(connection)
        await connection.execute(f"DROP OWNED BY {ROLE}")
        await connection.execute(f"DROP ROLE {ROLE}")
        hba_file.write_text(original_hba)
        await connection.execute("SELECT pg_reload_conf()")
        await connection.close()


async def drop_every_connection(admin: asyncpg.Connection) -> None:
    """Terminate ROLE's backends and wait until they are gone (pg_terminate_backend only signals).

    Waits for those backends only: the nodes may already be logging in again.
    """
    pids = [row["pid"] for row in await admin.fetch("SELECT pid FROM pg_stat_activity WHERE usename = $1", ROLE)]
    await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
    while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", pids):
        await asyncio.sleep(0.05)


def secret_env(database_url: str, secret_arn: str, endpoint: str) -> dict[str, str]:
    """What the deployment gives a task: the database's address and the secret's, never the password."""
    url = make_url(database_url)
    return {
        "DATABASE_URL": "",
        "DB_HOST": url.host,
        "DB_PORT": str(url.port),
        "DB_NAME": url.database,
        "DB_SECRET_ARN": secret_arn,
        "DB_SECRET_REGION": SECRET_REGION,
        "AWS_ENDPOINT_URL": endpoint,
        **AWS_TEST_CREDENTIALS,
    }


def login(password: str) -> str:
    return json.dumps({"username": ROLE, "password": password})


@pytest.mark.timeout(300)  # a migrate run and two app nodes; slow on a loaded 2-core machine, not stuck
async def test_password_change_under_running_nodes_heals_http_and_realtime(
    admin, secrets, secrets_endpoint, database_url, app_env, browsers, tmp_path
):
    secret_arn = secrets.create_secret(Name=f"livebeats/db-{uuid.uuid4().hex[:8]}", SecretString=login("first-password"))["ARN"]
    env = {**app_env, **secret_env(database_url, secret_arn, secrets_endpoint)}
    migrated = run_cli("migrate", env)
    assert migrated.returncode == 0, migrated.stderr
    near = AppServer(env, tmp_path / "near.log")
    far = AppServer({**env, "AWS_REGION": "us-east-1"}, tmp_path / "far.log")
    try:
        await asyncio.gather(asyncio.to_thread(near.start), asyncio.to_thread(far.start))
        watcher = await browsers("watcher", target=near)
        owner = await browsers("owner", target=far)
        assert (await watcher.page(f"/{owner.username}")).status_code == 200
        async with watcher.live(owner.user_id) as socket:
            await receive(socket, "state")

            await admin.execute(f"ALTER ROLE {ROLE} PASSWORD 'second-password'")
            secrets.put_secret_value(SecretId=secret_arn, SecretString=login("second-password"))
            await drop_every_connection(admin)
            with pytest.raises(asyncpg.InvalidPasswordError):
                await asyncpg.connect(database_url, user=ROLE, password="first-password")

            # The near node's LISTEN connection is back (the hub resyncs its pages with a fresh state).
            await receive(socket, "state", timeout=30)
            # Both nodes' pools log in again: pages, uploads and saves work...
            assert (await watcher.page(f"/{owner.username}")).status_code == 200
            await owner.add_songs([("After Rotation - Band.mp3", mp3_bytes(30))])
            # ...and the far node's event reaches the near node's page through PostgreSQL.
            await receive(socket, "songs_changed", lambda message: message["profile_id"] == owner.user_id, timeout=10)
        assert "After Rotation" in (await watcher.page(f"/{owner.username}")).text
        listeners = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND application_name LIKE 'livebeats-listen %'", ROLE
        )
        assert listeners == 2, "each node listens again, logged in with the new password"
        for node in (near, far):
            assert node.process.poll() is None, "the node restarted or died"
    finally:
        near.stop()
        far.stop()


def test_unreadable_secret_stops_start_with_one_line(secrets_endpoint, database_url):
    missing = f"arn:aws:secretsmanager:{SECRET_REGION}:123456789012:secret:livebeats/absent-AbCdEf"
    for command in ("migrate", "serve"):
        result = run_cli(
            command,
            {
                **secret_env(database_url, missing, secrets_endpoint),
                "SECRET_KEY_BASE": "x" * 48,
                "APP_ENV": "development",
                "PORT": str(free_port()),
            },
            timeout=30,
        )
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, result.stderr
        assert len(lines) == 1, lines
        assert "DB_SECRET_ARN" in lines[0] and missing in lines[0] and "ResourceNotFoundException" in lines[0]


def test_secret_without_username_and_password_is_named(secrets, secrets_endpoint, database_url):
    """Also: with DB_SECRET_REGION unset the secret is read in its ARN's region, not the SDK's default."""
    arn = secrets.create_secret(Name=f"livebeats/plain-{uuid.uuid4().hex[:8]}", SecretString="just-a-password")["ARN"]
    result = run_cli(
        "migrate",
        {
            **secret_env(database_url, arn, secrets_endpoint),
            "DB_SECRET_REGION": "",
            "AWS_DEFAULT_REGION": "eu-west-2",
            "SECRET_KEY_BASE": "x" * 48,
            "APP_ENV": "development",
        },
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f'Configuration error: DB_SECRET_ARN: {arn} must hold JSON {{"username": ..., "password": ...}}'
    ]


def test_secret_and_a_fixed_password_together_are_refused(database_url):
    result = run_cli(
        "migrate",
        {
            **secret_env(database_url, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x", "http://127.0.0.1:1"),
            "DB_PASSWORD": "stale",
            "SECRET_KEY_BASE": "x" * 48,
            "APP_ENV": "development",
        },
        timeout=30,
    )
    assert result.returncode == 2
    assert "DB_SECRET_ARN" in result.stderr and "DB_PASSWORD" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
