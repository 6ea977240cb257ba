"""``proctor keys``: publish the JWKS, rotate the signing key."""

from __future__ import annotations

import click

from proctor.cli.identity_loading import identity_service
from proctor.cli.output import json_always, print_json

_CONFIG = click.option(
    "--config", "config", type=click.Path(dir_okay=False), help="proctor.yaml to load."
)


@click.group()
def keys() -> None:
    """proctor's signing keys (Ed25519, in the 0600 key file)."""


@keys.command()
@_CONFIG
@json_always
def jwks(config: str | None) -> None:
    """Print the public JWKS (RFC 7517) downstream services verify delegation tokens with."""
    service = identity_service(config)
    try:
        print_json(service.jwks())
    finally:
        service.store.close()


@keys.command()
@_CONFIG
@json_always
def rotate(config: str | None) -> None:
    """Make a new active key; the old one keeps verifying for `key_overlap_seconds`."""
    service = identity_service(config)
    try:
        fresh = service.rotate_keys()
        print_json(
            {
                "active_kid": fresh.kid,
                "published": [key["kid"] for key in service.jwks()["keys"]],
                "overlap_seconds": service.settings.key_overlap_seconds,
            }
        )
    finally:
        service.store.close()
