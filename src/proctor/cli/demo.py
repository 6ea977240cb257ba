"""``proctor demo``: the customer-service scenario from ``examples/``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import click

from proctor.errors import ProctorError

_EXAMPLE = Path("customer_service") / "scenario.py"


def locate_example() -> Path:
    """The scenario script: shipped inside the package, or in the source checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_examples" / _EXAMPLE, package.parents[1] / "examples" / _EXAMPLE):
        if candidate.is_file():
            return candidate
    raise ProctorError("the demo scenario is not installed", code="demo_missing")


def load_scenario() -> ModuleType:
    path = locate_example()
    spec = importlib.util.spec_from_file_location("proctor_demo_scenario", path)
    if spec is None or spec.loader is None:
        raise ProctorError(f"cannot load the demo from `{path}`", code="demo_missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@click.command()
@click.option(
    "--db", default="proctor-demo.db", show_default=True, help="Audit database for the demo."
)
def demo(db: str) -> None:
    """Run the e-commerce customer-service scenario and verify its audit trail."""
    scenario = load_scenario()
    if not scenario.run(db):
        raise SystemExit(1)
