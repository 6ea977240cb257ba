"""What the check's stages and a result's review read of the engine: a protocol.

The stages (``pipeline``, ``outputs``) are written against this, not against
``Runtime``, so the engine imports its stages and never the other way round.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from proctor.clock import Clock, DecisionIds
    from proctor.limits.demotions import Demotion
    from proctor.limits.gate import Guardrails
    from proctor.limits.run_owners import RunOwners
    from proctor.model.request import Agent
    from proctor.policy import CompiledPolicySet
    from proctor.runtime.call import KnownActions
    from proctor.runtime.callers import CallerResolver
    from proctor.runtime.charge_returns import ChargeReturns
    from proctor.runtime.records import AuditRecorder
    from proctor.runtime.scanning import ContentGuard, StoredArgs
    from proctor.telemetry import DecisionTracer


class EngineParts(Protocol):
    """The engine's parts a stage uses, read-only, and the two actions it asks of it."""

    @property
    def policies(self) -> CompiledPolicySet: ...
    @property
    def callers(self) -> CallerResolver: ...
    @property
    def content(self) -> ContentGuard: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def new_id(self) -> DecisionIds: ...
    @property
    def recorder(self) -> AuditRecorder: ...
    @property
    def guardrails(self) -> Guardrails: ...
    @property
    def charge_returns(self) -> ChargeReturns: ...
    @property
    def tracer(self) -> DecisionTracer | None: ...
    @property
    def store_args(self) -> StoredArgs: ...
    @property
    def known_actions(self) -> KnownActions: ...
    @property
    def run_owners(self) -> RunOwners: ...

    def count_denial(
        self, policies: CompiledPolicySet, agent: Agent, now: datetime
    ) -> Demotion | None: ...

    def record_demotion(self, demotion: Demotion, agent: Agent, at: datetime) -> None: ...
