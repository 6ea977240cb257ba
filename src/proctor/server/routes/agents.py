"""Agent administration: list, show, create (with an API key shown once), rotate, set tier, revoke.

Each route is the runtime's ``AgentAdmin`` (``proctor agent`` is the same
service), so it refuses with the same codes and writes the same
``agent_change`` and ``tier_change`` records; the admin key is the record's
credential. Agents from the config file are listed and shown but change only
by editing the config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.runtime.agents import (
    AGENT_EXISTS,
    AGENT_IN_CONFIG,
    AGENT_REVOKED,
    IDENTITY_NOT_CONFIGURED,
    UNKNOWN_AGENT,
    Actor,
    AgentAdmin,
    AgentAdminError,
)
from proctor.server.auth import AGENTS_WRITE, AUDIT_READ, require
from proctor.server.bodies import AgentCreateBody, TierBody, read_json
from proctor.server.errors import ApiError
from proctor.server.state import caller

# every other refusal (an unknown role or tier, a bad id or key) is a 400
_STATUS = {
    UNKNOWN_AGENT: 404,
    AGENT_EXISTS: 409,
    AGENT_IN_CONFIG: 409,
    AGENT_REVOKED: 409,
    IDENTITY_NOT_CONFIGURED: 409,
}


def admin_key_actor(key_id: str, *, kind: str = "admin_key") -> Actor:
    """Admin key ``key_id`` acts as itself; ``kind`` names the surface (``dashboard``)."""
    return Actor(key_id, {"kind": kind, "admin_key": key_id})


def refused(exc: AgentAdminError) -> ApiError:
    """The service's refusal in the wire envelope, with its status."""
    return ApiError(
        _STATUS.get(exc.code, 400), exc.message, code=exc.code, details=exc.details or None
    )


async def _answer(act: Callable[[], dict[str, Any]], status: int = 200) -> Response:
    def run() -> dict[str, Any]:
        try:
            return act()
        except AgentAdminError as exc:
            raise refused(exc) from exc

    return JSONResponse(await to_thread.run_sync(run), status_code=status)


async def list_agents(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    return await _answer(lambda: {"agents": state.agents.list()})


async def show_agent(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    agent_id = request.path_params["agent_id"]
    return await _answer(lambda: state.agents.show(agent_id))


async def create_agent(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AGENTS_WRITE)
    body = await read_json(request, AgentCreateBody)
    admin: AgentAdmin = state.agents
    return await _answer(
        lambda: admin.create(
            body.id,
            admin_key_actor(principal.name),
            role=body.role,
            tier=body.tier,
            owner=body.owner,
            tags=tuple(body.tags),
            api_key=body.api_key,
            public_key=body.public_key,
        ),
        201,
    )


async def rotate_key(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AGENTS_WRITE)
    agent_id = request.path_params["agent_id"]
    return await _answer(lambda: state.agents.rotate(agent_id, admin_key_actor(principal.name)))


async def set_tier(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AGENTS_WRITE)
    agent_id = request.path_params["agent_id"]
    body = await read_json(request, TierBody)
    # `by` names the person who decided; the admin key that sent it is the credential
    actor = Actor(body.by, admin_key_actor(principal.name).credential)
    return await _answer(
        lambda: state.agents.set_tier(agent_id, body.tier, actor, reason=body.reason)
    )


async def revoke_agent(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AGENTS_WRITE)
    agent_id = request.path_params["agent_id"]
    return await _answer(lambda: state.agents.revoke(agent_id, admin_key_actor(principal.name)))


routes = [
    Route("/v1/admin/agents", list_agents, methods=["GET"]),
    Route("/v1/admin/agents", create_agent, methods=["POST"]),
    Route("/v1/admin/agents/{agent_id}", show_agent, methods=["GET"]),
    Route("/v1/admin/agents/{agent_id}/rotate", rotate_key, methods=["POST"]),
    Route("/v1/admin/agents/{agent_id}/tier", set_tier, methods=["POST"]),
    Route("/v1/admin/agents/{agent_id}/revoke", revoke_agent, methods=["POST"]),
]
