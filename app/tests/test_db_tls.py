"""Database TLS is verified: the CA and the host name, as with RDS's CA bundle in production.

asyncpg's default (`prefer`) accepts any certificate, so anyone on the path
could pose as the database. A throwaway PostgreSQL here serves TLS with a
certificate for 127.0.0.1 signed by a CA this test makes; the app runs through
its CLI (`migrate`, the container's first command, and `serve`).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.engine import make_url
from support import AppServer, Browser, run_cli

from livebeats.devdb import throwaway_postgres

SECRET = "tls-test-secret-key-base-0123456789abcdef0123456789"


class Authority:
    """A certificate authority of our own, standing in for RDS's."""

    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.certificate = (
            self._builder(subject, self.key.public_key())
            .issuer_name(subject)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    @staticmethod
    def _builder(subject: x509.Name, public_key) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue_server(self, ip: str) -> tuple[bytes, bytes]:
        """(certificate, key) PEM for a server known by this IP address only, as RDS names its endpoint."""
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            self._builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ip)]), key.public_key())
            .issuer_name(self.certificate.subject)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return certificate.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority("Test Root CA")


@pytest.fixture(scope="module")
def tls_database(authority: Authority) -> Iterator[str]:
    with throwaway_postgres(database="tls", tls=authority.issue_server("127.0.0.1")) as dsn:
        yield dsn


@pytest.fixture(scope="module")
def ca_files(authority: Authority, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("ca")
    files = {"right": directory / "right.pem", "wrong": directory / "wrong.pem"}
    files["right"].write_bytes(authority.pem())
    files["wrong"].write_bytes(Authority("Somebody Else's CA").pem())
    return files


def deployed_env(dsn: str, host: str, root_cert: Path, **extra: str) -> dict[str, str]:
    """Production settings (no DB_SSLMODE: its default is verify-full), the database given by its parts."""
    url = make_url(dsn)
    return {
        "APP_ENV": "production",
        "SECRET_KEY_BASE": SECRET,
        "DATABASE_URL": "",
        "DB_SSLMODE": "",
        "DB_HOST": host,
        "DB_PORT": str(url.port),
        "DB_NAME": url.database,
        "DB_USERNAME": url.username,
        "DB_PASSWORD": "",
        "DB_SSL_ROOT_CERT": str(root_cert),
        **extra,
    }


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


async def test_verify_full_with_the_right_ca_connects_over_tls(tls_database, ca_files, tmp_path):
    env = deployed_env(tls_database, "127.0.0.1", ca_files["right"])
    migrated = run_cli("migrate", env)
    assert migrated.returncode == 0, migrated.stderr
    server = AppServer(
        {**env, "APP_ENV": "development", "DB_SSLMODE": "verify-full", "DEV_SIGNIN": "true", "STORAGE_DIR": str(tmp_path)},
        tmp_path / "server.log",
    )
    server.start()
    browser = Browser(server)
    try:
        await browser.sign_in("secure")
        admin = await asyncpg.connect(tls_database, ssl="require")
        try:
            sessions = await admin.fetch(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                "WHERE a.datname = 'tls' AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'"
            )
        finally:
            await admin.close()
        assert sessions and all(row["ssl"] for row in sessions), sessions
    finally:
        await browser.close()
        server.stop()


def test_a_certificate_from_another_ca_is_refused(tls_database, ca_files):
    result = run_cli("migrate", deployed_env(tls_database, "127.0.0.1", ca_files["wrong"]))
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("Migration failed: DB_SSLMODE=verify-full: refused the certificate of the database at 127.0.0.1:")
    assert f"DB_SSL_ROOT_CERT={ca_files['wrong']}" in line


def test_a_certificate_for_another_host_name_is_refused(tls_database, ca_files):
    """The certificate names 127.0.0.1; reached as `localhost`, verify-full refuses it and verify-ca does not."""
    result = run_cli("migrate", deployed_env(tls_database, "localhost", ca_files["right"]))
    assert result.returncode == 1
    line = one_line(result)
    assert "DB_SSLMODE=verify-full" in line and "Hostname mismatch" in line and "name DB_HOST=localhost" in line
    chain_only = run_cli("migrate", deployed_env(tls_database, "localhost", ca_files["right"], DB_SSLMODE="verify-ca"))
    assert chain_only.returncode == 0, chain_only.stderr


def test_an_unreadable_ca_bundle_stops_start_with_one_line(tls_database, tmp_path):
    missing = tmp_path / "global-bundle.pem"
    result = run_cli("serve", deployed_env(tls_database, "127.0.0.1", missing))
    assert result.returncode == 2
    assert one_line(result).startswith(f"Configuration error: DB_SSL_ROOT_CERT: cannot load {missing}")


def test_production_default_refuses_a_database_without_tls(database_url, ca_files):
    result = run_cli("migrate", deployed_env(database_url, "127.0.0.1", ca_files["right"]))
    assert result.returncode == 1
    assert "DB_SSLMODE=verify-full" in one_line(result) and "does not offer TLS" in one_line(result)


def test_local_development_without_tls_still_works(database_url):
    result = run_cli(
        "migrate", {"DATABASE_URL": database_url, "SECRET_KEY_BASE": "dev", "APP_ENV": "development", "DB_SSLMODE": ""}
    )
    assert result.returncode == 0, result.stderr


def test_tls_in_the_database_url_is_refused_not_ignored(database_url):
    """libpq users write ?sslmode=verify-full; silently dropping it would connect unverified."""
    result = run_cli(
        "migrate", {"DATABASE_URL": f"{database_url}?sslmode=verify-full", "SECRET_KEY_BASE": "dev", "APP_ENV": "development"}
    )
    assert result.returncode == 2
    assert "DATABASE_URL: query parameters are not read (got sslmode)" in one_line(result) and "DB_SSLMODE" in one_line(result)
