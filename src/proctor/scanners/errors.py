"""Errors of the scanners package: a scanner set that cannot be built or run as asked.

A finding is never an error: it is a ``Finding`` in a ``ScanResult``.
"""

from __future__ import annotations

from proctor.errors import ProctorError

INVALID_DIRECTION = "invalid_scan_direction"
INVALID_SCANNER = "invalid_scanner"
SCANNER_LOAD_FAILED = "scanner_load_failed"
SCANNER_UNAVAILABLE = "scanner_unavailable"
INVALID_SCANNER_OPTIONS = "invalid_scanner_options"
JUDGE_FAILED = "judge_failed"
INVALID_MODEL = "invalid_scanner_model"


class ScanError(ProctorError):
    """A scan asked for in a way that cannot be done; ``code`` says why."""

    code = "scan_error"
