"""``python -m emulator`` as a user runs it: port from the environment, stops on SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

from tests.emulator.launch import REPO, free_port


def test_port_from_environment_and_clean_stop_on_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator"],
        cwd=REPO,
        env={**os.environ, "EMULATOR_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == (f"AWS emulator ready on http://127.0.0.1:{port} (Ctrl-C stops it)")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/") as response:
            assert response.status == 200
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
