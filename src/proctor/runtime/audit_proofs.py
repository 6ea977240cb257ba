"""Proofs from a store: one record's inclusion proof, two checkpoints' consistency proof.

The CLI (``proctor audit prove``) and the gateway (``GET /v1/audit/{id}/proof``)
call these and hand out the same document; ``proctor.audit.proofs`` checks it
offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from proctor.audit.chain import VerifyReport
from proctor.audit.checkpoint import Checkpoint, ShardHead, parse_checkpoint
from proctor.audit.log_verify import checkpoint_problems
from proctor.audit.merkle import TreeReader, TreeSource, consistency_proof, inclusion_proof
from proctor.audit.note import NoteVerifier, parse_note, split_notes
from proctor.audit.proofs import consistency_document, inclusion_document
from proctor.errors import ProctorError

RECORD_NOT_FOUND = "record_not_found"
NOT_CHECKPOINTED = "audit_not_checkpointed"
CHECKPOINT_NOT_FOUND = "checkpoint_not_found"


class ProvableLog(Protocol):
    def locate(self, decision_id: str) -> tuple[int, int, str] | None: ...

    def tree_source(self, shard: int) -> TreeSource: ...

    def latest_checkpoint(self) -> tuple[int, str] | None: ...

    def checkpoint_notes(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]: ...

    def shard_heads(self) -> list[ShardHead]: ...


def checkpoint_note(store: ProvableLog, number: int | None) -> tuple[str, Checkpoint]:
    """The stored note numbered ``number`` (the latest when None) and its checkpoint."""
    if number is None:
        found = store.latest_checkpoint()
    else:
        notes = store.checkpoint_notes(after=number - 1, limit=1)
        found = notes[0] if notes and notes[0][0] == number else None
    if found is None:
        which = "no checkpoint is stored yet" if number is None else f"no checkpoint {number}"
        raise ProctorError(which, code=CHECKPOINT_NOT_FOUND, hint="run `proctor audit checkpoint`")
    return found[1], parse_checkpoint(parse_note(found[1]).text)


def prove(store: ProvableLog, decision_id: str, checkpoint: int | None = None) -> dict[str, Any]:
    """The inclusion proof of record ``decision_id`` in a stored checkpoint (the latest)."""
    located = store.locate(decision_id)
    if located is None:
        raise ProctorError(f"no record with decision id `{decision_id}`", code=RECORD_NOT_FOUND)
    shard, position, body = located
    note, signed = checkpoint_note(store, checkpoint)
    head = signed.shard(shard)
    if head is None or head.size < position:
        raise ProctorError(
            f"record `{decision_id}` is not covered by checkpoint {signed.number} yet",
            code=NOT_CHECKPOINTED,
            hint="wait for the next checkpoint (every second by default) or run "
            "`proctor audit checkpoint`",
        )
    path = inclusion_proof(TreeReader(store.tree_source(shard)), position - 1, head.size)
    return inclusion_document(
        body=body, decision_id=decision_id, shard=shard, index=position - 1,
        size=head.size, path=path, note=note,
    )  # fmt: skip


def prove_consistency(store: ProvableLog, old: int, new: int | None = None) -> dict[str, Any]:
    """The proof that checkpoint ``new`` (the latest) extends checkpoint ``old``, shard by shard."""
    old_note, older = checkpoint_note(store, old)
    new_note, newer = checkpoint_note(store, new)
    proofs: dict[int, tuple[int, int, list[bytes]]] = {}
    for head in older.shards:
        later = newer.shard(head.shard)
        if later is None or later.size < head.size:
            raise ProctorError(
                f"checkpoint {newer.number} does not cover shard {head.shard} as far as "
                f"checkpoint {older.number}",
                code="checkpoint_order",
            )
        reader = TreeReader(store.tree_source(head.shard))
        proofs[head.shard] = (
            head.size,
            later.size,
            consistency_proof(reader, head.size, later.size),
        )
    return consistency_document(old_note, new_note, proofs)


class VerifiableLog(ProvableLog, Protocol):
    def verify(self, checkpoints: Sequence[Checkpoint] = ()) -> VerifyReport: ...


def verify_witnessed(
    store: VerifiableLog, notes: str | None, verifier: NoteVerifier | None
) -> VerifyReport:
    """The store checked alone (``notes`` None), or against signed checkpoint notes.

    Every note must be signed by ``verifier``; the database must hold each of
    them unchanged (a deleted or replaced checkpoint is named), and every
    shard's records must rebuild the roots they sign.
    """
    if notes is None:
        return store.verify()
    assert verifier is not None
    given: list[Checkpoint] = []
    texts: dict[int, str] = {}
    for index, text in enumerate(split_notes(notes), start=1):
        note = parse_note(text)
        checkpoint = parse_checkpoint(note.text)
        if not note.verified_by(verifier):
            return VerifyReport(
                False, 0, None,
                f"checkpoint {checkpoint.number} (note {index} given) is not signed by the "
                f"key `{verifier.name}`: it is forged or the key is wrong",
                checkpoint=checkpoint.number,
            )  # fmt: skip
        given.append(checkpoint)
        texts[checkpoint.number] = note.text
    if not given:
        return VerifyReport(False, 0, None, "no signed checkpoint was given")
    among = checkpoint_problems(given)  # a fork or a gap among the witness's own copies first
    if among is not None:
        return VerifyReport(False, 0, None, among[1], checkpoint=among[0])
    stored = _stored_checkpoints(store)
    for number in sorted(texts):
        held = stored.get(number)
        if held is None:
            later = [n for n in stored if n > number]
            until = min(later) - 1 if later else max(texts)
            which = (
                f"checkpoint {number} is"
                if until == number
                else (f"checkpoints {number} to {until} are")
            )
            return VerifyReport(
                False, 0, None, f"signed {which} missing from the database: deleted",
                checkpoint=number,
            )  # fmt: skip
        if held != texts[number]:
            return VerifyReport(
                False, 0, None,
                f"checkpoint {number} in the database differs from the signed copy: replaced",
                checkpoint=number,
            )  # fmt: skip
    return store.verify(checkpoints=given)


def _stored_checkpoints(store: ProvableLog) -> dict[int, str]:
    found: dict[int, str] = {}
    after = 0
    while page := store.checkpoint_notes(after=after, limit=1000):
        for number, note in page:
            found[number] = parse_note(note).text
        after = page[-1][0]
    return found
