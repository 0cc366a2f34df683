"""Start-up configuration: one clear line for bad settings, placeholders, deployed guards."""

from __future__ import annotations

import httpx
import pytest
from support import run_cli

from livebeats.__main__ import main
from livebeats.app import create_app
from livebeats.settings import Settings

GOOD = {
    "DATABASE_URL": "postgres://app:pw@127.0.0.1:1/livebeats",
    "SECRET_KEY_BASE": "x" * 48,
    "APP_ENV": "production",
}
CLEARED = {name: "" for name in ("DB_HOST", "DEV_SIGNIN", "ECS_CONTAINER_METADATA_URI_V4", "PORT", "APP_HOSTNAME")}


def serve_with(env: dict[str, str]):
    return run_cli("serve", {**CLEARED, **env}, timeout=30)


@pytest.mark.parametrize(
    ("env", "named", "allowed"),
    [
        ({**GOOD, "SECRET_KEY_BASE": ""}, "SECRET_KEY_BASE", "required"),
        ({**GOOD, "SECRET_KEY_BASE": "placeholder"}, "SECRET_KEY_BASE", "at least 32"),
        ({**GOOD, "SECRET_KEY_BASE": "short"}, "SECRET_KEY_BASE", "at least 32"),
        ({**GOOD, "DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL", "postgres://"),
        ({**GOOD, "PORT": "eighty"}, "PORT", "integer"),
        ({**GOOD, "PORT": "70000"}, "PORT", "65535"),
        ({**GOOD, "DEV_SIGNIN": "true"}, "DEV_SIGNIN", "deployed"),
        (
            {
                **GOOD,
                "APP_ENV": "development",
                "DEV_SIGNIN": "true",
                "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/x",
            },
            "DEV_SIGNIN",
            "ECS",
        ),
        ({**GOOD, "APP_ENV": "staging"}, "APP_ENV", "development"),
        ({**GOOD, "FORWARDED_ALLOW_IPS": "*"}, "FORWARDED_ALLOW_IPS", "not an IP address or CIDR network"),
    ],
)
def test_bad_setting_stops_start_with_one_line(env, named, allowed, monkeypatch, capsys):
    for name, value in {**CLEARED, **env}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_info:
        main(["serve"])
    assert exit_info.value.code != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert named in lines[0] and allowed in lines[0]


def test_bad_setting_in_a_real_process_has_no_traceback():
    result = serve_with({**GOOD, "SECRET_KEY_BASE": "changeme"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SECRET_KEY_BASE: must be at least 32 random characters outside development "
        "(got a placeholder or a short value)"
    ]


def test_missing_database_settings_are_named():
    result = serve_with({"SECRET_KEY_BASE": "x" * 48, "DATABASE_URL": ""})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr and "DB_HOST" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_secret_is_named(monkeypatch):
    result = run_cli("migrate", {**CLEARED, "DATABASE_URL": GOOD["DATABASE_URL"], "SECRET_KEY_BASE": ""}, timeout=30)
    assert result.returncode != 0 and "SECRET_KEY_BASE" in result.stderr


def test_short_secret_is_allowed_in_development(monkeypatch):
    for name, value in {**CLEARED, **GOOD, "APP_ENV": "development", "SECRET_KEY_BASE": "dev"}.items():
        monkeypatch.setenv(name, value)
    assert Settings().secret_key_base == "dev"


def test_database_parts_keep_a_password_with_url_characters(monkeypatch):
    for name, value in {**CLEARED, "DATABASE_URL": "", "SECRET_KEY_BASE": "x" * 40}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DB_HOST", "db.internal")
    monkeypatch.setenv("DB_PORT", "6543")
    monkeypatch.setenv("DB_NAME", "beats")
    monkeypatch.setenv("DB_USERNAME", "app")
    monkeypatch.setenv("DB_PASSWORD", "p@ss/word")
    database = Settings().database
    assert (database.host, database.port, database.database) == ("db.internal", 6543, "beats")
    assert (database.username, database.password) == ("app", "p@ss/word")


@pytest.mark.parametrize("placeholder", ["placeholder", "", "changeme", "PLACEHOLDER"])
async def test_placeholder_github_credentials_say_not_configured(monkeypatch, placeholder):
    """Built without its lifespan and with an unreachable database: /signin needs neither."""
    for name, value in {**CLEARED, **GOOD, "GITHUB_CLIENT_ID": placeholder, "GITHUB_CLIENT_SECRET": "real-secret"}.items():
        monkeypatch.setenv(name, value)
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/signin")
    assert response.status_code == 200
    assert "Sign-in is not configured yet" in response.text
    assert 'href="/oauth/github"' not in response.text


async def test_dev_signin_route_absent_unless_enabled(monkeypatch):
    for name, value in {**CLEARED, **GOOD}.items():
        monkeypatch.setenv(name, value)
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        page = await client.get("/signin")
        assert "Development sign-in" not in page.text
        assert "/dev/signin" not in [getattr(route, "path", None) for route in app.routes]


def test_unreachable_database_stops_start_with_one_line():
    result = serve_with(GOOD)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Cannot start: the database cannot be reached ([Errno 111] Connect call failed ('127.0.0.1', 1)); check DATABASE_URL."
    ]
