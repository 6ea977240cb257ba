"""Content scanning: PII, secrets and prompt injection in tool inputs and outputs.

Pure: scanners take text and return findings; the cascade takes an injected
timer. ``scanners.loading`` builds a cascade from the ``proctor.scanners`` entry
points and a ``scanning:`` section's options; a judge behind HTTP is passed in
(``proctor.judge_http``). Applying a policy's ``scan:`` sections to a call is
the runtime's (``proctor.runtime.scanning``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proctor._lazy import lazy_exports

if TYPE_CHECKING:
    from proctor.scanners.bounds import Bounds
    from proctor.scanners.cascade import Cascade, FailMode
    from proctor.scanners.errors import ScanError
    from proctor.scanners.findings import Direction, Finding, ScanResult, StageReport
    from proctor.scanners.injection import InjectionScanner
    from proctor.scanners.pii import PiiScanner
    from proctor.scanners.scanner import ENTRY_POINT_GROUP, Scanner
    from proctor.scanners.secrets import SecretScanner

__all__ = [
    "ENTRY_POINT_GROUP",
    "Bounds",
    "Cascade",
    "Direction",
    "FailMode",
    "Finding",
    "InjectionScanner",
    "PiiScanner",
    "ScanError",
    "ScanResult",
    "Scanner",
    "SecretScanner",
    "StageReport",
]

# Loaded on first use: a runtime that never scans does not import the detectors and their libraries.
_EXPORTS = {
    "proctor.scanners.bounds": ("Bounds",),
    "proctor.scanners.cascade": ("Cascade", "FailMode"),
    "proctor.scanners.errors": ("ScanError",),
    "proctor.scanners.findings": ("Direction", "Finding", "ScanResult", "StageReport"),
    "proctor.scanners.injection": ("InjectionScanner",),
    "proctor.scanners.pii": ("PiiScanner",),
    "proctor.scanners.scanner": ("ENTRY_POINT_GROUP", "Scanner"),
    "proctor.scanners.secrets": ("SecretScanner",),
}
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
