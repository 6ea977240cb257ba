"""``proctor serve`` itself: defaults, no config, TLS, ``proctor db migrate`` and ``admin-key``."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from proctor.cli.main import cli
from proctor.cli.serve import serve
from tests.server.gateway import free_port, start_server, write_config

pytestmark = pytest.mark.slow


def test_the_defaults_are_loopback_8700() -> None:
    defaults = {param.name: param.default for param in serve.params}
    assert defaults["host"] == "127.0.0.1"
    assert defaults["port"] == 8700


def test_without_a_config_it_serves_the_embedded_file_and_is_not_ready(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "proctor.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "PROCTOR_DATABASE_URL"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503
        assert "no policies" in ready.json()["error_description"]
        assert httpx.post(f"{url}/v1/check", json={"action": "read:x"}).status_code == 401
        assert (tmp_path / "proctor.db").is_file()
    finally:
        process.terminate()
        process.wait(20)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_with_a_certificate_and_key(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    cert, key = _self_signed(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proctor.cli",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answered = None
        for _ in range(200):
            try:
                answered = httpx.get(
                    f"https://127.0.0.1:{port}/healthz",
                    verify=ssl.create_default_context(cafile=str(cert)),
                )
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert answered is not None
        assert answered.json() == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(20)


def test_db_migrate_on_sqlite_and_admin_key(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "migrate", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["database"] == "sqlite"
    made = json.loads(runner.invoke(cli, ["admin-key", "--id", "pep", "--scope", "check"]).output)
    entry = made["config_entry"]
    assert entry["sha256"] == hashlib.sha256(made["key"].encode()).hexdigest()
    assert entry["scopes"] == ["check"]


def test_the_gateway_serves_postgresql_from_the_environment(
    tmp_path: Path, postgres_url: str
) -> None:
    config = write_config(tmp_path)
    os.environ["PROCTOR_DATABASE_URL"] = postgres_url
    try:
        server = start_server(config)
    finally:
        del os.environ["PROCTOR_DATABASE_URL"]
    try:
        answer = httpx.post(
            f"{server.url}/v1/check",
            json={"action": "read:orders", "agent": "support-bot"},
            headers={"Authorization": "Bearer pa_test-pep-key-0123456789"},
        ).json()
        assert answer["effect"] == "allow"
    finally:
        server.stop()
    assert not (tmp_path / "proctor.db").exists()
