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

# Loaded on first use: importing `CheckCall` does not import the whole engine and its wiring.
_EXPORTS = {
    "AgentLike": "proctor.runtime.call",
    "build_runtime": "proctor.runtime.build",
    "CallFields": "proctor.runtime.call",
    "CheckCall": "proctor.runtime.call",
    "OutputCall": "proctor.runtime.call",
    "OutputFields": "proctor.runtime.call",
    "Runtime": "proctor.runtime.engine",
    "unrecorded": "proctor.runtime.pipeline",
    "UserLike": "proctor.runtime.call",
}
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

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
