"""Signed checkpoints: made every N records or T seconds, stored and published to witnesses.

One process at a time makes them: the one holding the checkpointer's lease in
the store (``lead_checkpoints``); any replica takes over when the holder
stops renewing. Before signing, the checkpointer proves that every shard
extends the last checkpoint (RFC 9162 §2.1.4 from the stored tree): a log
rewritten or truncated since is never signed over, the checkpointer stops
and says why. A checkpoint is stored in the database and handed to every
witness (an append-only file, a webhook, the audit export stream), the copies
an auditor checks the database against.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from proctor.audit.checkpoint import Checkpoint, ShardHead, parse_checkpoint
from proctor.audit.errors import AUDIT_PROOF_FAILED, AuditError
from proctor.audit.merkle import TreeReader, TreeSource, consistency_proof, verify_consistency
from proctor.audit.note import NoteSigner, NoteVerifier, parse_note, sign_note
from proctor.config import CheckpointsConfig, ConfigError
from proctor.errors import ProctorError
from proctor.runtime.note_signers import CommandSigner, KeyFileSigner
from proctor.storage.sql.audit_log import writer_name

log = logging.getLogger("proctor.audit.checkpoints")


@runtime_checkable
class CheckpointLog(Protocol):
    """What the checkpointer needs of an audit store (SQLite, PostgreSQL, memory)."""

    def shard_heads(self) -> list[ShardHead]: ...

    def tree_source(self, shard: int) -> TreeSource: ...

    def latest_checkpoint(self) -> tuple[int, str] | None: ...

    def store_checkpoint(self, number: int, time: str, size: int, note: str) -> None: ...

    def lead_checkpoints(self, owner: str, now: float, lease: float) -> bool: ...


class Witness(Protocol):
    def publish(self, note: str) -> None: ...


class FileWitness:
    """Appends each checkpoint note, then a blank line, to a file (fsynced)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def publish(self, note: str) -> None:
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(note + "\n")
            file.flush()
            os.fsync(file.fileno())


