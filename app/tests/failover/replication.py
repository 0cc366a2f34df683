"""Two local PostgreSQL clusters with real streaming replication: the two regions' databases.

The primary is a fresh cluster; the standby is a `pg_basebackup -R` copy of it
that streams its WAL asynchronously, as an RDS cross-region read replica does.
`kill` takes the primary down the way a lost region does (SIGKILL to every
process of the cluster, no shutdown checkpoint, nothing more sent), and
`promote` is `pg_ctl promote`, the local stand-in for RDS's
promote-read-replica.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from support import free_port

from livebeats.devdb import SUPERUSER, find_postgres_bin_dir

DATABASE = "livebeats"


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else command


def _run(*command: str) -> None:
    result = subprocess.run(_as_owner([str(find_postgres_bin_dir() / command[0]), *command[1:]]), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")


def lsn(text: str) -> int:
    """'16/B374D848' -> a comparable integer."""
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass
class Cluster:
    data_dir: Path
    port: int

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        # synchronous_commit stays on (RDS's default): a commit is acknowledged
        # once local, and reaches the standby asynchronously, as cross-region.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.data_dir.parent} "
            "-c fsync=off -c max_connections=100 -c wal_level=replica -c max_wal_senders=4 -c hot_standby=on"
        )
        _run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir.parent / f"{self.port}.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def kill(self) -> None:
        """SIGKILL the postmaster and every child: a region whose machines are gone (connections refused)."""
        for pid in self._freeze():
            _signal(pid, signal.SIGKILL)

    def silence(self) -> None:
        """SIGSTOP every process: a region gone silent (connections open, nothing answers), as a network partition."""
        self._silenced = self._freeze()

    def _freeze(self) -> list[int]:
        """Every process of the cluster, stopped: the postmaster first, so it forks nothing meanwhile."""
        postmaster = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        _signal(postmaster, signal.SIGSTOP)
        children = [pid for pid in _pids() if _parent(pid) == postmaster]
        for pid in children:
            _signal(pid, signal.SIGSTOP)
        return [*children, postmaster]

    def promote(self) -> None:
        _run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "promote")

    def stop(self) -> None:
        for pid in getattr(self, "_silenced", []):
            _signal(pid, signal.SIGKILL)
        subprocess.run(
            _as_owner([str(find_postgres_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )


def _signal(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


class ReplicatedPair:
    """A primary and a streaming standby, in one temporary directory removed on close."""

    def __init__(self) -> None:
        self.base_dir = Path(tempfile.mkdtemp(prefix="livebeats-failover-"))
        if os.geteuid() == 0:
            shutil.chown(self.base_dir, user=SUPERUSER, group=SUPERUSER)
        self.primary = Cluster(self.base_dir / "primary" / "data", free_port())
        self.standby = Cluster(self.base_dir / "standby" / "data", free_port())

    def start(self) -> None:
        for cluster in (self.primary, self.standby):
            cluster.data_dir.parent.mkdir()
            if os.geteuid() == 0:
                shutil.chown(cluster.data_dir.parent, user=SUPERUSER, group=SUPERUSER)
        _run(
            "initdb",
            "-D",
            str(self.primary.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.primary.start()
        _run("createdb", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", SUPERUSER, DATABASE)
        # -R writes primary_conninfo and standby.signal: the copy starts as a streaming standby.
        _run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            SUPERUSER,
            "-D",
            str(self.standby.data_dir),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "--no-sync",
        )
        self.standby.start()

    def close(self) -> None:
        for cluster in (self.primary, self.standby):
            cluster.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)
