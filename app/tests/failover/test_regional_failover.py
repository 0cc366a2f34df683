"""The primary region is lost; the secondary's replica is promoted; the surviving node carries on.

Two PostgreSQL clusters with real streaming replication stand for the primary
instance and its cross-region read replica, and two `python -m livebeats serve`
nodes for the two regions' tasks. Each node is given both hosts, its own
region's first, exactly as the app stack does (DB_HOST). Under a steady write
load on the primary region's node, the primary cluster and that node are
SIGKILLed; the standby is promoted (`pg_ctl promote`, the local stand-in for
`make failover`'s RDS promotion). Then the secondary's node, with no restart and
no new configuration, must find the new writer by itself: sign-in, uploads and
playback work, and its open pages are told to resync.

Printed figures (run with `-s` to see them):
- RTO: kill -> first write acknowledged by the surviving node. Here the
  promotion is immediate; on AWS add the time to notice and to promote.
- RPO: acknowledged writes missing on the promoted database, and the age of
  the oldest one at the kill. Asynchronous replication may lose writes not yet
  shipped; the test fails if a write acknowledged before the standby's last
  replayed WAL position is missing (that would be a bug, not replication lag).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from mp3gen import mp3_bytes
from support import AppServer, Browser, receive, run_cli

from .replication import ReplicatedPair, lsn

SECRET = "failover-secret-key-base-0123456789abcdef0123456789"
LOAD_WRITERS = 2
LOAD_SECONDS_BEFORE_KILL = 2.0
CSRF = re.compile(r'data-csrf="([^"]+)"')

pytestmark = pytest.mark.timeout(180)


@dataclass
class Acknowledged:
    username: str
    at: float
    wal_after: int | None
    """The primary's WAL position read after the acknowledgement: the commit is at or before it."""


def node_env(pair: ReplicatedPair, *, region: str, own_first: bool, storage: Path) -> dict[str, str]:
    primary, standby = f"127.0.0.1:{pair.primary.port}", f"127.0.0.1:{pair.standby.port}"
    hosts = [primary, standby] if own_first else [standby, primary]
    return {
        "DB_HOST": ",".join(hosts),
        "DB_NAME": "livebeats",
        "DB_USERNAME": "postgres",
        "DB_SSLMODE": "disable",
        "SECRET_KEY_BASE": SECRET,
        "APP_ENV": "development",
        "DEV_SIGNIN": "true",
        "GITHUB_CLIENT_ID": "placeholder",
        "GITHUB_CLIENT_SECRET": "placeholder",
        "STORAGE_DIR": str(storage),
        "AWS_REGION": region,
        "PRIMARY_REGION": "eu-west-2",
    }


async def dev_sign_in(client: httpx.AsyncClient, username: str) -> bool:
    """One write (the user row) through the app: True when acknowledged (303 to the profile)."""
    client.cookies.clear()
    page = await client.get("/signin")
    csrf = CSRF.search(page.text)
    if page.status_code != 200 or csrf is None:
        return False
    response = await client.post("/dev/signin", data={"username": username, "csrf_token": csrf.group(1)})
    return response.status_code == 303 and response.headers.get("location") == f"/{username}"


async def steady_load(
    server: AppServer, primary_dsn: str, writer: int, acknowledged: list[Acknowledged], stop: asyncio.Event
) -> None:
    """Sign in new users one after another; record each acknowledgement and the WAL position after it."""
    position = await asyncpg.connect(primary_dsn)
    async with httpx.AsyncClient(base_url=server.url, timeout=2) as client:
        for n in itertools.count():
            if stop.is_set():
                break
            username = f"load{writer}x{n}"
            try:
                ok = await dev_sign_in(client, username)
            except httpx.HTTPError:
                ok = False
            if not ok:
                await asyncio.sleep(0.05)
                continue
            at = time.monotonic()
            try:
                wal_after = lsn(await position.fetchval("SELECT pg_current_wal_lsn()::text", timeout=1))
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                wal_after = None
            acknowledged.append(Acknowledged(username, at, wal_after))
    position.terminate()


async def first_write(server: AppServer, since: float) -> float:
    """Seconds from `since` to the first sign-in (a write) the server acknowledges."""
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        for n in itertools.count():
            try:
                if await dev_sign_in(client, f"probe{n}"):
                    return time.monotonic() - since
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def replayed_position(standby_dsn: str) -> int:
    """The standby's last replayed WAL position, once it has replayed everything it received."""
    connection = await asyncpg.connect(standby_dsn)
    try:
        while True:
            received, replayed = await connection.fetchrow(
                "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text"
            )
            if received is None or lsn(replayed) >= lsn(received):
                return lsn(replayed)
            await asyncio.sleep(0.01)
    finally:
        await connection.close()


