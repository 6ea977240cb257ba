"""The gateway's checkpointer: started with the app, stopped (after a last checkpoint) with it.

Settings come from ``audit.checkpoints``; without a config file the defaults
hold and the key file sits beside the SQLite database. An in-memory trail
gets no checkpoints (nothing outlives the process to check them against).
The ``export`` witness sends each checkpoint down the ``export:`` sink.
"""

from __future__ import annotations

from pathlib import Path

from proctor.config import CheckpointsConfig, LoadedConfig
from proctor.export.sinks import open_sink
from proctor.runtime import Runtime
from proctor.runtime.checkpoints import Checkpointer, LineWitness, Witness, checkpointer_from
from proctor.storage.memory import MemoryAuditStore


def start_checkpoints(runtime: Runtime, config: LoadedConfig | None) -> Checkpointer | None:
    store = runtime.audit
    if isinstance(store, MemoryAuditStore):
        return None
    if config is not None:
        settings, base = config.config.audit.checkpoints, config.base
    else:
        where = getattr(store, "path", None)
        settings = CheckpointsConfig()
        base = Path(where).parent if isinstance(where, str) else Path.cwd()

    def export() -> Witness | None:
        section = None if config is None else config.config.export
        if config is None or section is None:
            return None
        spec = section.sink
        if spec.startswith("file:"):
            spec = "file:" + str(config.resolve(spec.removeprefix("file:")))
        return LineWitness(open_sink(spec, timeout=section.timeout).deliver)

    checkpointer = checkpointer_from(store, settings, base, export=export)
    return None if checkpointer is None else checkpointer.start()
