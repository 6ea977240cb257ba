"""``proctor demo``: the customer-service scenario from ``examples/``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import click

from proctor.errors import ProctorError

_EXAMPLE = Path("customer_service") / "scenario.py"
_DELEGATION_EXAMPLE = Path("sales_assistant") / "scenario.py"


def locate_example(example: Path = _EXAMPLE) -> Path:
    """The scenario script: shipped inside the package, or in the source checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_examples" / example, package.parents[1] / "examples" / example):
        if candidate.is_file():
            return candidate
    raise ProctorError("the demo scenario is not installed", code="demo_missing")


def load_scenario(example: Path = _EXAMPLE) -> ModuleType:
    path = locate_example(example)
    spec = importlib.util.spec_from_file_location(f"proctor_demo_{path.parent.name}", path)
    if spec is None or spec.loader is None:
        raise ProctorError(f"cannot load the demo from `{path}`", code="demo_missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@click.command()
@click.option(
    "--db",
    default="proctor-demo.db",
    show_default=True,
    help="Audit database for the demo (a relative path is the current directory's).",
)
def demo(db: str) -> None:
    """Run the e-commerce customer-service scenario and verify its audit trail.

    A second part shows delegation: two users, one agent, scoped tokens; the last
    signs a checkpoint of the trail and proves one decision offline.
    """
    # a relative file is the current directory's, never the installed examples' folder
    if "://" not in db and not db.startswith(":"):
        db = str(Path(db).resolve())
    scenario = load_scenario()
    if not scenario.run(db):
        raise SystemExit(1)
    click.echo("\npart 2: delegation tokens (RFC 8693 token exchange)\n")
    if not load_scenario(_DELEGATION_EXAMPLE).run(db):
        raise SystemExit(1)
    from proctor.cli.demo_proof import checkpoint_and_prove

    click.echo("\npart 3: a signed checkpoint, and one decision proven offline (RFC 9162)\n")
    if not checkpoint_and_prove(db):
        raise SystemExit(1)
