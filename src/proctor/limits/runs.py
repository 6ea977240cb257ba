"""Runs: one agent task, its ceilings and the counters that enforce them.

A run's tool calls, cost and repeated identical calls are counters that never
reset (``windows.FOREVER``), charged in the same atomic step as the limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proctor.limits.counters import CounterCharge, PlannedCharge, read_amount
from proctor.limits.windows import FOREVER, WindowPosition
from proctor.model.limits import RunCeilings
from proctor.model.request import CheckRequest
from proctor.model.runs import RunRecord

__all__ = ["RUN_CEILING", "RUN_LOOP", "RunRecord", "plan_run"]

_FOREVER = WindowPosition(0, FOREVER, 0.0)
RUN_CEILING = "run_ceiling"
RUN_LOOP = "run_loop"


def plan_run(
    ceilings: RunCeilings, request: CheckRequest, run_id: str, fingerprint: str
) -> list[PlannedCharge]:
    """The charges a call makes against its run's ceilings; may raise ``InvalidAmount``."""
    planned: list[PlannedCharge] = []
    prefix = f"run|{run_id}"
    if ceilings.max_tool_calls is not None:
        planned.append(
            _forever(
                f"{prefix}|calls",
                1.0,
                ceilings.max_tool_calls,
                f"run `{run_id}` ceiling of {ceilings.max_tool_calls} tool calls",
                RUN_CEILING,
            )
        )
    if ceilings.max_cost is not None:
        cost = _cost(request, ceilings)
        planned.append(
            _forever(
                f"{prefix}|cost",
                cost,
                ceilings.max_cost,
                f"run `{run_id}` cost ceiling of {ceilings.max_cost:g}",
                RUN_CEILING,
            )
        )
    if ceilings.max_identical_calls is not None:
        planned.append(
            _forever(
                f"{prefix}|same|{fingerprint}",
                1.0,
                ceilings.max_identical_calls,
                f"run `{run_id}` loop guard: at most {ceilings.max_identical_calls} identical "
                f"`{request.action}` calls",
                RUN_LOOP,
            )
        )
    return planned


def _cost(request: CheckRequest, ceilings: RunCeilings) -> float:
    source = request.evaluated_args if ceilings.cost_path[0] == "args" else request.context
    leaf: Any = source
    for part in ceilings.cost_path[1:]:
        if not isinstance(leaf, Mapping) or part not in leaf:
            return 0.0  # a call that reports no cost costs nothing
        leaf = leaf[part]
    return read_amount(request, ceilings.cost_path)


def _forever(key: str, amount: float, ceiling: float, label: str, code: str) -> PlannedCharge:
    charge = CounterCharge(key, 0, FOREVER, amount, float(ceiling))
    return PlannedCharge(charge, label, None, _FOREVER, code)
