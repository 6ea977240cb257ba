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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from proctor._lazy import lazy_exports
from proctor.errors import ProctorError

if TYPE_CHECKING:
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
    from proctor.sdk.session import RunFields, SessionFields

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

# `import proctor` (and so every `proctor` command) stays cheap: the SDK, its HTTP
# client and the scanners load when a name below is first used.
_EXPORTS = {
    "proctor.model": ("Agent", "Decision", "Effect", "Tier", "User"),
    "proctor.sdk.client": ("Proctor",),
    "proctor.sdk.errors": ("ActionDenied", "ApprovalRequired", "OutputWithheld", "ToolCallBlocked"),
    "proctor.sdk.governed": ("governed_tool",),
    "proctor.sdk.remote": ("ProctorClient",),
    "proctor.sdk.runs": ("RunSession",),
    "proctor.sdk.scanning": ("scan",),
    "proctor.sdk.session": ("Session",),
}
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

__version__ = "0.1.0"

_default: Proctor | None = None
_default_lock = threading.Lock()


def configure(path: str | Path | None = None, *, agent: str | None = None) -> Proctor:
    """Build the default instance used by ``proctor.check`` from a config file."""
    global _default
    from proctor.sdk.client import Proctor

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
            from proctor.model import Decision, Effect

            return Decision(
                Effect.DENY,
                f"proctor is not configured: no `{target}`; call `proctor.configure(path)` first",
                code="not_configured",
            )
        instance = configure(target)
    return instance.check(action, **kwargs)


def session(**fields: Unpack[SessionFields]) -> Session:
    instance = _default or configure()
    return instance.session(**fields)


def run(run_id: str, **fields: Unpack[RunFields]) -> RunSession:
    """``Proctor.run`` on the default instance: ``with proctor.run("task-7", user="alice"):``."""
    instance = _default or configure()
    return instance.run(run_id, **fields)
