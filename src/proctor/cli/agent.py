"""``proctor agent``: agents created from the command line, their credentials and tiers.

Agents from the config file are listed too but change only by editing the
config. API keys are printed once and stored as digests; a public key
(a JWK file) lets the agent prove itself with a signed client assertion.
Tier changes are written to the audit trail with who made them and why.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from proctor.cli.identity_loading import identity_runtime
from proctor.cli.output import json_always, print_json
from proctor.clock import DecisionIds
from proctor.errors import ProctorError
from proctor.identity.credentials import new_api_key
from proctor.model.audit_event import AuditEvent, audit_timestamp
from proctor.model.tiers import TIER_NAMES
from proctor.runtime import Runtime
from proctor.storage.contracts import StoredAgent, StoredCredential

_CONFIG = click.option(
    "--config", "config", type=click.Path(dir_okay=False), help="proctor.yaml to load."
)
_DB = click.option("--db", help="Database of the agents (default: the config's audit file).")


@click.group()
def agent() -> None:
    """Register agents and manage their credentials and tiers."""


def _store_agent(runtime: Runtime, agent_id: str) -> StoredAgent:
    assert runtime.identity is not None
    found = runtime.identity.store.get_agent(agent_id)
    if found is None:
        where = "the config file" if runtime.registry.get(agent_id) else "the store"
        raise ProctorError(
            f"agent `{agent_id}` is not in the store (it is in {where})"
            if where == "the config file"
            else f"unknown agent `{agent_id}`",
            code="unknown_agent",
        )
    return found


def _issue_api_key(runtime: Runtime, agent_id: str, now: int) -> str:
    assert runtime.identity is not None
    key, record = new_api_key(agent_id)
    runtime.identity.store.add_credential(
        StoredCredential(agent_id, "api_key", record.key_id, digest=record.digest, created_at=now)
    )
    return key


@agent.command()
@click.argument("agent_id")
@click.option("--role", help="Role (defined under `roles` in the config).")
@click.option("--tier", type=click.Choice(TIER_NAMES), default="unverified", show_default=True)
@click.option("--owner", help="Team or person responsible for the agent.")
@click.option("--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="The agent's public JWK (JSON file) for signed client assertions.",
)
@click.option("--no-api-key", is_flag=True, help="Do not issue an API key.")
@_CONFIG
@_DB
@json_always
def create(
    agent_id: str,
    role: str | None,
    tier: str,
    owner: str | None,
    tags: tuple[str, ...],
    public_key: str | None,
    no_api_key: bool,
    config: str | None,
    db: str | None,
) -> None:
    """Register AGENT_ID; prints its API key once (it is stored hashed)."""
    runtime = identity_runtime(config, db)
    try:
        assert runtime.identity is not None
        now = int(runtime.identity.now())
        if runtime.identity.agent(agent_id) is not None:
            raise ProctorError(f"agent `{agent_id}` exists already", code="agent_exists")
        if role is not None and role not in runtime.registry.roles:
            raise ProctorError(f"role `{role}` is not defined in the config", code="unknown_role")
        runtime.identity.store.put_agent(
            StoredAgent(agent_id, role, tier, owner, tuple(tags), created_at=now)
        )
        body: dict[str, Any] = {"id": agent_id, "role": role, "tier": tier}
        if public_key is not None:
            jwk = json.loads(Path(public_key).read_text(encoding="utf-8"))
            kid = str(jwk.get("kid") or "default")
            runtime.identity.store.add_credential(
                StoredCredential(agent_id, "public_key", kid, public_jwk=jwk, created_at=now)
            )
            body["public_key_kid"] = kid
        if not no_api_key:
            body["api_key"] = _issue_api_key(runtime, agent_id, now)
            body["note"] = "the API key is shown once; store it as a secret"
    finally:
        runtime.close()
    print_json(body)


@agent.command("list")
@_CONFIG
@_DB
@json_always
def list_agents(config: str | None, db: str | None) -> None:
    """Agents from the config and from the store."""
    runtime = identity_runtime(config, db)
    try:
        assert runtime.identity is not None
        rows = [
            {"id": a.id, "role": a.role, "tier": a.tier.value, "source": "config"}
            for a in runtime.registry.agents.values()
            if runtime.identity.store.get_agent(a.id) is None
        ]
        rows += [
            {**stored.to_dict(), "source": "store"}
            for stored in runtime.identity.store.list_agents()
        ]
    finally:
        runtime.close()
    print_json(rows)


@agent.command()
@click.argument("agent_id")
@_CONFIG
@_DB
@json_always
def show(agent_id: str, config: str | None, db: str | None) -> None:
    """One agent and its live credentials (ids only, never secrets)."""
    runtime = identity_runtime(config, db)
    try:
        assert runtime.identity is not None
        stored = runtime.identity.store.get_agent(agent_id)
        configured = runtime.registry.get(agent_id)
        if stored is None and configured is None:
            raise ProctorError(f"unknown agent `{agent_id}`", code="unknown_agent")
        body: dict[str, Any] = (
            {**stored.to_dict(), "source": "store"}
            if stored is not None
            else {
                "id": agent_id,
                "role": configured.role if configured else None,
                "tier": configured.tier.value if configured else None,
                "source": "config",
            }
        )
        body["credentials"] = [
            {"kind": item.kind, "key_id": item.key_id, "created_at": item.created_at}
            for item in runtime.identity.store.credentials(agent_id)
        ]
    finally:
        runtime.close()
    print_json(body)


@agent.command()
@click.argument("agent_id")
@_CONFIG
@_DB
@json_always
def rotate(agent_id: str, config: str | None, db: str | None) -> None:
    """Issue a new API key and revoke the old ones; prints the new key once."""
    runtime = identity_runtime(config, db)
    try:
        assert runtime.identity is not None
        now = int(runtime.identity.now())
        _store_agent(runtime, agent_id)
        revoked = runtime.identity.store.revoke_credentials(agent_id, now, kind="api_key")
        key = _issue_api_key(runtime, agent_id, now)
    finally:
        runtime.close()
    print_json({"id": agent_id, "api_key": key, "revoked_keys": revoked})


@agent.command()
@click.argument("agent_id")
@_CONFIG
@_DB
@json_always
def revoke(agent_id: str, config: str | None, db: str | None) -> None:
    """Revoke the agent and all its credentials: no new tokens, no checks as it."""
    runtime = identity_runtime(config, db)
    try:
        assert runtime.identity is not None
        now = int(runtime.identity.now())
        stored = _store_agent(runtime, agent_id)
        runtime.identity.store.put_agent(replace(stored, revoked_at=now))
        revoked = runtime.identity.store.revoke_credentials(agent_id, now)
    finally:
        runtime.close()
    print_json({"id": agent_id, "revoked_at": now, "revoked_credentials": revoked})


@agent.command("set-tier")
@click.argument("agent_id")
@click.argument("tier", type=click.Choice(TIER_NAMES))
@click.option("--as", "changed_by", required=True, help="Who makes the change (recorded).")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@_CONFIG
@_DB
@json_always
def set_tier(
    agent_id: str, tier: str, changed_by: str, reason: str, config: str | None, db: str | None
) -> None:
    """Change an agent's tier; recorded as a `tier_change` audit event."""
    runtime = identity_runtime(config, db)
    try:
        assert runtime.identity is not None
        stored = _store_agent(runtime, agent_id)
        at = runtime.clock()
        runtime.identity.store.put_agent(replace(stored, tier=tier))
        event = AuditEvent(
            kind="tier_change",
            decision_id=DecisionIds(runtime.clock)(at),
            ts=audit_timestamp(at),
            agent={"id": agent_id, "role": stored.role, "tier": tier, "tags": list(stored.tags)},
            user={"sub": changed_by, "claims": {}},
            action="agent:set-tier",
            effect="allow",
            reason=reason,
            extra={"from": stored.tier, "to": tier, "by": changed_by},
        )
        runtime.audit.append(event, wait=True)
    finally:
        runtime.close()
    print_json({"id": agent_id, "from": stored.tier, "to": tier, "by": changed_by})
