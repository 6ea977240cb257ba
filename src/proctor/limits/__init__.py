"""Limits, run ceilings and approvals: the stateful checks after the rules have decided.

Pure logic over values; state lives behind the ports in ``ports`` (filled in
by ``proctor.storage``), time and ids are passed in.
"""

from proctor.limits.approvals import Approval, ApprovalStatus, call_hash, may_approve
from proctor.limits.counters import ChargeResult, CounterCharge
from proctor.limits.errors import LimitsError
from proctor.limits.gate import Guardrails
from proctor.limits.ports import ApprovalStore, CounterStore, RunStore
from proctor.limits.runs import RunRecord

__all__ = [
    "Approval",
    "ApprovalStatus",
    "ApprovalStore",
    "ChargeResult",
    "CounterCharge",
    "CounterStore",
    "Guardrails",
    "LimitsError",
    "RunRecord",
    "RunStore",
    "call_hash",
    "may_approve",
]
