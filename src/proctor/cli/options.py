"""Click options that several commands share, spelled (and documented) once."""

from __future__ import annotations

import click

CONFIG = click.option(
    "--config", "config", type=click.Path(dir_okay=False), help="proctor.yaml to load."
)
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
POLICIES_FROM_STORE = click.option(
    "--policies-from-store",
    is_flag=True,
    default=None,
    help="Decide with the store's active policy version (`proctor policy push`).",
)
