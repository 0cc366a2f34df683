"""Start ``python -m emulator`` on a free port, as the tests and the deploy cycle need it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_emulator(log: Path, *, ga_interface_linger_seconds: float | None = None) -> Iterator[str]:
    """Run the emulator until the block ends; yields its URL. Output goes to ``log``.

    ``ga_interface_linger_seconds``: the emulator's ``--ga-interface-linger-seconds``
    (its own default if None).
    """
    port = free_port()
    linger = [] if ga_interface_linger_seconds is None else ["--ga-interface-linger-seconds", str(ga_interface_linger_seconds)]
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(port), *linger],
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while "ready on" not in log.read_text():
            assert process.poll() is None, f"emulator exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"emulator not ready: {log.read_text()}"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
