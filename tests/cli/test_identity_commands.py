"""`proctor token`, `proctor keys`, `proctor agent` and `proctor check --token`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from proctor.cli.main import cli

EXAMPLE = Path(__file__).parents[2] / "examples" / "sales_assistant"


@pytest.fixture
def config(tmp_path: Path) -> str:
    shutil.copytree(EXAMPLE, tmp_path / "ex")
    return str(tmp_path / "ex" / "proctor.yaml")


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _json(result: Result) -> dict:
    return json.loads(result.stdout)


def _delegation(config: str, sub: str, *scopes: str) -> str:
    scope_args = [arg for scope in scopes for arg in ("--scope", scope)]
    user = _run("token", "user", "--sub", sub, *scope_args, "--config", config)
    assert user.exit_code == 0, user.output
    exchanged = _run(
        "token", "exchange", "--subject-token", user.stdout.strip(),
        "--agent", "sales-assistant", "--config", config,
    )  # fmt: skip
    assert exchanged.exit_code == 0, exchanged.output
    body = _json(exchanged)
    assert set(body) == {"access_token", "issued_token_type", "token_type", "expires_in", "scope"}
    return str(body["access_token"])


def test_alice_can_refund_and_bob_cannot(config: str) -> None:
    alice = _delegation(config, "alice", "read:*", "write:refund")
    bob = _delegation(config, "bob", "read:*")
    for token, effect in ((alice, "allow"), (bob, "deny")):
        result = _run(
            "check", "--config", config, "--token", token, "--json",
            "--arg", "amount=40", "write:refund",
        )  # fmt: skip
        assert _json(result)["effect"] == effect
    email = _run("check", "--config", config, "--token", alice, "--json", "write:email")
    assert _json(email)["code"] == "scope_missing"


def test_inspect_and_revoke(config: str) -> None:
    token = _delegation(config, "alice", "read:*")
    inspected = _run("token", "inspect", token, "--config", config)
    assert inspected.exit_code == 0
    body = _json(inspected)
    assert body["chain"] == ["alice", "sales-assistant"]
    assert body["scopes"] == ["read:crm", "read:orders"]
    assert _run("token", "revoke", token, "--config", config).exit_code == 0
    rejected = _run("token", "inspect", token, "--config", config)
    assert rejected.exit_code == 1
    assert _json(rejected)["code"] == "token_revoked"
    denied = _run("check", "--config", config, "--token", token, "--json", "read:orders")
    assert _json(denied)["code"] == "token_revoked"
    garbage = _run("token", "inspect", "garbage", "--config", config)
    assert _json(garbage)["code"] == "token_malformed"


def test_exchange_errors_print_the_wire_form(config: str) -> None:
    user = _run("token", "user", "--sub", "bob", "--scope", "read:*", "--config", config)
    refused = _run(
        "token", "exchange", "--subject-token", user.stdout.strip(), "--agent",
        "sales-assistant", "--scope", "write:refund", "--config", config,
    )  # fmt: skip
    assert refused.exit_code == 1
    assert _json(refused)["error"] == "invalid_scope"


def test_keys_jwks_and_rotate(config: str) -> None:
    first = _json(_run("keys", "jwks", "--config", config))
    assert len(first["keys"]) == 1
    assert "d" not in first["keys"][0]
    token = _delegation(config, "alice", "read:*")
    rotated = _json(_run("keys", "rotate", "--config", config))
    assert len(rotated["published"]) == 2
    still = _run("check", "--config", config, "--token", token, "--json", "read:orders")
    assert _json(still)["effect"] == "allow"


def test_agent_lifecycle_and_api_key_exchange(config: str) -> None:
    created = _run("agent", "create", "helper", "--role", "refunds", "--config", config)
    assert created.exit_code == 0, created.output
    key = _json(created)["api_key"]
    assert key.startswith("pk_")
    listed = _json(_run("agent", "list", "--config", config))
    assert {row["id"] for row in listed} >= {"helper", "sales-assistant"}
    user = _run("token", "user", "--sub", "alice", "--scope", "read:*", "--config", config)
    exchanged = _run(
        "token", "exchange", "--subject-token", user.stdout.strip(), "--actor-token", key,
        "--config", config,
    )  # fmt: skip
    assert exchanged.exit_code == 0, exchanged.output
    assert _json(exchanged)["scope"] == "read:orders"
    rotated = _json(_run("agent", "rotate", "helper", "--config", config))
    assert rotated["revoked_keys"] == 1
    stale = _run(
        "token", "exchange", "--subject-token", user.stdout.strip(), "--actor-token", key,
        "--config", config,
    )  # fmt: skip
    assert _json(stale)["code"] == "token_bad_signature"
    tier = _run(
        "agent", "set-tier", "helper", "trusted", "--as", "ops@shop", "--reason", "audited",
        "--config", config,
    )  # fmt: skip
    assert _json(tier)["to"] == "trusted"
    shown = _json(_run("agent", "show", "helper", "--config", config))
    assert shown["tier"] == "trusted"
    assert [c["kind"] for c in shown["credentials"]] == ["api_key"]
    tail = _run("audit", "tail", "--config", config, "--json")
    assert "tier_change" in tail.stdout
    assert _run("agent", "revoke", "helper", "--config", config).exit_code == 0
    gone = _run(
        "token", "exchange", "--subject-token", user.stdout.strip(), "--agent", "helper",
        "--config", config,
    )  # fmt: skip
    assert _json(gone)["code"] == "token_unknown_actor"


def _exchange_from(config: str, subject: str, agent: str) -> str:
    exchanged = _run(
        "token", "exchange", "--subject-token", subject, "--agent", agent, "--config", config,
    )  # fmt: skip
    assert exchanged.exit_code == 0, exchanged.output
    return str(_json(exchanged)["access_token"])


def _check_code(config: str, token: str) -> str:
    result = _run("check", "--config", config, "--token", token, "--json", "read:orders")
    body = _json(result)
    return "allow" if body["effect"] == "allow" else str(body["code"])


def test_revoking_a_delegation_refuses_every_token_exchanged_from_it(config: str) -> None:
    assert _run("agent", "create", "helper", "--role", "refunds", "--config", config).exit_code == 0
    parent = _delegation(config, "alice", "read:*")
    child = _exchange_from(config, parent, "refund-worker")
    grandchild = _exchange_from(config, child, "helper")
    inspected = _json(_run("token", "inspect", grandchild, "--config", config))
    parent_jti = _json(_run("token", "inspect", parent, "--config", config))["claims"]["jti"]
    child_jti = inspected["claims"]["parent_jtis"][0]
    assert inspected["claims"]["parent_jtis"] == [child_jti, parent_jti]
    assert inspected["chain"] == ["alice", "sales-assistant", "refund-worker", "helper"]
    assert _check_code(config, grandchild) == "allow"

    # revoking the middle token refuses its descendants, not its parent
    assert _run("token", "revoke", "--jti", child_jti, "--config", config).exit_code == 0
    assert _check_code(config, grandchild) == "token_revoked"
    assert _check_code(config, child) == "token_revoked"
    assert _check_code(config, parent) == "allow"

    # revoking the root refuses the whole chain, also a fresh grandchild exchanged before it
    sibling = _exchange_from(config, _exchange_from(config, parent, "refund-worker"), "helper")
    assert _check_code(config, sibling) == "allow"
    assert _run("token", "revoke", parent, "--config", config).exit_code == 0
    for token in (parent, sibling, grandchild):
        assert _check_code(config, token) == "token_revoked"
    refused = _json(_run("token", "inspect", sibling, "--config", config))
    assert refused["code"] == "token_revoked"
    assert parent_jti in refused["reason"]
    # and a revoked token cannot be exchanged into a new one
    again = _run(
        "token", "exchange", "--subject-token", parent, "--agent", "refund-worker",
        "--config", config,
    )  # fmt: skip
    assert again.exit_code == 1
    assert _json(again)["code"] == "token_revoked"
