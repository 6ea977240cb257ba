"""What the routes share: the runtime, its services, the authenticator, metrics and the config."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from proctor.config import LoadedConfig, ServerConfig
from proctor.runtime import Runtime
from proctor.runtime.agents import AgentAdmin
from proctor.runtime.approvals import ApprovalDesk
from proctor.server.auth import Authenticator, Principal
from proctor.server.commits import CommitBarrier
from proctor.server.metrics import GatewayMetrics
from proctor.server.replays import RequestReplays
from proctor.server.user_assertions import UserAssertions


@dataclass
class GatewayState:
    runtime: Runtime
    settings: ServerConfig
    auth: Authenticator
    metrics: GatewayMetrics
    approvals: ApprovalDesk
    agents: AgentAdmin
    commits: CommitBarrier
    replays: RequestReplays
    config: LoadedConfig | None = None
    user_assertions: UserAssertions = field(default_factory=lambda: UserAssertions({}))
    draining: bool = False
    workers: int = 1  # gateway processes on this socket (`serve --workers`)


def gateway(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def caller(request: Request) -> tuple[GatewayState, Principal]:
    """The shared state and the authenticated principal (401 when there is none)."""
    state = gateway(request)
    return state, state.auth.authenticate(request)
