"""A run as every run store keeps it: one agent task, started once and ended once.

Pure data shared by ``proctor.limits`` (run ceilings, run owners) and the
storage backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    started_at: datetime
    agent: str
    user: str | None = None
    ended_at: datetime | None = None
