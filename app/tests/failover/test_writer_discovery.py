"""DB_HOST with several hosts: a bad entry stops start-up naming DB_HOST; read-only hosts are never written to."""

from __future__ import annotations

from support import run_cli

from .replication import ReplicatedPair
from .test_regional_failover import SECRET

LOCAL = {"DB_NAME": "livebeats", "DB_USERNAME": "postgres", "DB_SSLMODE": "disable", "SECRET_KEY_BASE": SECRET}


def test_a_malformed_host_entry_is_refused_in_one_line_naming_db_host():
    result = run_cli("migrate", {**LOCAL, "DB_HOST": "db-a.example:5432,db-b.example:99999"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Configuration error: DB_HOST: 'db-b.example:99999' is not host or host:port (port 1-65535); "
        "several hosts are comma-separated, e.g. db-a.example:5432,db-b.example:5432"
    )


def test_only_read_only_hosts_means_no_writer_and_nothing_written(pair: ReplicatedPair):
    """Both entries are the standby (in recovery): migrate must refuse rather than run on a replica."""
    standby = f"127.0.0.1:{pair.standby.port}"
    result = run_cli("migrate", {**LOCAL, "DB_HOST": f"{standby},{standby}"})
    assert result.returncode == 1
    assert f"no DB_HOST accepts writes ({standby} is read-only; {standby} is read-only)" in result.stderr
    writer = f"127.0.0.1:{pair.primary.port}"
    assert run_cli("migrate", {**LOCAL, "DB_HOST": f"{standby},{writer}"}).returncode == 0, "the writer is found second"
