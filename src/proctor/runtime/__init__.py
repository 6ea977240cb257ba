"""The runtime: the composition root between the core and the edges.

``build_runtime`` wires policies, identity, scanners, limits, storage and
telemetry from a config; ``Runtime`` is the engine every placement calls with
one ``CheckCall``; the check runs as named stages (``runtime.pipeline``).
"""

from proctor.runtime.build import build_runtime
from proctor.runtime.call import AgentLike, CallFields, CheckCall, UserLike
from proctor.runtime.engine import Runtime
from proctor.runtime.pipeline import unrecorded

__all__ = [
    "AgentLike",
    "CallFields",
    "CheckCall",
    "Runtime",
    "UserLike",
    "build_runtime",
    "unrecorded",
]
