"""``AgentAdmin``: bad input refused with a code and nothing stored, the record before the change,
a tier set by hand lifting a rule's demotion."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from proctor.config import load_config
from proctor.errors import ProctorError
from proctor.runtime import Runtime, build_runtime
from proctor.runtime.agents import (
    INVALID_AGENT,
    INVALID_PUBLIC_KEY,
    UNKNOWN_TIER,
    Actor,
    AgentAdmin,
    AgentAdminError,
)
from proctor.runtime.build import configured_registry

POLICY = """\
name: support
rules:
  - {id: reads, action: "read:*", effect: allow}
  - {id: refunds, action: "write:refund", effect: allow, applies_to: {min_tier: verified}}
  - {id: no-deletes, action: "write:delete", effect: deny}
tiers:
  - id: noisy
    demote: {to: unverified, when_denials: 2, window: 1h}
"""
CONFIG = """\
policies: [policy.yaml]
roles:
  support: {scopes: ["*"]}
agents:
  - {id: support-bot, role: support, tier: verified}
storage: {audit: proctor.db, durability: sync}
identity: {}
"""
OPS = Actor("ops", {"kind": "test"})
KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[AgentAdmin]:
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "proctor.yaml").write_text(CONFIG)
    loaded = load_config(tmp_path / "proctor.yaml")
    runtime = build_runtime(loaded)
    yield AgentAdmin(runtime, configured_registry(loaded))
    runtime.close()


def _changes(runtime: Runtime) -> list[dict[str, object]]:
    return [r for r in runtime.audit.tail(100) if r["kind"] in ("agent_change", "tier_change")]


def _refused(code: str, act: object) -> None:
    assert callable(act)
    with pytest.raises(AgentAdminError) as caught:
        act()
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("agent_id", "fields", "code"),
    [
        ("", {}, INVALID_AGENT),
        ("-dash", {}, INVALID_AGENT),
        ("a" * 201, {}, INVALID_AGENT),
        (["x"], {}, INVALID_AGENT),
        ("bot", {"tier": "gold"}, UNKNOWN_TIER),
        ("bot", {"tier": ["verified"]}, UNKNOWN_TIER),
        ("bot", {"owner": "o" * 500}, INVALID_AGENT),
        ("bot", {"tags": "night"}, INVALID_AGENT),  # a string is not a list of tags
        ("bot", {"tags": ["t"] * 51}, INVALID_AGENT),
        ("bot", {"tags": [{"a": 1}]}, INVALID_AGENT),
        ("bot", {"public_key": {"kty": "OKP"}}, INVALID_PUBLIC_KEY),
        ("bot", {"public_key": ["not", "a", "jwk"]}, INVALID_PUBLIC_KEY),
        # a private key is never stored: secrets stay with the agent
        ("bot", {"public_key": OKPAlgorithm.to_jwk(KEY, as_dict=True)}, INVALID_PUBLIC_KEY),
        ("bot", {"public_key": {"kty": "oct", "k": "c2VjcmV0"}}, INVALID_PUBLIC_KEY),
    ],
)
def test_bad_input_is_refused_with_a_code_and_nothing_changes(
    admin: AgentAdmin, agent_id: object, fields: dict[str, object], code: str
) -> None:
    _refused(code, lambda: admin.create(agent_id, OPS, **fields))  # type: ignore[arg-type]
    assert [row["id"] for row in admin.list()] == ["support-bot"]
    assert _changes(admin.runtime) == []


def test_a_change_needs_who_makes_it(admin: AgentAdmin) -> None:
    _refused(INVALID_AGENT, lambda: admin.create("bot", Actor("", {})))
    admin.create("bot", OPS, role="support")
    _refused(INVALID_AGENT, lambda: admin.set_tier("bot", "trusted", OPS, reason=" "))
    _refused(
        INVALID_AGENT, lambda: admin.set_tier("bot", "trusted", Actor("x" * 201, {}), reason="r")
    )


def test_a_public_key_is_stored_with_its_kid(admin: AgentAdmin) -> None:
    public = {**OKPAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1"}
    answer = admin.create("signer", OPS, role="support", api_key=False, public_key=public)
    assert answer == {
        "id": "signer",
        "role": "support",
        "tier": "unverified",
        "public_key_kid": "k1",
    }
    shown = admin.show("signer")
    assert [(c["kind"], c["key_id"]) for c in shown["credentials"]] == [("public_key", "k1")]


def test_nothing_changes_when_the_audit_cannot_record_it(admin: AgentAdmin, tmp_path: Path) -> None:
    admin.create("bot", OPS, role="support")
    with sqlite3.connect(tmp_path / "proctor.db") as conn:
        conn.execute("DROP TABLE audit")  # the audit store fails at its next write
    with pytest.raises(ProctorError):
        admin.create("other", OPS, role="support")
    with pytest.raises(ProctorError):
        admin.revoke("bot", OPS)
    with pytest.raises(ProctorError):
        admin.set_tier("bot", "trusted", OPS, reason="r")
    assert admin.identity.store.get_agent("other") is None
    bot = admin.identity.store.get_agent("bot")
    assert bot is not None
    assert (bot.revoked_at, bot.tier) == (None, "unverified")


def test_a_tier_set_by_hand_lifts_a_rules_demotion(admin: AgentAdmin) -> None:
    runtime = admin.runtime
    admin.create("bot", OPS, role="support", tier="verified")
    assert runtime.check("write:refund", agent="bot").allowed
    for _ in range(2):
        assert not runtime.check("write:delete", agent="bot").allowed
    assert not runtime.check("write:refund", agent="bot").allowed  # demoted to unverified
    admin.set_tier("bot", "verified", OPS, reason="reviewed the denials")
    assert runtime.check("write:refund", agent="bot").allowed
    (demoted, by_hand) = [r for r in _changes(runtime) if r["kind"] == "tier_change"]
    assert demoted["action"] == "agent:demote"
    assert by_hand["action"] == "agent:set-tier"
    assert by_hand["extra"] == {  # type: ignore[comparison-overlap]
        "from": "unverified",
        "to": "verified",
        "by": "ops",
        "credential": {"kind": "test"},
    }


def test_one_id_created_at_once_from_many_threads_gets_one_agent_and_one_key(
    admin: AgentAdmin,
) -> None:
    start = threading.Barrier(8)

    def create(_: int) -> str:
        start.wait()
        try:
            return str(admin.create("racer", OPS, role="support")["api_key"])
        except AgentAdminError as refused:
            return refused.code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(8)))
    assert answers.count("agent_exists") == 7
    assert len(admin.identity.store.credentials("racer")) == 1
    assert [r["action"] for r in _changes(admin.runtime)] == ["agent:create"]


def test_a_key_id_that_is_not_text_is_refused(admin: AgentAdmin) -> None:
    public = {**OKPAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": 7}
    _refused(INVALID_PUBLIC_KEY, lambda: admin.create("signer", OPS, public_key=public))
