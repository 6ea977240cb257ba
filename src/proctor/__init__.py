"""proctor: decide, before the tool runs, whether an agent's tool call may go ahead.

Quick use::

    import proctor

    guard = proctor.Proctor.from_config("proctor.yaml", agent="support-bot")
    decision = guard.check("write:email")
    decision.allowed, decision.reason

``proctor.check(...)`` uses a default instance built from ``$PROCTOR_CONFIG``
or ``./proctor.yaml`` (see ``configure``); without either, every call is denied.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from proctor.errors import ProctorError
from proctor.model import Agent, Decision, Effect, Tier, User
from proctor.sdk import (
    ActionDenied,
    ApprovalRequired,
    OutputWithheld,
    Proctor,
    ProctorClient,
    Session,
    ToolCallBlocked,
    governed_tool,
)
from proctor.sdk.runs import RunSession
from proctor.sdk.scanning import scan

__version__ = "0.1.0"

_default: Proctor | None = None
_default_lock = threading.Lock()


def configure(path: str | Path | None = None, *, agent: str | None = None) -> Proctor:
    """Build the default instance used by ``proctor.check`` from a config file."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        target = path or os.environ.get("PROCTOR_CONFIG") or "proctor.yaml"
        _default = Proctor.from_config(target, agent=agent or os.environ.get("PROCTOR_AGENT"))
        return _default


def check(action: str, **kwargs: Any) -> Decision:
    """``Proctor.check`` on the default instance; denies when proctor is not configured."""
    instance = _default
    if instance is None:
        target = os.environ.get("PROCTOR_CONFIG") or "proctor.yaml"
        if not Path(target).is_file():
            return Decision(
                Effect.DENY,
                f"proctor is not configured: no `{target}`; call `proctor.configure(path)` first",
                code="not_configured",
            )
        instance = configure(target)
    return instance.check(action, **kwargs)


def session(**kwargs: Mapping[str, Any] | str | None) -> Session:
    instance = _default or configure()
    return instance.session(**kwargs)  # type: ignore[arg-type]


def run(run_id: str, **kwargs: Any) -> RunSession:
    """``Proctor.run`` on the default instance: ``with proctor.run("task-7", user="alice"):``."""
    instance = _default or configure()
    return instance.run(run_id, **kwargs)


__all__ = [
    "ActionDenied",
    "Agent",
    "ApprovalRequired",
    "Decision",
    "Effect",
    "OutputWithheld",
    "Proctor",
    "ProctorClient",
    "ProctorError",
    "Session",
    "Tier",
    "ToolCallBlocked",
    "User",
    "check",
    "configure",
    "governed_tool",
    "run",
    "scan",
    "session",
]