@pytest.mark.parametrize("loss", ["killed", "silent"])
async def test_surviving_region_takes_over_after_the_primary_is_lost(pair: ReplicatedPair, tmp_path: Path, loss: str):
    """killed: the primary's processes are SIGKILLed (connections refused at once);
    silent: they are SIGSTOPped (connections hang, as in a network partition)."""
    storage = tmp_path / "songs"
    storage.mkdir()
    primary_env = node_env(pair, region="eu-west-2", own_first=True, storage=storage)
    # A small pool, all of it open to the primary before the loss: each pooled
    # connection must be given up by itself, not only new ones made elsewhere.
    secondary_env = {**node_env(pair, region="us-west-2", own_first=False, storage=storage), "POOL_SIZE": "2"}
    migrated = run_cli("migrate", secondary_env)
    assert migrated.returncode == 0, migrated.stderr

    lost = AppServer(primary_env, tmp_path / "primary-node.log")
    survivor = AppServer(secondary_env, tmp_path / "secondary-node.log")
    lost.start()
    survivor.start()
    browsers: list[Browser] = []
    try:
        # Before: the owner signs in on the primary region's node and uploads a song;
        # the secondary's node (connected through its read replica to the writer) serves the same data.
        owner = Browser(lost)
        browsers.append(owner)
        await owner.sign_in("owner")
        [before_song] = await owner.add_songs([("Before - Band.mp3", mp3_bytes(30))])
        owner_there = Browser(survivor)
        browsers.append(owner_there)
        await owner_there.sign_in("owner")
        assert owner_there.user_id == owner.user_id

        async with owner_there.live(owner.user_id) as open_page:
            await receive(open_page, "state")
            acknowledged: list[Acknowledged] = []
            stop = asyncio.Event()
            load = [asyncio.create_task(steady_load(lost, pair.primary.dsn, n, acknowledged, stop)) for n in range(LOAD_WRITERS)]
            await asyncio.gather(*(owner_there.page(f"/{owner.username}") for _ in range(6)))
            await asyncio.sleep(LOAD_SECONDS_BEFORE_KILL)
            assert acknowledged, "the write load was acknowledged before the kill"

            # The region is lost: its database and its node die without a word.
            pair.primary.kill() if loss == "killed" else pair.primary.silence()
            lost.process.kill()
            killed_at = time.monotonic()
            stop.set()
            probing = asyncio.create_task(first_write(survivor, killed_at))
            await asyncio.gather(*load)

            replayed = await replayed_position(pair.standby.dsn)
            pair.standby.promote()
            promoted_after = time.monotonic() - killed_at
            rto = await asyncio.wait_for(probing, 60)

            # The open page was told to resync (a fresh "state") once the node listened on the new writer.
            await receive(open_page, "state", timeout=30)

            # Sign-in, upload and playback, on the promoted database, through the surviving node.
            again = Browser(survivor)
            browsers.append(again)
            await again.sign_in("owner")
            assert again.user_id == owner.user_id, "the owner's account came across"
            after_data = mp3_bytes(30)
            [after_song] = await again.add_songs([("After - Band.mp3", after_data)])
            await open_page.send(json.dumps({"type": "play", "song_id": after_song}))
            playing = await receive(open_page, "playback", lambda m: m["song"]["id"] == after_song, timeout=10)
            assert playing["song"]["status"] == "playing"
            audio = await again.http.get(playing["song"]["url"])
            assert audio.status_code == 200 and audio.content == after_data
            await open_page.send(json.dumps({"type": "play", "song_id": before_song}))
            await receive(open_page, "playback", lambda m: m["song"]["id"] == before_song, timeout=10)

        promoted = await asyncpg.connect(pair.standby.dsn)
        try:
            present = {row["username"] for row in await promoted.fetch("SELECT username FROM users")}
            read_only = await promoted.fetchval("SELECT pg_is_in_recovery()")
        finally:
            await promoted.close()
        assert not read_only
        missing = [write for write in acknowledged if write.username not in present]
        lost_below_replayed = [w.username for w in missing if w.wal_after is not None and w.wal_after <= replayed]
        rpo_seconds = killed_at - min(w.at for w in missing) if missing else 0.0
        print(
            f"\nregional failover, primary {loss}: RTO {rto:.2f} s (kill -> first acknowledged write on the surviving node; "
            f"promotion done {promoted_after:.2f} s after the kill); "
            f"RPO {len(missing)} of {len(acknowledged)} acknowledged writes missing "
            f"({rpo_seconds:.3f} s of writes before the kill)"
        )
        assert not lost_below_replayed, (
            f"acknowledged writes at or before the replayed WAL position are missing: {lost_below_replayed}"
        )
    finally:
        for browser in browsers:
            await browser.close()
        lost.stop()
        survivor.stop()
