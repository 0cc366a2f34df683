"""The one typed configuration object, read from the environment once at start.

Every knob is described and defaulted here. A missing or malformed value stops
start-up with one line naming the setting and what is allowed
(see `describe_validation_error`), never with a traceback.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

PLACEHOLDER_VALUES = frozenset({"", "placeholder", "changeme"})
"""Values the infrastructure (or a copied example) puts in secrets before a human does."""

MIN_SECRET_KEY_LENGTH = 32


def is_placeholder(value: str | None) -> bool:
    return value is None or value.strip().lower() in PLACEHOLDER_VALUES


class Settings(BaseSettings):
    """Environment configuration; field names map to upper-case variables."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True, env_ignore_empty=True)

    app_env: Literal["development", "production"] = Field(
        "production",
        description="`development` relaxes the secret-key rule and allows DEV_SIGNIN.",
    )
    database_url: str | None = Field(None, description="postgres://user:pw@host:port/db; wins over the DB_* parts.")
    db_host: str | None = Field(
        None,
        description="Database host, used when DATABASE_URL is unset; or a comma-separated list of host[:port] "
        "(the primary and its cross-region replica, own region first): the app connects to the one that "
        "accepts writes, and finds the new writer by itself after a failover.",
    )
    db_port: int = Field(5432, ge=1, le=65535, description="Database port.")
    db_name: str = Field("livebeats", description="Database name.")
    db_username: str | None = Field(None, description="Database user (local runs; deployed tasks use DB_SECRET_ARN).")
    db_password: str | None = Field(None, description="Database password (local runs; deployed tasks use DB_SECRET_ARN).")
    db_secret_arn: str | None = Field(
        None,
        description='Secrets Manager secret holding JSON {"username", "password"}; read when connecting, '
        "re-read when the database refuses it, so a password change needs no restart. Used with DB_HOST instead of "
        "DB_USERNAME/DB_PASSWORD (not with DATABASE_URL); the task role needs secretsmanager:GetSecretValue on it.",
    )
    db_secret_region: str | None = Field(None, description="Region of DB_SECRET_ARN (default: the region in the ARN).")
    db_sslmode: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] | None = Field(
        None,
        description="Database TLS, as libpq's sslmode: disable, prefer (TLS if offered, unverified), require (TLS, "
        "unverified), verify-ca (the CA), verify-full (the CA and the host name). Default: verify-full with "
        "APP_ENV=production, prefer in development.",
    )
    db_ssl_root_cert: Path | None = Field(
        None,
        description="CA bundle verify-ca/verify-full trust (the image sets RDS's global bundle, fetched when it is "
        "built; unset: the system's CAs).",
    )
    pool_size: int = Field(10, ge=1, le=200, description="Connections in this process's pool.")

    secret_key_base: str = Field(description="Signs session cookies and file tokens; 32+ random characters outside development.")
    github_client_id: str = Field(
        "", description='GitHub OAuth app client id; empty, `placeholder` or `changeme` shows "sign-in is not configured yet".'
    )
    github_client_secret: str = Field("", description="GitHub OAuth app client secret.")
    github_base_url: str = Field(
        "https://github.com", description="Where /login/oauth/* lives (GitHub Enterprise, or a fake server in tests)."
    )
    github_api_url: str = Field("https://api.github.com", description="Where /user and /user/emails live.")

    app_hostname: str | None = Field(None, description="Public host[:port]; WebSocket Origin must match it (ignoring case).")
    host: str = Field("0.0.0.0", description="Address to listen on.")
    port: int = Field(4000, ge=1, le=65535, description="HTTP port to listen on.")
    secure_cookies: bool = Field(
        False, description="The site is served over HTTPS: Secure cookie, HSTS, https:// OAuth callback."
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Comma-separated addresses or CIDR networks of the load balancer; only their "
        "X-Forwarded-For/-Proto headers are believed.",
    )
    aws_region: str = Field("local", description="Region this node runs in, shown next to the ping.")
    primary_region: str | None = Field(None, description="Region holding the primary database.")

    storage_dir: Path = Field(Path("uploads"), description="Local song directory, used when SONGS_BUCKET is unset.")
    songs_bucket: str | None = Field(None, description="S3 bucket for songs; set to store songs in S3.")
    songs_prefix: str = Field("songs/", description="Key prefix for songs inside SONGS_BUCKET.")
    songs_bucket_region: str | None = Field(None, description="Region of SONGS_BUCKET (default: the SDK's region).")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (tests, local emulators).")

    admin_usernames: str = Field("", description="Comma-separated usernames whose songs the cleaner keeps.")
    dev_signin: bool = Field(False, description="Offer a sign-in form without GitHub; refused with APP_ENV=production or on ECS.")
    public_profiles: bool = Field(
        False,
        description="Visitors who are not signed in may open a profile page and listen along (live, without controls, "
        "not shown as listeners); off: every page but sign-in asks them to sign in.",
    )

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        for item in self.forwarded_allow_ips.split(","):
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"FORWARDED_ALLOW_IPS: {item.strip()!r} is not an IP address or CIDR network "
                    "(list the load balancer's addresses, e.g. 10.0.0.0/16)"
                ) from None
        if self.database_url is None and self.db_host is None:
            raise ValueError(
                "DATABASE_URL: set it (postgres://user:pw@host:port/db) or set DB_HOST, DB_NAME "
                "and either DB_SECRET_ARN or DB_USERNAME and DB_PASSWORD"
            )
        if self.database_url is not None:
            try:
                url = make_url(self.database_url)
            except Exception as error:
                raise ValueError("DATABASE_URL: not a URL; expected postgres://user:pw@host:port/db") from error
            if url.get_backend_name() not in {"postgres", "postgresql"} or not url.host:
                raise ValueError("DATABASE_URL: must be a postgres:// or postgresql:// URL with a host")
            if url.query:
                raise ValueError(
                    f"DATABASE_URL: query parameters are not read (got {', '.join(sorted(url.query))}); "
                    "set TLS with DB_SSLMODE and DB_SSL_ROOT_CERT"
                )
        if self.db_secret_arn is not None and (
            self.database_url is not None or self.db_username is not None or self.db_password is not None
        ):
            raise ValueError(
                "DB_SECRET_ARN: the secret supplies the user and password; use it with DB_HOST/DB_PORT/DB_NAME, "
                "without DATABASE_URL, DB_USERNAME or DB_PASSWORD"
            )
        if self.app_env != "development" and (
            is_placeholder(self.secret_key_base) or len(self.secret_key_base) < MIN_SECRET_KEY_LENGTH
        ):
            raise ValueError(
                f"SECRET_KEY_BASE: must be at least {MIN_SECRET_KEY_LENGTH} random characters "
                "outside development (got a placeholder or a short value)"
            )
        if self.dev_signin and (self.app_env == "production" or running_on_ecs()):
            raise ValueError(
                "DEV_SIGNIN: must be false in a deployed configuration "
                "(APP_ENV=production or running on ECS); it is only for local development"
            )
        return self

    @cached_property
    def database(self) -> URL:
        """Where to connect, and as whom unless DB_SECRET_ARN names a secret: DATABASE_URL or the DB_* parts."""
        if self.database_url is not None:
            return make_url(self.database_url).set(drivername="postgresql")
        return URL.create(
            "postgresql",
            username=self.db_username,
            password=self.db_password,
            host=self.db_host,
            port=self.db_port,
            database=self.db_name,
        )

    @property
    def database_sslmode(self) -> str:
        """DB_SSLMODE, or its default: verified TLS when deployed, TLS if offered on a development machine."""
        if self.db_sslmode is not None:
            return self.db_sslmode
        return "verify-full" if self.app_env == "production" else "prefer"

    @property
    def github_configured(self) -> bool:
        return not (is_placeholder(self.github_client_id) or is_placeholder(self.github_client_secret))

    @property
    def admin_username_set(self) -> frozenset[str]:
        return frozenset(name.strip().lower() for name in self.admin_usernames.split(",") if name.strip())


def running_on_ecs() -> bool:
    return bool(os.environ.get("ECS_CONTAINER_METADATA_URI_V4"))


def describe_validation_error(error: ValidationError) -> str:
    """One line for stderr: every problem, each naming its variable."""
    problems = []
    for item in error.errors():
        location = "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        if location:
            if item["type"] == "missing":
                field = Settings.model_fields.get(location.lower())
                message = f"is required but not set ({field.description})" if field else "is required but not set"
            problems.append(f"{location}: {message}")
        else:
            problems.append(message)
    return "Configuration error: " + "; ".join(problems)


def load_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # values come from the environment
