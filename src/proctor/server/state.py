"""What the routes share: the runtime, the authenticator, metrics and the config it came from."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from proctor.config import LoadedConfig, ServerConfig
from proctor.identity.registry import AgentRegistry
from proctor.runtime import Runtime
from proctor.sdk.approvals import ApprovalDesk
from proctor.server.auth import Authenticator, Principal
from proctor.server.commits import CommitBarrier
from proctor.server.metrics import GatewayMetrics


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
