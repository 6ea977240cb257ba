"""``proctor db migrate``: bring a database's schema to this version of proctor."""

from __future__ import annotations

import os

import click

from proctor.cli.loading import audit_location
from proctor.cli.output import json_always, print_json


@click.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.option("--db", "url", help="Database URL or file (default: PROCTOR_DATABASE_URL, config).")
@click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
@json_always
def migrate(url: str | None, config: str | None) -> None:
    """Apply the schema migrations not yet applied (safe to run from several replicas)."""
    location = url or os.environ.get("PROCTOR_DATABASE_URL") or audit_location(config, None)
    if location.startswith(("postgresql://", "postgres://")):
        from proctor.storage.postgres.connection import migrate as apply
        from proctor.storage.postgres.connection import open_pool

        pool = open_pool(location, max_size=1, migrate_schema=False)
        try:
            version = apply(pool)
        finally:
            pool.close()
        print_json({"database": "postgresql", "schema_version": version})
        return
    from proctor.storage import open_audit_store
    from proctor.storage.sqlite.schema import SCHEMA_VERSION
    from proctor.storage.state import open_state_stores

    open_audit_store(location).close()  # opening migrates the audit tables
    open_state_stores(location).close()  # and creates the state tables
    print_json({"database": "sqlite", "path": location, "schema_version": SCHEMA_VERSION})
