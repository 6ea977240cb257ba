"""Printing results: JSON for machines (``--json``), rich tables for people."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

from proctor.errors import ProctorError

EFFECT_STYLES = {"allow": "green", "deny": "red", "require_approval": "yellow"}

console = Console(highlight=False, soft_wrap=True)
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


# `--json` on a command that prints JSON whatever: accepted, so every data command takes it
json_always = click.option(
    "--json", is_flag=True, expose_value=False, help="Print JSON (this command always does)."
)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def styled_effect(effect: str) -> str:
    style = EFFECT_STYLES.get(effect, "white")
    return f"[bold {style}]{effect}[/]"


def report_error(error: ProctorError, *, as_json: bool) -> None:
    if as_json:
        sys.stderr.write(json.dumps({"error": error.to_dict()}, ensure_ascii=False) + "\n")
    else:
        error_console.print(error.render(), markup=False)
