"""Content scanning: PII, secrets and prompt injection in tool inputs and outputs.

Pure: scanners take text and return findings; the cascade takes an injected
timer. Loading scanners from entry points happens at the edge
(``proctor.sdk.scanning``).
"""

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
