"""The composition root: one function builds a runtime for every placement.

The CLI, the gateway, the MCP proxy and the SDK all call ``build_runtime``:
from a ``proctor.yaml`` (policies, agents, roles, users, identity, scanning,
telemetry, approvals' webhook), or from policy files alone. Counters, runs,
approvals and provenance live beside the audit location, so every process that
uses the same SQLite file or PostgreSQL database shares them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from proctor.clock import Clock, DecisionIds, system_clock
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model.request import Agent, User
from proctor.model.tiers import Tier
from proctor.policy import CompiledPolicySet, load_policies
from proctor.runtime.engine import Runtime
from proctor.runtime.following import FollowSettings, StoreFollower, attach
from proctor.runtime.policy_versions import compile_stored
from proctor.runtime.scanning import CascadeFactory, StoredArgs
from proctor.storage import open_audit_store
from proctor.storage.contracts import AuditStore
from proctor.storage.state import (
    is_shared_location,
    open_change_listener,
    open_policy_store,
    open_provenance_store,
    open_state_stores,
)

if TYPE_CHECKING:  # a runtime from policies alone loads no config models (pydantic) at all
    from proctor.config import LoadedConfig, ScanningConfig, StorageConfig
    from proctor.telemetry import DecisionTracer

MEMORY = ":memory:"


def build_runtime(
    config: LoadedConfig | str | Path | None = None,
    *,
    policies: Sequence[str | Path] = (),
    policy_texts: Sequence[str] = (),
    audit: str | AuditStore | None = None,
    registry: AgentRegistry | None = None,
    clock: Clock = system_clock,
    ids: DecisionIds | None = None,
    wait_for_audit: bool | None = None,
    timezone: str = "UTC",
    tracer: DecisionTracer | None = None,
    role: str | None = None,
    policies_from_store: bool | None = None,
) -> Runtime:
    """A runtime from ``config`` (plus ``policies``), or from policies alone.

    ``audit`` is a location (a SQLite file, ``postgresql://…``, ``:memory:``) or a
    store; without a config and without ``audit`` everything stays in memory.
    No policy at all gives an empty set: every call is denied. ``tracer`` replaces the
    one a ``telemetry:`` section would build (an SDK's own tracer provider).

    ``role`` (``gateway``, ``sdk``, ``proxy``) makes a long-lived process follow a
    shared store (``runtime.following``); ``policies_from_store`` (default: the
    config's ``storage.policies``) makes it decide with the store's active version.
    """
    if config is not None:
        from proctor.config import LoadedConfig, load_config

        loaded = config if isinstance(config, LoadedConfig) else load_config(config)
        follow = _follow_settings(loaded.config.storage, policies_from_store)
        runtime = _from_config(
            loaded, policies, audit, clock, ids, wait_for_audit, tracer, follow.from_store
        )
        state_at = audit if isinstance(audit, str) else None if audit else loaded.audit_location
        return _followed(runtime, state_at, role, follow, configured_registry(loaded))
    follow = FollowSettings(from_store=bool(policies_from_store))  # no config: policy files
    zone = ZoneInfo(timezone)
    compiled = (
        load_policies(policies, texts=tuple(policy_texts), timezone=zone)
        if (policies or policy_texts) and not follow.from_store
        else CompiledPolicySet.empty(zone)
    )
    location = audit if isinstance(audit, str) else None if audit is not None else MEMORY
    runtime = Runtime(
        policies=compiled,
        registry=registry,
        audit=audit
        if audit is not None and not isinstance(audit, str)
        else open_audit_store(location or MEMORY),
        clock=clock,
        ids=ids,
        wait_for_audit=bool(wait_for_audit),
        tracer=tracer,
        state=open_state_stores(location),
        provenance=open_provenance_store(location),
    )
    return _followed(runtime, location, role, follow, None)


def _follow_settings(storage: StorageConfig, from_store: bool | None) -> FollowSettings:
    return FollowSettings(
        from_store=storage.policies == "store" if from_store is None else from_store,
        poll_seconds=storage.poll_seconds,
        heartbeat_seconds=storage.heartbeat_seconds,
        grace_seconds=storage.grace_seconds,
    )


def _followed(
    runtime: Runtime,
    location: str | None,
    role: str | None,
    settings: FollowSettings,
    configured: AgentRegistry | None,
) -> Runtime:
    """``runtime`` following its store when it is a long-lived process on a shared one (or
    decides with the store's versions); the first round runs before it answers anything."""
    if role is None and settings.from_store:
        return _with_active_version(runtime, location)
    if role is None or not (settings.from_store or is_shared_location(location)):
        return runtime
    try:
        follower = StoreFollower(
            runtime,
            open_policy_store(location),
            role=role,
            settings=settings,
            configured=configured,
            listener=open_change_listener(location),
        )
        attach(runtime, follower)
        follower.begin()
    except BaseException:
        runtime.close()
        raise
    follower.start()
    return runtime


def _with_active_version(runtime: Runtime, location: str | None) -> Runtime:
    """A one-shot command (``proctor check``) deciding once with the store's active version."""
    try:
        store = open_policy_store(location)
        try:
            active = store.active()
        finally:
            store.close()
        if active is not None:
            runtime.replace_policies(compile_stored(active.sources, runtime.policies.timezone))
    except BaseException:
        runtime.close()
        raise
    return runtime


def _from_config(
    loaded: LoadedConfig,
    extra_policies: Sequence[str | Path],
    audit: str | AuditStore | None,
    clock: Clock,
    ids: DecisionIds | None,
    wait_for_audit: bool | None,
    tracer: DecisionTracer | None,
    from_store: bool,
) -> Runtime:
    from proctor.telemetry import build_tracer
    from proctor.webhooks import approval_webhook

    settings = loaded.config
    zone = ZoneInfo(settings.timezone)
    policies = (
        CompiledPolicySet.empty(zone)  # the follower's first round loads the active version
        if from_store
        else load_policies([*loaded.policy_paths, *extra_policies], timezone=zone)
    )
    store = _audit_store(loaded, audit)
    # identity, counters, runs, approvals and provenance live beside a located audit
    state_at = audit if isinstance(audit, str) else None if audit else loaded.audit_location
    identity = None
    if settings.identity is not None:
        # imported here: PyJWT and cryptography load only for a config with `identity:`
        from proctor.runtime.identity import build_identity

        identity = build_identity(
            settings.identity, base=loaded.base, audit_location=state_at, clock=clock
        )
    registry = configured_registry(loaded)
    if identity is not None:
        registry = identity.with_stored_agents(registry)
    users = {
        sub: User(sub, tuple(spec.scopes), dict(spec.claims))
        for sub, spec in settings.users.items()
    }
    return Runtime(
        policies=policies,
        registry=registry,
        identity=identity,
        users=users,
        audit=store,
        clock=clock,
        ids=ids,
        default_agent=settings.default_agent,
        wait_for_audit=(
            settings.storage.durability == "sync" if wait_for_audit is None else wait_for_audit
        ),
        state=open_state_stores(state_at),
        provenance=open_provenance_store(state_at),
        approval_hook=approval_webhook(settings.approvals),
        tracer=tracer if tracer is not None else build_tracer(settings.telemetry),
        scanners=_configured_cascade(settings.scanning),
        store_args=StoredArgs(settings.audit.store_args),
    )


def _audit_store(loaded: LoadedConfig, audit: str | AuditStore | None) -> AuditStore:
    """The store given, else the one opened at the location given or configured."""
    if audit is not None and not isinstance(audit, str):
        return audit
    return open_audit_store(
        audit or loaded.audit_location,
        durability=loaded.config.storage.durability,
        spill=loaded.spill_location,
    )


def configured_registry(loaded: LoadedConfig) -> AgentRegistry:
    """The agents and roles the config file names (not those created at run time)."""
    settings = loaded.config
    roles = {name: ScopeSet.parse(role.scopes) for name, role in settings.roles.items()}
    agents = {
        spec.id: Agent(spec.id, spec.role, Tier.parse(spec.tier), frozenset(spec.tags), spec.owner)
        for spec in settings.agents
    }
    return AgentRegistry(agents, roles)


def _configured_cascade(section: ScanningConfig | None) -> CascadeFactory | None:
    """The cascade of a `scanning:` section, built now so a bad section fails at start-up."""
    if section is None:
        return None
    from proctor.judge_http import http_judge
    from proctor.scanners.loading import build_cascade

    options = {
        name: value
        for name, value in (
            ("presidio", section.presidio),
            ("judge", section.judge),
            ("pii", section.pii),
        )
        if value is not None
    }
    cascade = build_cascade(
        section.scanners,
        fail_mode=section.fail_mode,
        budget_ms=section.budget_ms,
        options=options,
        http_judge=http_judge,
    )
    return lambda: cascade
