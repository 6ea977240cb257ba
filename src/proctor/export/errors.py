"""Errors of the audit export (bad options, a sink that does not acknowledge)."""

from __future__ import annotations

from proctor.errors import ProctorError

EXPORT_INVALID_TIME = "export_invalid_time"
EXPORT_INVALID_SINK = "export_invalid_sink"
EXPORT_INVALID_CURSOR = "export_invalid_cursor"
EXPORT_SINK_FAILED = "export_sink_failed"
EXPORT_INVALID_RECORD = "export_invalid_record"
EXPORT_INVALID_RANGE = "export_invalid_range"


class ExportError(ProctorError):
    code = "export_error"
