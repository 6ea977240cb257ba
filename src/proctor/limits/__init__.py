"""Limits, run ceilings and approvals: the stateful checks after the rules have decided.

Pure logic over values; state lives behind the counter, run and approval
contracts of ``proctor.storage.contracts`` (filled in by the storage
backends), time and ids are passed in.
"""

from proctor.limits.approvals import Approval, ApprovalStatus, call_hash, may_approve
from proctor.limits.counters import ChargeResult, CounterCharge
from proctor.limits.errors import LimitsError
from proctor.limits.gate import Guardrails
from proctor.limits.runs import RunRecord

__all__ = [
    "Approval",
    "ApprovalStatus",
    "ChargeResult",
    "CounterCharge",
    "Guardrails",
    "LimitsError",
    "RunRecord",
    "call_hash",
    "may_approve",
]
