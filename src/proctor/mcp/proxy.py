"""Running a proxy: the runtime, the gate, the upstreams and the front, from options."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from proctor.config import DEFAULT_CONFIG_NAME, LoadedConfig, load_config
from proctor.identity.registry import AgentRegistry
from proctor.mcp.aggregate import SEPARATOR
from proctor.mcp.errors import MCP_CONFIG, McpProxyError
from proctor.mcp.gate import Caller, ToolGate
from proctor.mcp.upstreams import Upstream, tool_actions, upstreams
from proctor.model.request import Agent
from proctor.model.tiers import Tier
from proctor.runtime import Runtime, build_runtime
from proctor.sdk.client import Proctor

log = logging.getLogger("proctor.mcp")

DEFAULT_DB = "proctor.db"
# The identity an MCP client hands the proxy it starts (its `env` in the client config).
TOKEN_VARIABLE = "PROCTOR_TOKEN"
AGENT_VARIABLE = "PROCTOR_AGENT"
USER_VARIABLE = "PROCTOR_USER"
RUN_VARIABLE = "PROCTOR_RUN_ID"


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    config: str | None = None
    policies: tuple[str, ...] = ()
    db: str | None = None
    name: str | None = None
    command: tuple[str, ...] = ()
    upstream_url: str | None = None
    listen: str | None = None
    resource_url: str | None = None
    call_timeout: float = 120.0  # --listen: seconds a request waits for its answer
    idle_timeout: float = 900.0  # --listen: seconds a session lives without requests
    shutdown_grace: float = 10.0  # --listen: seconds a stop waits for requests in flight
    allowed_hosts: tuple[str, ...] = ()  # --listen: Host/Origin names besides the loopback ones
    sessions_per_client: int = 16  # --listen: sessions one client holds at most
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass(frozen=True, slots=True)
class Proxy:
    """Everything a front needs: the gate, the upstreams and the stdio caller."""

    proctor: Proctor
    gate: ToolGate
    upstreams: tuple[Upstream, ...]
    caller: Caller
    issuer: str | None = None  # the authorization server of the tokens (identity.issuer)


def build_proxy(options: ProxyOptions) -> Proxy:
    """The runtime, the gate and the upstreams; bad input is refused before anything opens."""
    loaded = _load(options)
    found = upstreams(loaded, name=options.name, command=options.command, url=options.upstream_url)
    if len(found) > 1 and (doubled := [i.name for i in found if SEPARATOR in i.name]):
        raise McpProxyError(
            f"server `{doubled[0]}`: with several servers, a name may not contain "
            f"`{SEPARATOR}` (it separates the server from the tool)",
            code=MCP_CONFIG,
        )
    caller = caller_from_environment(options.environ)
    proctor = Proctor(_runtime(loaded, options, caller))
    if (warning := unregistered_user(proctor.runtime, caller)) is not None:
        log.warning("%s", warning)
    identity = loaded.config.identity if loaded is not None else None
    return Proxy(
        proctor,
        ToolGate(proctor, actions=tool_actions(loaded)),
        tuple(found),
        caller,
        identity.issuer if identity is not None else None,
    )


def caller_from_environment(environ: Mapping[str, str]) -> Caller:
    """The stdio caller: a delegation token, or an agent (and user) the client names."""
    return Caller(
        agent=environ.get(AGENT_VARIABLE) or None,
        user=environ.get(USER_VARIABLE) or None,
        token=environ.get(TOKEN_VARIABLE) or None,
        run_id=environ.get(RUN_VARIABLE) or None,
    )


def unregistered_user(runtime: Runtime, caller: Caller) -> str | None:
    """A registered agent named with a user the config does not list: that user holds no
    scopes, so every call is denied, which is better said at start-up than per call."""
    if caller.token or not caller.agent or not caller.user:
        return None
    if runtime.registry.get(caller.agent) is None or caller.user in runtime.users:
        return None
    return (
        f"`{USER_VARIABLE}` `{caller.user}` is not among the config's `users:`: that user "
        f"holds no scopes, so every call agent `{caller.agent}` makes for them is denied"
    )


def _load(options: ProxyOptions) -> LoadedConfig | None:
    path = options.config
    if path is None and not options.policies and Path(DEFAULT_CONFIG_NAME).is_file():
        path = DEFAULT_CONFIG_NAME
    if path is None and not options.policies:
        raise McpProxyError(
            "no policy given: pass `--config proctor.yaml` or `--policy FILE`",
            code="no_policy_given",
        )
    return load_config(path) if path is not None else None


def _runtime(loaded: LoadedConfig | None, options: ProxyOptions, caller: Caller) -> Runtime:
    if loaded is not None:
        return build_runtime(loaded, audit=options.db, policies=options.policies)
    # policies alone: the agent the client names is an unverified agent without a role
    agents = {caller.agent: Agent(caller.agent, None, Tier.UNVERIFIED)} if caller.agent else {}
    return build_runtime(
        policies=options.policies,
        audit=options.db or DEFAULT_DB,
        registry=AgentRegistry(agents),
    )
