"""The runtime: the composition root between the core and the edges.

``build_runtime`` wires policies, identity, scanners, limits, storage and
telemetry from a config; ``Runtime`` is the engine every placement calls with
one ``CheckCall``; the check runs as named stages (``runtime.pipeline``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proctor._lazy import lazy_exports

if TYPE_CHECKING:
    from proctor.runtime.build import build_runtime
    from proctor.runtime.call import (
        AgentLike,
        CallFields,
        CheckCall,
        OutputCall,
        OutputFields,
        UserLike,
    )
    from proctor.runtime.engine import Runtime
    from proctor.runtime.pipeline import unrecorded

__all__ = [
    "AgentLike",
    "CallFields",
    "CheckCall",
    "OutputCall",
    "OutputFields",
    "Runtime",
    "UserLike",
    "build_runtime",
    "unrecorded",
]

# Loaded on first use: importing `CheckCall` does not import the whole engine and its wiring.
_EXPORTS = {
    "proctor.runtime.build": ("build_runtime",),
    "proctor.runtime.call": (
        "AgentLike",
        "CallFields",
        "CheckCall",
        "OutputCall",
        "OutputFields",
        "UserLike",
    ),
    "proctor.runtime.engine": ("Runtime",),
    "proctor.runtime.pipeline": ("unrecorded",),
}
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
