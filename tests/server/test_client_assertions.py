"""A signed client assertion (RFC 7523) is single-use across gateway processes, replicas
and restarts: the used ``jti`` lives in the shared state store, not in one process."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from proctor.cli.main import cli
from proctor.identity.exchange import ACCESS_TOKEN_TYPE, GRANT_TYPE, JWT_TOKEN_TYPE
from tests.server.gateway import start_server, write_config

pytestmark = pytest.mark.slow

AGENT = "signer-bot"
KEY = Ed25519PrivateKey.generate()


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _set_up(tmp_path: Path, *db: str) -> tuple[Path, str]:
    """The config, an agent registered with its public key, and a user token."""
    config = write_config(tmp_path)
    public = {**OKPAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1"}
    (tmp_path / "signer.jwk").write_text(json.dumps(public))
    created = _cli(
        "agent", "create", AGENT, "--role", "support", "--tier", "verified",
        "--public-key", str(tmp_path / "signer.jwk"), "--no-api-key",
        "--config", str(config), *db,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    user = _cli("token", "user", "--sub", "alice", "--scope", "read:*", "--config", str(config))
    assert user.exit_code == 0, user.output
    return config, user.stdout.strip()


def _assertion() -> str:
    now = int(time.time())
    claims = {
        "iss": AGENT,
        "sub": AGENT,
        "aud": "urn:proctor",
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, KEY, "EdDSA", headers={"kid": "k1"})


def _post(url: str, user_token: str, assertion: str) -> httpx.Response:
    form = {
        "grant_type": GRANT_TYPE,
        "subject_token": user_token,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "actor_token": assertion,
        "actor_token_type": JWT_TOKEN_TYPE,
    }
    return httpx.post(f"{url}/oauth2/token", data=form, timeout=20.0)


def _refused_as_used(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["code"] == "token_revoked"
    assert "was used already" in body["error_description"]


def _cli_exchange(config: Path, user_token: str, assertion: str, *db: str) -> Result:
    return _cli(
        "token", "exchange", "--subject-token", user_token, "--actor-token", assertion,
        "--config", str(config), *db,
    )  # fmt: skip


def test_one_sqlite_file_a_gateway_and_the_cli_and_a_restart(tmp_path: Path) -> None:
    config, user_token = _set_up(tmp_path)
    first, second = _assertion(), _assertion()
    server = start_server(config)
    try:
        assert _post(server.url, user_token, first).status_code == 200
        replayed = _cli_exchange(config, user_token, first)  # another process, same file
        assert replayed.exit_code == 1
        assert json.loads(replayed.stdout)["code"] == "token_revoked"
        used_by_cli = _cli_exchange(config, user_token, second)
        assert used_by_cli.exit_code == 0, used_by_cli.output
        _refused_as_used(_post(server.url, user_token, second))
    finally:
        server.stop()
    restarted = start_server(config)
    try:
        for assertion in (first, second):
            _refused_as_used(_post(restarted.url, user_token, assertion))
        assert _post(restarted.url, user_token, _assertion()).status_code == 200
    finally:
        restarted.stop()


def test_two_postgres_replicas_accept_one_assertion_once(tmp_path: Path, postgres_url: str) -> None:
    migrated = _cli("db", "migrate", "--db", postgres_url)
    assert migrated.exit_code == 0, migrated.output
    config, user_token = _set_up(tmp_path, "--db", postgres_url)
    assertion = _assertion()
    replicas = [start_server(config, db=postgres_url) for _ in range(2)]
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def post(url: str) -> None:
        response = _post(url, user_token, assertion)
        with lock:
            answers.append(response)

    try:
        workers = [
            threading.Thread(target=post, args=(replica.url,))
            for replica in replicas
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert sorted(answer.status_code for answer in answers) == [200] + [400] * 7
        for refused in (answer for answer in answers if answer.status_code != 200):
            _refused_as_used(refused)
        _refused_as_used(_post(replicas[1].url, user_token, assertion))
    finally:
        for replica in replicas:
            replica.stop()
    restarted = start_server(config, db=postgres_url)
    try:
        _refused_as_used(_post(restarted.url, user_token, assertion))
    finally:
        restarted.stop()