class WebhookWitness:
    """POSTs each checkpoint note (``text/plain``) to a URL."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self._timeout = timeout

    def publish(self, note: str) -> None:
        import httpx  # only when a webhook witness is configured

        response = httpx.post(
            self.url, content=note.encode(), headers={"content-type": "text/plain; charset=utf-8"},
            timeout=self._timeout,
        )  # fmt: skip
        response.raise_for_status()


class LineWitness:
    """Delivers each checkpoint as one JSON line to an export sink (the audit export stream)."""

    def __init__(self, deliver: Callable[[list[bytes], int, int], None]) -> None:
        self._deliver = deliver

    def publish(self, note: str) -> None:
        checkpoint = parse_checkpoint(parse_note(note).text)
        line = json.dumps({"kind": "checkpoint", "number": checkpoint.number, "note": note})
        self._deliver([line.encode()], 0, 0)


class Checkpointer:
    """Makes checkpoints of ``store`` signed by ``signer`` under ``origin``."""

    def __init__(
        self,
        store: CheckpointLog,
        signer: NoteSigner,
        *,
        origin: str,
        clock: Callable[[], float] = time.time,
        every_records: int = 1000,
        every_seconds: float = 1.0,
        witnesses: Sequence[Witness] = (),
    ) -> None:
        self.store = store
        self.signer = signer
        self.origin = origin
        self.every_records = every_records
        self.every_seconds = every_seconds
        self.witnesses = list(witnesses)
        self.owner = writer_name()
        self.failure: ProctorError | None = None
        self._clock = clock
        self._last_made = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def due(self) -> bool:
        latest = self.store.latest_checkpoint()
        size = sum(head.size for head in self.store.shard_heads())
        last = 0 if latest is None else parse_checkpoint(parse_note(latest[1]).text).size
        if size <= last:
            return False
        return (
            size - last >= self.every_records
            or self._clock() - self._last_made >= self.every_seconds
        )

    def make(self, *, even_if_unchanged: bool = False) -> str | None:
        """Sign, store and publish a checkpoint; None when another process leads or nothing grew."""
        with self._lock:
            now = self._clock()
            if not self.store.lead_checkpoints(self.owner, now, max(10.0, 5 * self.every_seconds)):
                return None
            latest = self.store.latest_checkpoint()
            previous = None if latest is None else parse_checkpoint(parse_note(latest[1]).text)
            heads = tuple(self.store.shard_heads())
            if previous is not None:
                self._check_extends(previous, heads)
                if not even_if_unchanged and sum(h.size for h in heads) == previous.size:
                    return None
            number = 1 if previous is None else previous.number + 1
            stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            checkpoint = Checkpoint(self.origin, number, stamp, heads)
            note = sign_note(checkpoint.text(), self.signer).encode()
            self.store.store_checkpoint(number, stamp, checkpoint.size, note)
            self._last_made = now
        for witness in self.witnesses:
            try:
                witness.publish(note)
            except Exception as exc:  # a witness down must not stop checkpoints
                log.warning("checkpoint %s not published to %r: %s", number, witness, exc)
        return note

    def resign(self) -> None:
        """Give up the lease at once (a one-shot command, a replica stopping): the lease is
        renewed with an end in the past, so the next checkpointer need not wait for it."""
        self.store.lead_checkpoints(self.owner, self._clock(), -1.0)

    def _check_extends(self, previous: Checkpoint, heads: tuple[ShardHead, ...]) -> None:
        now = {head.shard: head for head in heads}
        for old in previous.shards:
            new = now.get(old.shard)
            if new is None or new.size < old.size:
                raise AuditError(
                    f"shard {old.shard} has {0 if new is None else new.size} records but "
                    f"checkpoint {previous.number} signed {old.size}: the log was truncated, "
                    "no checkpoint is signed over it",
                    code=AUDIT_PROOF_FAILED,
                )
            proof = consistency_proof(
                TreeReader(self.store.tree_source(old.shard)), old.size, new.size
            )
            if not verify_consistency(old.size, old.root, new.size, new.root, proof):
                raise AuditError(
                    f"shard {old.shard} does not extend checkpoint {previous.number}: the log "
                    "was rewritten, no checkpoint is signed over it",
                    code=AUDIT_PROOF_FAILED,
                )

    # -- the background thread -------------------------------------------------------------

    def start(self) -> Checkpointer:
        self._thread = threading.Thread(target=self._run, name="proctor-checkpointer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        if self.failure is None:
            try:
                self.make()  # the last records of this process, when this one leads
                self.resign()
            except ProctorError as exc:
                log.warning("the last checkpoint was not made: %s", exc)

    def _run(self) -> None:
        poll = min(self.every_seconds, 0.25)
        while not self._stop.wait(poll):
            try:
                if self.due():
                    self.make()
            except AuditError as exc:  # a rewritten log: stop signing, loudly
                self.failure = exc
                log.error("checkpoints stopped: %s", exc.message)
                return
            except ProctorError as exc:  # a database blip: try again at the next tick
                log.warning("checkpoint not made: %s", exc.message)


def signer_from(settings: CheckpointsConfig, base: Path) -> KeyFileSigner | CommandSigner:
    """The configured signer: ``signer_command`` with its ``public_key``, else the key file."""
    if settings.signer_command:
        if not settings.public_key:
            raise ConfigError(
                "`audit.checkpoints.signer_command` needs `public_key` (its verifier key)",
                code="config_invalid",
            )
        return CommandSigner(settings.signer_command, NoteVerifier.parse(settings.public_key))
    path = Path(settings.key_file)
    return KeyFileSigner(path if path.is_absolute() else base / path, settings.origin)


def witnesses_from(
    specs: Sequence[str], base: Path, export: Callable[[], Witness | None] = lambda: None
) -> list[Witness]:
    found: list[Witness] = []
    for spec in specs:
        if spec.startswith("file:"):
            path = Path(spec.removeprefix("file:"))
            found.append(FileWitness(path if path.is_absolute() else base / path))
        elif spec.startswith(("http://", "https://")):
            found.append(WebhookWitness(spec))
        elif spec == "export":
            witness = export()
            if witness is None:
                raise ConfigError(
                    "the witness `export` needs an `export:` section", code="config_invalid"
                )
            found.append(witness)
        else:
            raise ConfigError(
                f"unknown checkpoint witness `{spec}` (file:PATH, https://URL or export)",
                code="config_invalid",
            )
    return found


def checkpointer_from(
    store: object,
    settings: CheckpointsConfig,
    base: Path,
    *,
    export: Callable[[], Witness | None] = lambda: None,
) -> Checkpointer | None:
    """The configured checkpointer of ``store`` (None when disabled or the store keeps no tree)."""
    if not settings.enabled or not isinstance(store, CheckpointLog):
        return None
    return Checkpointer(
        store,
        signer_from(settings, base),
        origin=settings.origin,
        every_records=settings.every_records,
        every_seconds=settings.every_seconds,
        witnesses=witnesses_from(settings.witnesses, base, export),
    )
