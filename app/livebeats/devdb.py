"""A throwaway PostgreSQL cluster for local runs and tests.

`python -m livebeats dev` and the test suites need a real PostgreSQL (the app
relies on row locks, advisory locks and LISTEN/NOTIFY), but nobody should have
to install or configure one. This module runs `initdb` + `pg_ctl` in a
temporary directory, listening only on 127.0.0.1 on a free port, and removes
everything on exit. It is the only place that knows how to do that.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path


class ThrowawayPostgresError(RuntimeError):
    """The throwaway cluster could not be created or started."""


DATABASE_NAME = "livebeats"
SUPERUSER = "postgres"
# Debian and Ubuntu install each major version side by side under this directory (postgresql-common).
DEBIAN_POSTGRES_ROOT = Path("/usr/lib/postgresql")


def _version_key(directory: Path) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in directory.name.split("."))


def find_postgres_bin_dir(environ: Mapping[str, str] = os.environ, *, debian_root: Path = DEBIAN_POSTGRES_ROOT) -> Path:
    """Where initdb and pg_ctl live, whatever PostgreSQL version the machine has.

    POSTGRES_BIN_DIR when set; else the newest version in Debian's layout
    (/usr/lib/postgresql/<version>/bin); else the directory of the ``initdb`` on
    PATH (Homebrew, Fedora, a source build). Every local cluster (dev server,
    tests, benchmarks) starts from here, so no other code names a version.
    """
    if environ.get("POSTGRES_BIN_DIR"):
        return Path(environ["POSTGRES_BIN_DIR"])
    installed = sorted(
        (bin_dir.parent for bin_dir in debian_root.glob("*/bin") if (bin_dir / "initdb").exists()), key=_version_key
    )
    if installed:
        return installed[-1] / "bin"
    on_path = shutil.which("initdb", path=environ.get("PATH"))
    if on_path:
        return Path(on_path).parent
    raise ThrowawayPostgresError(
        f"POSTGRES_BIN_DIR: no PostgreSQL found (no initdb under {debian_root}/*/bin nor on PATH); "
        "install PostgreSQL, any version, or set POSTGRES_BIN_DIR to the directory holding initdb and pg_ctl"
    )


def __getattr__(name: str) -> Path:
    """``POSTGRES_BIN_DIR``, looked up when first used: importing this module needs no PostgreSQL."""
    if name == "POSTGRES_BIN_DIR":
        return find_postgres_bin_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_cluster_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root, so root hands the binaries to `postgres`."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *command]
    return command


def _run(command: list[str], log_file: Path | None = None) -> None:
    result = subprocess.run(_as_cluster_owner(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log = log_file.read_text() if log_file and log_file.exists() else ""
        raise ThrowawayPostgresError(
            f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}\n{log}"
        )


def _owned_by_cluster(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)  # PostgreSQL refuses a private key others can read
    if os.geteuid() == 0:
        shutil.chown(path, user=SUPERUSER, group=SUPERUSER)
    return path


@contextlib.contextmanager
def throwaway_postgres(*, database: str = DATABASE_NAME, tls: tuple[bytes, bytes] | None = None) -> Iterator[str]:
    """Start a private PostgreSQL cluster and yield its DSN.

    The DSN has the form ``postgresql://postgres@127.0.0.1:<port>/<database>``
    (trust authentication, reachable only from this machine). The cluster and
    its files are removed when the context exits, even after an error.

    tls: (certificate chain, private key), both PEM, to serve TLS with
    (``ssl=on``), as RDS does; the tests of verified database TLS need it.
    """
    base_dir = Path(tempfile.mkdtemp(prefix="livebeats-pg-"))
    data_dir = base_dir / "data"
    log_file = base_dir / "postgres.log"
    if os.geteuid() == 0:
        shutil.chown(base_dir, user=SUPERUSER, group=SUPERUSER)
    port = _free_port()
    tls_options = ""
    if tls is not None:
        certificate = _owned_by_cluster(base_dir / "server.crt", tls[0])
        key = _owned_by_cluster(base_dir / "server.key", tls[1])
        tls_options = f" -c ssl=on -c ssl_cert_file={certificate} -c ssl_key_file={key}"
    bin_dir = find_postgres_bin_dir()
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        server_options = (
            f"-c listen_addresses=127.0.0.1 -p {port} "
            f"-c unix_socket_directories={base_dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            f"{tls_options}"
        )
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-l",
                str(log_file),
                "-o",
                server_options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            log_file,
        )
        started = True
        _run(
            [
                str(bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                SUPERUSER,
                database,
            ]
        )
        yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"
    finally:
        if started:
            subprocess.run(
                _as_cluster_owner(
                    [
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(data_dir),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ]
                ),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(base_dir, ignore_errors=True)
