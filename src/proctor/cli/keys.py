"""``proctor keys``: publish the JWKS, rotate the signing key."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from proctor.cli import options
from proctor.cli.identity_loading import identity_service
from proctor.cli.output import json_always, print_json

if TYPE_CHECKING:
    from proctor.runtime.identity import IdentityService

_T = TypeVar("_T")


@click.group()
def keys() -> None:
    """proctor's signing keys (Ed25519, in the 0600 key file)."""


@keys.command()
@options.CONFIG
@json_always
def jwks(config: str | None) -> None:
    """Print the public JWKS (RFC 7517) downstream services verify delegation tokens with."""
    print_json(_with_service(config, lambda service: service.jwks()))


@keys.command()
@options.CONFIG
@json_always
def rotate(config: str | None) -> None:
    """Make a new active key; the old one keeps verifying for `key_overlap_seconds`."""
    print_json(_with_service(config, _rotated))


def _rotated(service: IdentityService) -> dict[str, Any]:
    fresh = service.rotate_keys()
    return {
        "active_kid": fresh.kid,
        "published": [key["kid"] for key in service.jwks()["keys"]],
        "overlap_seconds": service.settings.key_overlap_seconds,
    }


def _with_service(config: str | None, act: Callable[[IdentityService], _T]) -> _T:
    service = identity_service(config)
    try:
        return act(service)
    finally:
        service.store.close()
