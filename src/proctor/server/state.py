"""What the routes share: the runtime, the authenticator, metrics and the config it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from proctor.config import LoadedConfig, ServerConfig
from proctor.identity.registry import AgentRegistry
from proctor.runtime import Runtime
from proctor.runtime.approvals import ApprovalDesk
from proctor.server.auth import Authenticator, Principal
from proctor.server.commits import CommitBarrier
from proctor.server.metrics import GatewayMetrics
from proctor.server.user_assertions import UserAssertions


@dataclass
class GatewayState:
    runtime: Runtime
    settings: ServerConfig
    auth: Authenticator
    metrics: GatewayMetrics
    approvals: ApprovalDesk
    commits: CommitBarrier
    config: LoadedConfig | None = None
    config_registry: AgentRegistry | None = None
    user_assertions: UserAssertions = field(default_factory=lambda: UserAssertions({}))
    draining: bool = False

    def refresh_registry(self) -> None:
        """The config's agents plus the store's unrevoked ones, after an agent changed."""
        identity = self.runtime.identity
        if identity is None or self.config_registry is None:
            return
        registry = identity.with_stored_agents(self.config_registry)
        self.runtime.replace_registry(registry)


def gateway(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def caller(request: Request) -> tuple[GatewayState, Principal]:
    """The shared state and the authenticated principal (401 when there is none)."""
    state = gateway(request)
    return state, state.auth.authenticate(request)
