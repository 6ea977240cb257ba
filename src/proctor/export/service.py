"""The ``export:`` section at work: a background stream while ``proctor serve`` runs."""

from __future__ import annotations

import logging
import threading
from importlib.metadata import PackageNotFoundError, version

from proctor.config import ExportConfig, LoadedConfig
from proctor.errors import ProctorError
from proctor.export.sinks import Sink, open_sink
from proctor.export.stream import AuditStream, Cursor
from proctor.storage.contracts import AuditStore

log = logging.getLogger("proctor.export")


class ExportService:
    """Follows the audit store and delivers new records until ``stop``."""

    def __init__(self, stream: AuditStream, sink: Sink, interval: float) -> None:
        self.stream = stream
        self._sink = sink
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name="proctor-export", daemon=True)

    def start(self) -> ExportService:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in hand; what is not acknowledged is sent after the restart."""
        self.stream.stop()
        self._thread.join(timeout)
        self._sink.close()

    def _run(self) -> None:
        while not self.stream.stopping.is_set():
            try:
                self.stream.follow(self._interval)
            except ProctorError as exc:  # a store that cannot be read now, or a stop mid-retry
                if not self.stream.stopping.is_set():
                    log.warning("audit export: %s", exc.message)
                self.stream.stopping.wait(self._interval)


def start_export(store: AuditStore, config: LoadedConfig | None) -> ExportService | None:
    """The running export the config asks for, or None without an ``export:`` section."""
    settings: ExportConfig | None = config.config.export if config is not None else None
    if config is None or settings is None:
        return None
    spec = settings.sink
    if spec.startswith("file:"):  # relative to the config file, like every path in it
        spec = "file:" + str(config.resolve(spec.removeprefix("file:")))
    sink = open_sink(spec, timeout=settings.timeout)
    stream = AuditStream(
        store,
        sink,
        Cursor(config.resolve(settings.cursor)),
        form=settings.format,
        batch=settings.batch,
        product_version=_product_version(),
    )
    return ExportService(stream, sink, settings.interval).start()


def _product_version() -> str:
    try:
        return version("proctor")
    except PackageNotFoundError:
        return "0"
