"""Printing results: JSON for machines (``--json``), rich tables for people."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from proctor.errors import ProctorError

if TYPE_CHECKING:
    from rich.console import Console

    # made on first use (`__getattr__` below), so `--json` output never imports rich
    console: Console
    error_console: Console

EFFECT_STYLES = {"allow": "green", "deny": "red", "require_approval": "yellow"}
_CONSOLES = {"console": False, "error_console": True}  # name -> writes to stderr


def _console(name: str) -> Console:
    made: Console | None = globals().get(name)
    if made is None:
        from rich.console import Console

        made = Console(stderr=_CONSOLES[name], highlight=False, soft_wrap=True)
        globals()[name] = made
    return made


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Console:
        if name not in _CONSOLES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return _console(name)


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
        _console("error_console").print(error.render(), markup=False)
