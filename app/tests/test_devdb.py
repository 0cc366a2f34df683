"""The local PostgreSQL helpers find whatever PostgreSQL version the machine has."""

from __future__ import annotations

from pathlib import Path

import pytest

from livebeats.devdb import ThrowawayPostgresError, find_postgres_bin_dir


def _install(root: Path, *versions: str) -> Path:
    for version in versions:
        (root / version / "bin").mkdir(parents=True)
        (root / version / "bin" / "initdb").write_text("")
    return root


def test_the_newest_debian_version_wins_whatever_it_is(tmp_path: Path):
    root = _install(tmp_path / "postgresql", "9.6", "15", "17")
    (root / "18" / "bin").mkdir(parents=True)  # client-only: no initdb
    assert find_postgres_bin_dir({"PATH": ""}, debian_root=root) == root / "17" / "bin"


def test_postgres_bin_dir_overrides_the_search(tmp_path: Path):
    root = _install(tmp_path / "postgresql", "16")
    assert find_postgres_bin_dir({"POSTGRES_BIN_DIR": "/opt/pg/bin"}, debian_root=root) == Path("/opt/pg/bin")


def test_an_initdb_on_path_is_found_outside_debian_layouts(tmp_path: Path):
    bin_dir = tmp_path / "homebrew" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "initdb").write_text("")
    (bin_dir / "initdb").chmod(0o755)
    assert find_postgres_bin_dir({"PATH": str(bin_dir)}, debian_root=tmp_path / "none") == bin_dir


def test_no_postgresql_names_the_setting(tmp_path: Path):
    with pytest.raises(ThrowawayPostgresError, match="POSTGRES_BIN_DIR: no PostgreSQL found"):
        find_postgres_bin_dir({"PATH": ""}, debian_root=tmp_path / "none")


def test_this_machine_has_one():
    """The suites' throwaway clusters start from it (their conftest would fail first otherwise)."""
    assert (find_postgres_bin_dir() / "initdb").exists()
