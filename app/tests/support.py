"""Test helpers: the app as a real subprocess, and a scripted "browser" talking to it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from mp3gen import mp3_bytes
from websockets.asyncio.client import ClientConnection, connect

APP_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_command(command: str) -> list[str]:
    return [sys.executable, "-m", "livebeats", command]


def cli_environment(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env}


def run_cli(command: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(command),
        cwd=APP_DIR,
        env=cli_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class AppServer:
    """`python -m livebeats serve` in a subprocess: exactly what the container runs."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            cli_command("serve"),
            cwd=APP_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/signin", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"app did not start:\n{self.log_path.read_text()}")

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


CSRF_PATTERN = re.compile(r'data-csrf="([^"]+)"')
USER_ID_PATTERN = re.compile(r'data-user-id="(\d+)"')


class Browser:
    """One signed-in (or not) user agent: an HTTP cookie jar plus live sockets."""

    def __init__(self, server: AppServer) -> None:
        self.server = server
        self.http = httpx.AsyncClient(base_url=server.url, follow_redirects=False, timeout=30)
        self.csrf = ""
        self.user_id: int | None = None
        self.username: str | None = None

    async def close(self) -> None:
        await self.http.aclose()

    async def page(self, path: str) -> httpx.Response:
        response = await self.http.get(path)
        if match := CSRF_PATTERN.search(response.text):
            self.csrf = match.group(1)
        return response

    async def sign_in(self, username: str) -> Browser:
        await self.page("/signin")
        response = await self.http.post("/dev/signin", data={"username": username, "csrf_token": self.csrf})
        assert response.status_code == 303, response.text
        profile = await self.page(response.headers["location"])
        assert profile.status_code == 200, profile.text
        self.user_id = int(USER_ID_PATTERN.search(profile.text).group(1))
        self.username = username
        return self

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    async def upload(self, file_name: str, data: bytes, username: str | None = None) -> httpx.Response:
        return await self.http.post(
            f"/{username or self.username}/songs/uploads",
            params={"filename": file_name},
            content=data,
            headers={"X-CSRF-Token": self.csrf, "Content-Type": "audio/mpeg"},
        )

    async def save(self, songs: list[dict[str, Any]], username: str | None = None) -> httpx.Response:
        return await self.http.post(
            f"/{username or self.username}/songs",
            json={"songs": songs},
            headers={"X-CSRF-Token": self.csrf},
        )

    async def add_songs(self, files: list[tuple[str, bytes]]) -> list[int]:
        """Upload and save files in one batch; returns the new song ids."""
        pending = []
        for file_name, data in files:
            response = await self.upload(file_name, data)
            assert response.status_code == 200, response.text
            pending.append(response.json())
        response = await self.save(pending)
        assert response.status_code == 200, response.text
        return response.json()["song_ids"]

    def live(self, profile_id: int | None = None, origin: str | None = None, **headers: str) -> Any:
        query = f"?profile={profile_id}" if profile_id is not None else ""
        return connect(
            f"ws://127.0.0.1:{self.server.port}/live{query}",
            origin=origin or self.server.url,
            additional_headers={"Cookie": self.cookie_header(), **headers},
            open_timeout=10,
        )


async def receive(socket: ClientConnection, kind: str, predicate=lambda message: True, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of `kind` that satisfies `predicate`, skipping others."""

    async def wait() -> dict[str, Any]:
        while True:
            message = json.loads(await socket.recv())
            if message.get("type") == kind and predicate(message):
                return message

    return await asyncio.wait_for(wait(), timeout)


async def drain(socket: ClientConnection, seconds: float = 0.3) -> list[dict[str, Any]]:
    """Every message that arrives within `seconds`."""
    messages = []
    try:
        while True:
            messages.append(json.loads(await asyncio.wait_for(socket.recv(), seconds)))
    except TimeoutError:
        return messages


async def owner_with_songs(browsers, count: int = 2, seconds: int = 60, target: AppServer | None = None):
    """The user "owner", signed in (on `target`, else the main server), with `count` songs "Song <n> - Band"."""
    owner = await browsers("owner", target=target)
    song_ids = await owner.add_songs([(f"Song {index} - Band.mp3", mp3_bytes(seconds)) for index in range(count)])
    return owner, song_ids
