"""`proctor agent` and `/v1/admin/agents` are one service: the same action through either
edge gives the same answer, the same refusal code and the same audit record."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from proctor.cli.main import cli
from proctor.cli.operator import operator
from proctor.config import load_config
from proctor.errors import ProctorError
from proctor.runtime import build_runtime
from proctor.server import create_app
from proctor.storage import open_audit_store
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import ADMIN_KEY, write_config

PUBLIC_JWK = {
    **OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate().public_key(), as_dict=True),
    "kid": "k1",
}
# what differs by nature between two runs of one action: ids, times, the chain, secrets' ids
VARYING = {"decision_id", "ts", "seq", "prev_hash", "hash"}


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _records(config: Path) -> list[dict[str, Any]]:
    store = open_audit_store(load_config(config).audit_location)
    try:
        return [r for r in store.tail(500) if r["kind"] in ("agent_change", "tier_change")]
    finally:
        store.close()


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in record.items() if key not in VARYING}
    kept["extra"] = {key: value for key, value in record["extra"].items() if key != "credential"}
    return kept


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[Path, TestClient]]:
    (tmp_path / "http").mkdir()
    config = write_config(tmp_path / "http")
    loaded = load_config(config)
    app = create_app(build_runtime(loaded, wait_for_audit=False), config=loaded)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(ADMIN_KEY))
        yield config, client


@pytest.fixture
def command_line(tmp_path: Path) -> Path:
    (tmp_path / "cli").mkdir()
    return write_config(tmp_path / "cli")


def _through_cli(config: Path) -> list[dict[str, Any]]:
    (config.parent / "signer.jwk").write_text(json.dumps(PUBLIC_JWK))
    at = ("--config", str(config))
    answers = [
        _cli(
            "agent", "create", "helper", "--role", "support", "--tier", "verified",
            "--owner", "ops", "--tag", "night", "--public-key", str(config.parent / "signer.jwk"),
            "--as", "root", *at,
        ),
        _cli("agent", "rotate", "helper", "--as", "root", *at),
        _cli(
            "agent", "set-tier", "helper", "trusted", "--as", "ops-lead", "--reason", "reviewed",
            *at,
        ),
        _cli("agent", "revoke", "helper", "--as", "root", *at),
    ]  # fmt: skip
    for answer in answers:
        assert answer.exit_code == 0, answer.output
    return [json.loads(answer.stdout) for answer in answers]


def _through_http(client: TestClient) -> list[dict[str, Any]]:
    body = {
        "id": "helper",
        "role": "support",
        "tier": "verified",
        "owner": "ops",
        "tags": ["night"],
        "public_key": PUBLIC_JWK,
    }
    answers = [
        client.post("/v1/admin/agents", json=body),
        client.post("/v1/admin/agents/helper/rotate"),
        client.post(
            "/v1/admin/agents/helper/tier",
            json={"tier": "trusted", "by": "ops-lead", "reason": "reviewed"},
        ),
        client.post("/v1/admin/agents/helper/revoke"),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
    return [answer.json() for answer in answers]


def test_each_agent_action_writes_the_same_record_through_either_edge(
    gateway: tuple[Path, TestClient], command_line: Path
) -> None:
    http_config, client = gateway
    by_http = _through_http(client)
    by_cli = _through_cli(command_line)
    client.close()
    http_records, cli_records = _records(http_config), _records(command_line)
    assert [r["action"] for r in cli_records] == [
        "agent:create",
        "agent:rotate",
        "agent:set-tier",
        "agent:revoke",
    ]
    assert len(http_records) == len(cli_records)
    for from_http, from_cli in zip(http_records, cli_records, strict=True):
        left, right = _comparable(from_http), _comparable(from_cli)
        for field in sorted(left.keys() | right.keys()):
            assert left.get(field) == right.get(field), (from_cli["action"], field)
        assert from_http["extra"]["credential"] == {"kind": "admin_key", "admin_key": "root"}
        assert from_cli["extra"]["credential"] == {"kind": "cli", "operator": operator()}
    created = cli_records[0]
    assert created["user"] == {"sub": "root", "claims": {}}
    assert created["agent"] == {
        "id": "helper",
        "role": "support",
        "tier": "verified",
        "tags": ["night"],
    }
    assert created["extra"]["credentials"] == ["api_key", "public_key"]
    assert created["extra"]["public_key_kid"] == "k1"
    assert cli_records[2]["agent"]["tier"] == "trusted"
    assert cli_records[2]["user"] == {"sub": "ops-lead", "claims": {}}
    # the answers agree too, but for the keys and times of each run
    for from_http, from_cli in zip(by_http, by_cli, strict=True):
        assert set(from_cli) - {"note"} == set(from_http)
        for key in set(from_http) - {"api_key", "revoked_at"}:
            assert from_cli[key] == from_http[key], key


def _cli_code(result: Result) -> str:
    assert isinstance(result.exception, ProctorError), result.output
    return result.exception.code


REFUSALS: list[tuple[str, list[str], Callable[[TestClient], Any], int]] = [
    (
        "agent_in_config",
        ["set-tier", "support-bot", "trusted", "--as", "x", "--reason", "y"],
        lambda c: c.post(
            "/v1/admin/agents/support-bot/tier", json={"tier": "trusted", "by": "x", "reason": "y"}
        ),
        409,
    ),
    (
        "unknown_agent",
        ["rotate", "nobody"],
        lambda c: c.post("/v1/admin/agents/nobody/rotate"),
        404,
    ),
    (
        "unknown_agent",
        ["show", "nobody"],
        lambda c: c.get("/v1/admin/agents/nobody"),
        404,
    ),
    (
        "unknown_role",
        ["create", "x-bot", "--role", "ghost"],
        lambda c: c.post("/v1/admin/agents", json={"id": "x-bot", "role": "ghost"}),
        400,
    ),
    (
        "agent_exists",
        ["create", "support-bot"],
        lambda c: c.post("/v1/admin/agents", json={"id": "support-bot"}),
        409,
    ),
    (
        "agent_in_config",
        ["revoke", "support-bot"],
        lambda c: c.post("/v1/admin/agents/support-bot/revoke"),
        409,
    ),
]


@pytest.mark.parametrize(("code", "args", "request_of", "status"), REFUSALS)
def test_a_refusal_has_the_same_code_through_either_edge(
    gateway: tuple[Path, TestClient],
    command_line: Path,
    code: str,
    args: list[str],
    request_of: Callable[[TestClient], Any],
    status: int,
) -> None:
    _, client = gateway
    answer = request_of(client)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert _cli_code(_cli("agent", *args, "--config", str(command_line))) == code
    assert _records(command_line) == []  # a refusal changes nothing and records nothing


@pytest.mark.parametrize("key", [["not", "a", "jwk"], "kty", {"kty": "OKP", "d": "secret"}])
def test_a_public_key_file_without_a_public_jwk_is_refused_and_changes_nothing(
    gateway: tuple[Path, TestClient], command_line: Path, tmp_path: Path, key: Any
) -> None:
    # the service judges the key for both edges (HTTP refuses a non-object body member
    # before it, as `invalid_body`)
    _, client = gateway
    answer = client.post("/v1/admin/agents", json={"id": "x-bot", "public_key": key})
    assert answer.status_code == 400
    assert answer.json()["code"] in ("invalid_public_key", "invalid_body")
    path = tmp_path / "key.jwk"
    path.write_text(json.dumps(key), encoding="utf-8")
    at = ("--config", str(command_line))
    result = _cli("agent", "create", "x-bot", "--public-key", str(path), *at)
    assert _cli_code(result) == "invalid_public_key"
    assert _records(command_line) == []
    assert _cli_code(_cli("agent", "show", "x-bot", *at)) == "unknown_agent"


def test_a_revoked_agent_stays_revoked(
    gateway: tuple[Path, TestClient], command_line: Path
) -> None:
    _, client = gateway
    at = ("--config", str(command_line))
    assert _cli("agent", "create", "helper", "--role", "support", *at).exit_code == 0
    assert _cli("agent", "revoke", "helper", *at).exit_code == 0
    assert _cli_code(_cli("agent", "rotate", "helper", *at)) == "agent_revoked"  # no new key
    assert _cli_code(_cli("agent", "create", "helper", *at)) == "agent_exists"  # no comeback
    assert _cli_code(_cli("agent", "revoke", "helper", *at)) == "agent_revoked"
    assert client.post("/v1/admin/agents", json={"id": "helper"}).status_code == 201
    assert client.post("/v1/admin/agents/helper/revoke").status_code == 200
    again = client.post("/v1/admin/agents/helper/rotate")
    assert (again.status_code, again.json()["code"]) == (409, "agent_revoked")
    tier = client.post(
        "/v1/admin/agents/helper/tier", json={"tier": "trusted", "by": "x", "reason": "y"}
    )
    assert (tier.status_code, tier.json()["code"]) == (409, "agent_revoked")
