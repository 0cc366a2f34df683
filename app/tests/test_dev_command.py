"""`python -m livebeats dev`: a throwaway cluster, development sign-in, and a clean exit."""

from __future__ import annotations

import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from support import APP_DIR, cli_command, cli_environment, free_port


def test_dev_runs_on_embedded_defaults_and_cleans_up():
    port = free_port()
    scratch = Path(tempfile.mkdtemp(prefix="livebeats-devtest-"))
    scratch.chmod(0o755)
    environment = cli_environment({"PORT": str(port), "TMPDIR": str(scratch)})
    for name in ("DATABASE_URL", "SECRET_KEY_BASE", "STORAGE_DIR", "APP_ENV", "DEV_SIGNIN", "DB_HOST"):
        environment.pop(name, None)
    process = subprocess.Popen(cli_command("dev"), cwd=APP_DIR, env=environment, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/signin", timeout=1)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200
        assert "Development sign-in" in page.text
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            csrf = re.search(r'data-csrf="([^"]+)"', client.get("/signin").text).group(1)
            response = client.post("/dev/signin", data={"username": "devuser", "csrf_token": csrf})
            assert response.headers["location"] == "/devuser"
            assert "devuser&#39;s beats" in client.get("/devuser").text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert list(scratch.iterdir()) == [], "the cluster and song directory are removed"
    scratch.rmdir()
