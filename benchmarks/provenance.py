"""Cost of provenance tracking on one core: recording a tool output, tainting a call.

Run with ``python -m benchmarks.provenance``. Targets (content-scanning issue):
``add_untrusted`` on a 2 KB text under 1 ms; ``taint_of`` on a 10-argument call
a few microseconds when nothing was recorded, under 200 us otherwise. A
``sum(range(1000))`` calibration is printed so numbers from a busy machine can
be scaled.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

from proctor.scanners.candidates import extract
from proctor.scanners.provenance import ProvenanceLedger, Source

SOURCE = Source("read_file", "dec-1", "2026-03-02T10:00:00+00:00")
EMAIL = (
    "Hi Emma, please find the invoice attached. Pay $1,250.00 to IBAN DE89 3704 0044 0532 "
    "0130 00 by 2024-03-15. Contact mark.black-2134@gmail.com or +1 202-555-0143, see "
    "https://www.secure-systemupdate.com/login and the file /home/u/report.pdf. Regards. "
)
PROSE = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. "
)
ARGS: dict[str, Any] = {
    "recipient": "mark.black-2134@gmail.com",
    "iban": "US133000000121212121212",
    "amount": 100.5,
    "subject": "Music streaming",
    "date": "2022-04-01",
    "recurring": False,
    "body": "Hello, as discussed here is the summary of the meeting.",
    "cc": ["a@b.com"],
    "url": "https://example.com/x",
    "note": "thanks",
}


def email_text(size: int = 2048) -> str:
    return (EMAIL + PROSE * (size // len(PROSE) + 1))[:size]


def json_text(size: int = 2048) -> str:
    rows = [
        {
            "id": i,
            "sender": "DE89370400440532013000",
            "recipient": "CH9300762011623852957",
            "amount": 100.0 + i,
            "subject": "Pizza party",
            "date": f"2022-01-{i % 28 + 1:02d}",
        }
        for i in range(size // 60)
    ]
    return json.dumps(rows)[:size]


def percentiles(run: Callable[[], object], iterations: int) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    for _ in range(min(100, iterations)):
        run()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def recorder(text: str) -> Callable[[], None]:
    def record() -> None:
        ProvenanceLedger().add_untrusted(text, SOURCE)

    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    options = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    calibration, _ = percentiles(lambda: sum(range(1000)), options.iterations)
    print(f"calibration: sum(range(1000)) p50 {calibration:.1f} us")

    def report(name: str, run: Callable[[], object]) -> None:
        p50, p99 = percentiles(run, options.iterations)
        print(f"  {name:<48} p50 {p50:8.1f} us  p99 {p99:8.1f} us")

    for label, text in (("2 KB email-like text", email_text()), ("2 KB JSON rows", json_text())):
        report(f"add_untrusted, {label}", recorder(text))
    report("taint_of, 10 args, nothing recorded", lambda: ProvenanceLedger().taint_of(ARGS))
    ledger = ProvenanceLedger()
    for batch in range(40):
        ledger.add_untrusted(json_text().replace("22", str(batch)), SOURCE)
    ledger.add_untrusted(email_text(), SOURCE)
    ledger.add_trusted("send it to a@b.com")
    print(
        f"  ledger: {ledger.sizes()[1]} untrusted values; tainted: {sorted(ledger.taint_of(ARGS))}"
    )
    report("taint_of, 10 args, repeated values", lambda: ledger.taint_of(ARGS))

    def first_sight() -> object:
        extract._extract_short.cache_clear()
        return ledger.taint_of(ARGS)

    report("taint_of, 10 args, first sight of each value", first_sight)


if __name__ == "__main__":
    main()
