"""``proctor serve`` (the gateway) and ``proctor admin-key`` (a new admin credential)."""

from __future__ import annotations

import hashlib
import secrets

import click

from proctor.cli import options
from proctor.cli.output import json_always, print_json

ADMIN_KEY_PREFIX = "pa_"


@click.command()
@options.CONFIG
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", help="Database URL or file (default: PROCTOR_DATABASE_URL, the config's).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="TLS certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="TLS private key.")
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=256),
    help="Gateway processes on the port (default: the number of cores; 1 for an in-memory store).",
)
@options.POLICIES_FROM_STORE
@click.option("--bundle", help="Decide with a signed policy bundle: a file or an http(s) URL.")
@click.option(
    "--bundle-key", type=click.Path(exists=True, dir_okay=False), help="Its Ed25519 public key."
)
def serve(
    config: str | None,
    host: str,
    port: int,
    db: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    workers: int | None,
    policies_from_store: bool | None,
    bundle: str | None,
    bundle_key: str | None,
) -> None:
    """Run the gateway: the HTTP decision API over the same engine as the SDK."""
    from proctor.server.gateway import ServeOptions
    from proctor.server.serve import serve as run

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("give both --tls-cert and --tls-key, or neither")
    if (bundle is None) != (bundle_key is None):
        raise click.UsageError("give both --bundle and --bundle-key, or neither")
    run(
        ServeOptions(
            config=config,
            host=host,
            port=port,
            db=db,
            tls_cert=tls_cert,
            tls_key=tls_key,
            workers=workers,
            policies_from_store=policies_from_store or None,
            bundle=bundle,
            bundle_key=bundle_key,
        )
    )


@click.command("admin-key")
@click.option("--id", "key_id", default="admin", show_default=True, help="Name of the key.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=("admin",),
    show_default=True,
    help="Scope (repeatable): admin, check, audit:read, agents:write, "
    "policies:write, approvals:write.",
)
@json_always
def admin_key(key_id: str, scopes: tuple[str, ...]) -> None:
    """Print a new admin key (once) and the `server.admin_keys` entry that admits it."""
    key = ADMIN_KEY_PREFIX + secrets.token_urlsafe(32)
    print_json(
        {
            "key": key,
            "config_entry": {
                "id": key_id,
                "sha256": hashlib.sha256(key.encode()).hexdigest(),
                "scopes": list(scopes),
            },
            "note": "the key is shown once; put `config_entry` under `server.admin_keys`",
        }
    )
