"""Where records go when a store cannot take them: JSON lines beside the database, else stderr.

A record for a call that was allowed must never be lost. When a batch cannot be
written, its payloads are appended here, one JSON object per line:
``{"spill": {"code": ..., "reason": ...}, "record": {...payload...}}``. If the
spill file cannot be written either, the same lines go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO


class SpillFile:
    """Appends payloads that could not be stored to ``path`` (or ``stream`` when that fails)."""

    def __init__(self, path: str | None, *, stream: TextIO | None = None) -> None:
        self.path = path
        self._stream = stream

    def write(self, payloads: Iterable[dict[str, Any]], *, code: str, reason: str) -> str:
        """Spill ``payloads``; returns where they went (the file path or ``"stderr"``)."""
        lines = [_line(payload, code, reason) for payload in payloads]
        if not lines:
            return self.path or "stderr"
        text = "".join(lines)
        if self.path is not None:
            try:
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                return self.path
            except OSError as exc:
                text = f"proctor: cannot write the audit spill file `{self.path}` ({exc})\n" + text
        stream = self._stream if self._stream is not None else sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            pass  # nowhere left to write; the failure itself is on the store
        return "stderr"


def _line(payload: dict[str, Any], code: str, reason: str) -> str:
    entry: dict[str, Any] = {"spill": {"code": code, "reason": reason}, "record": payload}
    # ASCII and repr() so that any payload, even one that broke the encoder, is written.
    try:
        return json.dumps(entry, sort_keys=True, ensure_ascii=True, default=repr) + "\n"
    except (ValueError, TypeError, RecursionError):  # a cycle, or keys json cannot sort
        entry["record"] = repr(payload)
        return json.dumps(entry, sort_keys=True, ensure_ascii=True) + "\n"
