"""Agent administration: list, show, create (with an API key shown once), set tier, revoke.

Agents from the config file are listed and shown but change only by editing
the config; tier changes and revocations are written to the audit trail.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.identity.credentials import new_api_key
from proctor.model.tiers import TIER_NAMES
from proctor.runtime import Runtime
from proctor.runtime.identity import IdentityService
from proctor.server.auth import AGENTS_WRITE, AUDIT_READ, require
from proctor.server.bodies import AgentCreateBody, TierBody, read_json
from proctor.server.errors import ApiError
from proctor.server.state import GatewayState, caller
from proctor.storage.identity_store import StoredAgent, StoredCredential


def _identity(runtime: Runtime) -> IdentityService:
    if runtime.identity is None:
        raise ApiError(
            409,
            "agents are kept by the identity store: add an `identity:` section",
            code="identity_not_configured",
        )
    return runtime.identity


def _view(runtime: Runtime, agent_id: str) -> dict[str, Any]:
    identity = _identity(runtime)
    stored = identity.store.get_agent(agent_id)
    configured = runtime.registry.get(agent_id)
    if stored is None and configured is None:
        raise ApiError(404, f"unknown agent `{agent_id}`", code="unknown_agent")
    if stored is not None:
        body: dict[str, Any] = {**stored.to_dict(), "source": "store"}
    else:
        assert configured is not None
        body = {
            "id": agent_id,
            "role": configured.role,
            "tier": configured.tier.value,
            "source": "config",
        }
    body["credentials"] = [
        {"kind": item.kind, "key_id": item.key_id, "created_at": item.created_at}
        for item in identity.store.credentials(agent_id)
    ]
    return body


def revoke_stored_agent(
    state: GatewayState, agent_id: str, by: str, *, via: str = ""
) -> tuple[int, int]:
    """Revoke a stored agent, its credentials and tokens, and record who did it.

    Returns the time and how many credentials were revoked; raises ``ApiError``
    for an agent from the config file or an unknown one. ``via`` names the
    surface (`dashboard`) in the record's reason.
    """
    runtime = state.runtime
    identity = _identity(runtime)
    stored = _stored(runtime, agent_id)
    now = int(identity.now())
    identity.store.put_agent(replace(stored, revoked_at=now))
    revoked = identity.store.revoke_credentials(agent_id, now)
    identity.revoked_agents.revoke(agent_id, now, "revoked")
    state.refresh_registry()
    runtime.record(
        "agent_change",
        action="agent:revoke",
        effect="allow",
        reason=f"agent `{agent_id}` revoked by `{by}`" + (f" ({via})" if via else ""),
        agent=agent_id,
        user=None,
        extra={"by": by, "revoked_credentials": revoked},
    )
    return now, revoked


def _stored(runtime: Runtime, agent_id: str) -> StoredAgent:
    found = _identity(runtime).store.get_agent(agent_id)
    if found is None:
        if runtime.registry.get(agent_id) is not None:
            raise ApiError(
                409,
                f"agent `{agent_id}` comes from the config file: change it there",
                code="agent_in_config",
            )
        raise ApiError(404, f"unknown agent `{agent_id}`", code="unknown_agent")
    return found


async def list_agents(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    runtime = state.runtime

    def rows() -> list[dict[str, Any]]:
        identity = _identity(runtime)
        listed = [
            {"id": a.id, "role": a.role, "tier": a.tier.value, "source": "config"}
            for a in runtime.registry.agents.values()
            if identity.store.get_agent(a.id) is None
        ]
        return listed + [{**s.to_dict(), "source": "store"} for s in identity.store.list_agents()]

    return JSONResponse({"agents": await to_thread.run_sync(rows)})


async def show_agent(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    agent_id = request.path_params["agent_id"]
    return JSONResponse(await to_thread.run_sync(lambda: _view(state.runtime, agent_id)))


async def create_agent(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AGENTS_WRITE)
    body = await read_json(request, AgentCreateBody)
    runtime = state.runtime

    def create() -> dict[str, Any]:
        identity = _identity(runtime)
        if body.tier not in TIER_NAMES:
            raise ApiError(
                400,
                f"unknown tier `{body.tier}`",
                code="invalid_body",
                details={"expected": list(TIER_NAMES)},
            )
        if body.role is not None and body.role not in runtime.registry.roles:
            raise ApiError(
                400, f"role `{body.role}` is not defined in the config", code="unknown_role"
            )
        if identity.store.get_agent(body.id) is not None or runtime.registry.get(body.id):
            raise ApiError(409, f"agent `{body.id}` exists already", code="agent_exists")
        now = int(identity.now())
        identity.store.put_agent(
            StoredAgent(body.id, body.role, body.tier, body.owner, tuple(body.tags), created_at=now)
        )
        answer: dict[str, Any] = {"id": body.id, "role": body.role, "tier": body.tier}
        if body.api_key:
            key, record = new_api_key(body.id)
            identity.store.add_credential(
                StoredCredential(
                    body.id, "api_key", record.key_id, digest=record.digest, created_at=now
                )
            )
            answer["api_key"] = key
        state.refresh_registry()
        runtime.record(
            "agent_change",
            action="agent:create",
            effect="allow",
            reason=f"agent `{body.id}` created by `{principal.name}`",
            agent=body.id,
            user=None,
            extra={"by": principal.name, "tier": body.tier, "role": body.role},
        )
        return answer

    return JSONResponse(await to_thread.run_sync(create), status_code=201)


async def set_tier(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AGENTS_WRITE)
    agent_id = request.path_params["agent_id"]
    body = await read_json(request, TierBody)
    runtime = state.runtime

    def change() -> dict[str, Any]:
        identity = _identity(runtime)
        if body.tier not in TIER_NAMES:
            raise ApiError(
                400,
                f"unknown tier `{body.tier}`",
                code="invalid_body",
                details={"expected": list(TIER_NAMES)},
            )
        stored = _stored(runtime, agent_id)
        identity.store.put_agent(replace(stored, tier=body.tier))
        runtime.lift_demotion(agent_id)  # an admin's tier overrides a `tiers:` rule's
        state.refresh_registry()
        runtime.record(
            "tier_change",
            action="agent:set-tier",
            effect="allow",
            reason=body.reason,
            agent=agent_id,
            user=body.by,
            extra={
                "from": stored.tier,
                "to": body.tier,
                "by": body.by,
                "credential": principal.name,
            },
        )
        return {"id": agent_id, "from": stored.tier, "to": body.tier, "by": body.by}

    return JSONResponse(await to_thread.run_sync(change))


async def revoke_agent(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AGENTS_WRITE)
    agent_id = request.path_params["agent_id"]

    def revoke() -> dict[str, Any]:
        now, revoked = revoke_stored_agent(state, agent_id, principal.name)
        return {"id": agent_id, "revoked_at": now, "revoked_credentials": revoked}

    return JSONResponse(await to_thread.run_sync(revoke))


routes = [
    Route("/v1/admin/agents", list_agents, methods=["GET"]),
    Route("/v1/admin/agents", create_agent, methods=["POST"]),
    Route("/v1/admin/agents/{agent_id}", show_agent, methods=["GET"]),
    Route("/v1/admin/agents/{agent_id}/tier", set_tier, methods=["POST"]),
    Route("/v1/admin/agents/{agent_id}/revoke", revoke_agent, methods=["POST"]),
]
