"""Where proctor's time goes: cProfile over the engine and over the full check path.

Run when a target is missed, so the engine owners see which functions to fix.
cProfile inflates short Python calls, so the shares matter more than the
absolute numbers; ``per_decision_us`` divides each function's time by the
number of decisions profiled.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parents[1])


@dataclass(frozen=True, slots=True)
class Hotspot:
    function: str  # file:line:function, relative to the repository when inside it
    calls: int
    own_us_per_decision: float  # tottime / decisions
    cumulative_us_per_decision: float  # cumtime / decisions
    own_share: float  # of the profiled total

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def profile_calls(
    fn: Callable[[Any], Any], inputs: list[Any], *, repeat: int = 1, top: int = 15
) -> tuple[list[Hotspot], float]:
    """The ``top`` functions by own time, and the profiled µs per decision."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        for value in inputs:
            fn(value)
    profiler.disable()
    decisions = len(inputs) * repeat
    stats = pstats.Stats(profiler)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values()) or 1e-12
    rows = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:top]
    spots = [
        Hotspot(
            function=_name(key),
            calls=int(entry[1]),
            own_us_per_decision=entry[2] / decisions * 1e6,
            cumulative_us_per_decision=entry[3] / decisions * 1e6,
            own_share=entry[2] / total,
        )
        for key, entry in rows
    ]
    return spots, total / decisions * 1e6


def _name(key: tuple[str, int, str]) -> str:
    file, line, function = key
    if file.startswith(_ROOT):
        file = file[len(_ROOT) + 1 :]
    elif "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    return f"{file}:{line}:{function}" if line else function


def component_costs(
    requests: list[Any], events: list[Any], *, passes: int = 5
) -> list[dict[str, Any]]:
    """Unprofiled µs per call of the pieces the full check path is made of (median of passes).

    ``requests`` are pool requests (``action``, ``args``, ``now``); ``events``
    audit events the runtime produced. A piece whose API moved is reported as
    missing rather than stopping the benchmark.
    """
    import statistics
    import time
    from datetime import UTC

    pieces: list[tuple[str, Callable[[], Callable[[Any], Any]], list[Any]]] = []

    def add(name: str, make: Callable[[], Callable[[Any], Any]], inputs: list[Any]) -> None:
        pieces.append((name, make, inputs))

    actions = [r.action for r in requests]
    args = [r.args for r in requests]
    nows = [r.now for r in requests]

    def validate() -> Callable[[Any], Any]:
        from proctor.model.actions import validate_action

        return validate_action

    def normalize() -> Callable[[Any], Any]:
        from proctor.model.arguments import normalize_arguments

        return normalize_arguments

    def args_digest() -> Callable[[Any], Any]:
        from proctor.audit.canonical import digest

        return digest

    def decision_id() -> Callable[[Any], Any]:
        from proctor.clock import DecisionIds

        ids = DecisionIds()
        return lambda _: ids()

    def scopes_allow() -> Callable[[Any], Any]:
        from proctor.identity.scopes import ScopeSet

        return ScopeSet.everything().allows

    def time_fields() -> Callable[[Any], Any]:
        from proctor.policy.context import time_view

        return lambda now: time_view(now, UTC)

    def payload() -> Callable[[Any], Any]:
        return lambda event: event.to_payload()

    def chain() -> Callable[[Any], Any]:
        from proctor.audit.chain import GENESIS_HASH, chain_record

        return lambda body: chain_record(body, 1, GENESIS_HASH)

    add("src/proctor/model/actions.py:validate_action", validate, actions)
    add(
        "src/proctor/model/arguments.py:normalize_arguments (args; runtime calls it twice)",
        normalize,
        args,
    )
    add("src/proctor/audit/canonical.py:digest (args, in decision_event)", args_digest, args)
    add("src/proctor/clock.py:DecisionIds.__call__", decision_id, actions)
    add("src/proctor/identity/scopes.py:ScopeSet.allows (everything)", scopes_allow, actions)
    add("src/proctor/policy/context.py:time_view (first time.* read)", time_fields, nows)
    add("src/proctor/model/audit_event.py:AuditEvent.to_payload (writer)", payload, events)
    payloads = [event.to_payload() for event in events]
    add("src/proctor/audit/chain.py:chain_record (writer: RFC 8785 + SHA-256)", chain, payloads)

    out: list[dict[str, Any]] = []
    for name, make, inputs in pieces:
        if not inputs:
            continue
        try:
            fn = make()
            for value in inputs[:200]:
                fn(value)
            per_pass = []
            for _ in range(passes):
                start = time.perf_counter_ns()
                for value in inputs:
                    fn(value)
                per_pass.append((time.perf_counter_ns() - start) / len(inputs) / 1000)
            out.append({"function": name, "us_per_call": statistics.median(per_pass)})
        except Exception as exc:  # the engine is changing under us; report, do not stop
            out.append({"function": name, "us_per_call": None, "error": repr(exc)})
    return out
