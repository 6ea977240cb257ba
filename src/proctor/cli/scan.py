"""``proctor scan``: findings in text read from stdin, one text or JSON lines in bulk.

``--jsonl`` reads lines ``{"id", "text", "direction"}`` and writes one line
``{"id", "findings": [...]}`` per input line; a line that is not such an object
gets ``{"id", "error": {...}}`` and the run goes on.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.markup import escape

from proctor.cli.output import console, print_json
from proctor.errors import ProctorError
from proctor.scanners import Direction, ScanResult
from proctor.sdk.scanning import default_cascade


@click.command()
@click.option(
    "--direction",
    type=click.Choice([d.value for d in Direction]),
    default=Direction.INPUT.value,
    show_default=True,
    help="input: tool arguments; output: tool results (untrusted).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option(
    "--jsonl",
    "as_jsonl",
    is_flag=True,
    help='Read lines {"id", "text", "direction"}; write {"id", "findings"} per line.',
)
def scan(direction: str, as_json: bool, as_jsonl: bool) -> None:
    """Scan text from stdin for PII, secrets and prompt injection."""
    stdin = sys.stdin.buffer
    if as_jsonl:
        _scan_lines(stdin, direction)
        return
    result = default_cascade().scan_bytes(stdin.read(), direction)
    if as_json:
        print_json({"direction": direction, **result.to_dict()})
    else:
        _print_findings(result)


def _scan_lines(stdin: Any, default_direction: str) -> None:
    cascade = default_cascade()
    for number, raw in enumerate(stdin, 1):
        if not raw.strip():
            continue
        body: dict[str, Any]
        item: Any = None
        try:
            item = json.loads(raw)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ProctorError(
                    f"line {number}: expected an object with a string `text`",
                    code="invalid_scan_input",
                )
            way = item.get("direction", default_direction)
            result = cascade.scan(item["text"], way)
            body = {"id": item.get("id"), "findings": [f.to_dict() for f in result.findings]}
        except (ValueError, ProctorError) as exc:
            error = (
                exc
                if isinstance(exc, ProctorError)
                else ProctorError(f"line {number}: not valid JSON", code="invalid_scan_input")
            )
            ident = item.get("id") if isinstance(item, dict) else None
            body = {"id": ident, "error": error.to_dict()}
        sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")


def _print_findings(result: ScanResult) -> None:
    if not result.findings:
        console.print("no findings")
        return
    for finding in result.findings:
        where = f" at {finding.path}" if finding.path else ""
        console.print(
            f"[bold]{finding.type}[/] {finding.start}-{finding.end}{escape(where)} "
            f"score {finding.score:.2f} ({finding.scanner}): {escape(finding.detail)}",
            markup=True,
            highlight=False,
        )
