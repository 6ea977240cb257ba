"""Where streamed records go: a file (acknowledged by fsync) or a webhook (by HTTP 2xx).

A sink takes one batch of encoded lines and returns only once the receiver
holds them; any failure raises ``ExportError``, and the stream retries the
same batch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import httpx

from proctor.export.errors import EXPORT_INVALID_SINK, EXPORT_SINK_FAILED, ExportError

BATCH_FIRST_HEADER = "X-Proctor-First-Seq"
BATCH_LAST_HEADER = "X-Proctor-Last-Seq"


class Sink(Protocol):
    def deliver(self, lines: list[bytes], first_seq: int, last_seq: int) -> None:
        """Hand over a batch; return once acknowledged, raise ``ExportError`` otherwise."""

    def close(self) -> None: ...


class FileSink:
    """Appends JSON lines to a file; a batch is acknowledged once fsync returns."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def deliver(self, lines: list[bytes], first_seq: int, last_seq: int) -> None:
        try:
            with self.path.open("ab") as handle:
                handle.write(b"".join(line + b"\n" for line in lines))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise ExportError(
                f"cannot write to `{self.path}`: {exc.strerror or exc}", code=EXPORT_SINK_FAILED
            ) from exc

    def close(self) -> None:
        return None


class WebhookSink:
    """POSTs each batch as NDJSON; any 2xx answer acknowledges it."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout)

    def deliver(self, lines: list[bytes], first_seq: int, last_seq: int) -> None:
        body = b"".join(line + b"\n" for line in lines)
        headers = {
            "Content-Type": "application/x-ndjson",
            BATCH_FIRST_HEADER: str(first_seq),
            BATCH_LAST_HEADER: str(last_seq),
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ExportError(f"`{self.url}`: {exc}", code=EXPORT_SINK_FAILED) from exc
        if not response.is_success:
            raise ExportError(
                f"`{self.url}` answered {response.status_code}", code=EXPORT_SINK_FAILED
            )

    def close(self) -> None:
        self._client.close()


def open_sink(spec: str, *, timeout: float = 10.0) -> Sink:
    """``webhook:URL`` or ``file:PATH``."""
    kind, _, target = spec.partition(":")
    if kind == "file" and target:
        return FileSink(target)
    if kind == "webhook" and target.startswith(("http://", "https://")):
        return WebhookSink(target, timeout=timeout)
    raise ExportError(
        f"unknown sink `{spec}`: use `webhook:https://host/path` or `file:PATH`",
        code=EXPORT_INVALID_SINK,
    )
