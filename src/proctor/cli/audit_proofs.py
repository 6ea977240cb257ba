"""``proctor audit checkpoint|public-key|prove|consistency|verify-proof``: checkpoints, proofs.

``verify-proof`` needs no database and no config: the proof document and the
log's public key (the line ``proctor audit public-key`` prints) are enough.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from proctor.audit.note import NoteVerifier
from proctor.audit.proofs import verify_consistency_document, verify_inclusion
from proctor.cli.loading import audit_location
from proctor.cli.output import console, print_json
from proctor.config import DEFAULT_CONFIG_NAME, CheckpointsConfig, load_config
from proctor.errors import ProctorError

_db = click.option("--db", help="Audit database (default: the config's, else proctor.db).")
_config = click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON (on one line).")


def checkpoint_settings(config: str | None) -> tuple[CheckpointsConfig, Path]:
    """``audit.checkpoints`` of ``--config`` (or ./proctor.yaml) and the base of its paths."""
    if config or Path(DEFAULT_CONFIG_NAME).is_file():
        loaded = load_config(config or DEFAULT_CONFIG_NAME)
        return loaded.config.audit.checkpoints, loaded.base
    return CheckpointsConfig(), Path.cwd()


def verifier_for(key: str | None, config: str | None) -> NoteVerifier:
    """``--key`` (a verifier key or a file holding one), else the configured signer's key."""
    if key is not None:
        text = key if "+" in key and not Path(key).is_file() else _read(key)
        return NoteVerifier.parse(text)
    from proctor.runtime.checkpoints import signer_from

    settings, base = checkpoint_settings(config)
    return NoteVerifier(*_name_and_key(signer_from(settings, base)))


def _name_and_key(signer: Any) -> tuple[str, bytes]:
    return signer.name, signer.public_key


def _open(config: str | None, db: str | None) -> Any:
    from proctor.cli.loading import existing
    from proctor.storage import open_audit_store

    return open_audit_store(existing(audit_location(config, db)))


@click.command("public-key")
@_config
@_json
def public_key(config: str | None, as_json: bool) -> None:
    """Print the verifier key auditors check checkpoints and proofs with."""
    verifier = verifier_for(None, config)
    if as_json:
        print_json({"name": verifier.name, "key": str(verifier)})
    else:
        click.echo(str(verifier))


@click.command("checkpoint")
@_db
@_config
@_json
def checkpoint(db: str | None, config: str | None, as_json: bool) -> None:
    """Sign a checkpoint of the log now (if it grew) and print the latest one."""
    from proctor.runtime.checkpoints import Checkpointer, signer_from

    settings, base = checkpoint_settings(config)
    store = _open(config, db)
    try:
        maker = Checkpointer(store, signer_from(settings, base), origin=settings.origin)
        try:
            note = maker.make(even_if_unchanged=store.latest_checkpoint() is None)
        finally:
            maker.resign()
        if note is None:
            latest = store.latest_checkpoint()
            if latest is None:
                raise ProctorError(
                    "another process holds the checkpointer's lease", code="checkpointer_busy"
                )
            note = latest[1]
    finally:
        store.close()
    if as_json:
        from proctor.audit.checkpoint import parse_checkpoint
        from proctor.audit.note import parse_note

        made = parse_checkpoint(parse_note(note).text)
        print_json({"number": made.number, "size": made.size, "note": note})
    else:
        click.echo(note, nl=False)


@click.command("prove")
@click.argument("decision_id")
@click.option("--checkpoint", "number", type=int, help="Checkpoint number (default: the latest).")
@click.option("--output", type=click.Path(dir_okay=False), help="Write the proof to this file.")
@_db
@_config
@_json
def prove(
    decision_id: str,
    number: int | None,
    output: str | None,
    db: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Print the inclusion proof of one record: leaf index, audit path, the signed checkpoint."""
    from proctor.runtime.audit_proofs import prove as make_proof

    _proof_from_store(
        config, db, output, as_json, lambda store: make_proof(store, decision_id, number)
    )


@click.command("consistency")
@click.argument("old", type=int)
@click.argument("new", type=int, required=False)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the proof to this file.")
@_db
@_config
@_json
def consistency(
    old: int,
    new: int | None,
    output: str | None,
    db: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Print the proof that checkpoint NEW (default: the latest) extends checkpoint OLD."""
    from proctor.runtime.audit_proofs import prove_consistency

    _proof_from_store(config, db, output, as_json, lambda store: prove_consistency(store, old, new))


@click.command("verify-proof")
@click.argument("proof")
@click.option("--key", required=True, help="The log's verifier key, or a file holding it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify_proof(proof: str, key: str, as_json: bool) -> None:
    """Check a proof offline (no database): exit 0 when it holds, 1 when it does not."""
    verifier = NoteVerifier.parse(key if "+" in key and not Path(key).is_file() else _read(key))
    try:
        document = json.loads(_read(proof))
    except ValueError as exc:
        raise ProctorError(f"`{proof}` is not JSON: {exc}", code="invalid_proof") from exc
    kind = document.get("type") if isinstance(document, dict) else None
    check = (
        verify_consistency_document(document, verifier)
        if kind == "consistency"
        else verify_inclusion(document, verifier)
    )
    if as_json:
        number = None if check.checkpoint is None else check.checkpoint.number
        print_json({"ok": check.ok, "problem": check.problem, "checkpoint": number})
    elif check.ok:
        assert check.checkpoint is not None
        what = (
            f"record `{document.get('decision_id')}`"
            if kind != "consistency"
            else "the log only grew"
        )
        console.print(
            f"[green]ok[/]: {what} (checkpoint {check.checkpoint.number} of "
            f"`{check.checkpoint.origin}`, signed by {verifier.name})",
            markup=True,
            highlight=False,
        )
    else:
        console.print("[bold red]invalid[/]: ", end="")
        console.print(check.problem, markup=False)
    if not check.ok:
        raise SystemExit(1)


def _proof_from_store(
    config: str | None,
    db: str | None,
    output: str | None,
    compact: bool,
    make: Callable[[Any], dict[str, Any]],
) -> None:
    store = _open(config, db)
    try:
        document = make(store)
    finally:
        store.close()
    _emit(document, output, compact=compact)


def _emit(document: dict[str, Any], output: str | None, *, compact: bool = False) -> None:
    text = json.dumps(document, indent=None if compact else 2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(source, timeout=10.0)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ProctorError(f"cannot fetch `{source}`: {exc}", code="fetch_failed") from exc
        return response.text
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProctorError(f"cannot read `{source}`: {exc}", code="file_unreadable") from exc


read_source = _read
