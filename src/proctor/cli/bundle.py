"""``proctor policy bundle keygen|build``: signed policy bundles for ``serve --bundle``."""

from __future__ import annotations

import os
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from proctor.cli import options
from proctor.cli.output import console, print_json
from proctor.errors import ProctorError
from proctor.policy import load_policies
from proctor.policy.bundle import build_bundle


@click.group()
def bundle() -> None:
    """Signed policy bundles: build them where the signing key is, serve them anywhere."""


@bundle.command()
@click.option("--private", "private_path", required=True, type=click.Path(dir_okay=False))
@click.option("--public", "public_path", required=True, type=click.Path(dir_okay=False))
@options.AS_JSON
def keygen(private_path: str, public_path: str, as_json: bool) -> None:
    """Write a new Ed25519 signing key (0600) and its public half (for --bundle-key)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private)
    Path(public_path).write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    if as_json:
        print_json({"private": private_path, "public": public_path})
    else:
        console.print(f"signing key: {private_path}; public key: {public_path}", markup=False)


@bundle.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False))
@options.AS_JSON
def build(paths: tuple[str, ...], key_path: str, output: str, as_json: bool) -> None:
    """Compile PATHS (refusing any error) and write them as a bundle signed with KEY."""
    compiled = load_policies(paths)
    try:
        key = load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except ValueError as exc:
        raise ProctorError(
            f"cannot read the signing key: {exc}", code="bundle_key_invalid"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ProctorError("the signing key is not Ed25519", code="bundle_key_invalid")
    sources = [(Path(source.file).name, source.text) for source in compiled.sources]
    Path(output).write_bytes(build_bundle(sources, key))
    if as_json:
        print_json(
            {"output": output, "digest": compiled.digest, "policies": len(compiled.policies)}
        )
    else:
        console.print(f"{output}: {compiled.digest}", markup=False)
