"""Inclusion and consistency proofs as documents an auditor checks offline.

An inclusion proof (``proctor audit prove``) holds the record's stored body
(the exact bytes that were hashed), its shard and leaf index, the audit path
(RFC 9162 §2.1.3) to the shard's root at the checkpoint, and the signed
checkpoint. ``verify_inclusion`` needs nothing else but the log's public key.
A consistency proof holds two checkpoints and, for every shard of the older
one, the RFC 9162 §2.1.4 proof that the shard only grew.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proctor.audit.checkpoint import Checkpoint, b64, parse_checkpoint, unb64
from proctor.audit.errors import AUDIT_BAD_NOTE, AuditError
from proctor.audit.merkle import leaf_hash, root_from_inclusion, verify_consistency
from proctor.audit.note import NoteVerifier, SignedNote, parse_note

PROOF_VERSION = 1
_MAX_PATH = 64


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The outcome of checking a proof: ``problem`` says what failed."""

    ok: bool
    problem: str | None = None
    checkpoint: Checkpoint | None = None


def inclusion_document(
    *, body: str, decision_id: str, shard: int, index: int, size: int,
    path: Sequence[bytes], note: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "v": PROOF_VERSION,
        "type": "inclusion",
        "decision_id": decision_id,
        "shard": shard,
        "leaf_index": index,
        "tree_size": size,
        "audit_path": [b64(node) for node in path],
        "body": body,
        "checkpoint": note,
    }


def consistency_document(
    old_note: str, new_note: str, proofs: Mapping[int, tuple[int, int, Sequence[bytes]]]
) -> dict[str, Any]:
    return {
        "v": PROOF_VERSION,
        "type": "consistency",
        "old": old_note,
        "new": new_note,
        "shards": [
            {"shard": shard, "old_size": old, "new_size": new, "proof": [b64(h) for h in proof]}
            for shard, (old, new, proof) in sorted(proofs.items())
        ],
    }


def signed_checkpoint(note_text: str, verifier: NoteVerifier) -> tuple[SignedNote, Checkpoint]:
    """The note parsed, its signature checked against ``verifier`` and its checkpoint read."""
    note = parse_note(note_text)
    if not note.verified_by(verifier):
        raise AuditError(
            f"the checkpoint is not signed by the key `{verifier.name}`", code=AUDIT_BAD_NOTE
        )
    return note, parse_checkpoint(note.text)


def verify_inclusion(document: Any, verifier: NoteVerifier) -> ProofCheck:
    """Check an inclusion proof document with the public key only."""
    try:
        return _verify_inclusion(document, verifier)
    except AuditError as exc:
        return ProofCheck(False, exc.message)


def _verify_inclusion(document: Any, verifier: NoteVerifier) -> ProofCheck:
    fields = _fields(document, "inclusion", ("decision_id", "shard", "leaf_index", "tree_size"))
    body, note_text, raw_path = (
        document.get("body"),
        document.get("checkpoint"),
        document.get("audit_path"),
    )
    if (
        not isinstance(body, str)
        or not isinstance(note_text, str)
        or not isinstance(raw_path, list)
    ):
        return ProofCheck(False, "the proof lacks its body, checkpoint or audit path")
    if len(raw_path) > _MAX_PATH or not all(isinstance(node, str) for node in raw_path):
        return ProofCheck(False, "the audit path is not a list of base64 hashes")
    _, checkpoint = signed_checkpoint(note_text, verifier)
    decision_id, shard, index, size = fields
    head = checkpoint.shard(shard)
    if head is None or head.size != size:
        return ProofCheck(
            False, f"checkpoint {checkpoint.number} has no shard {shard} of size {size}", checkpoint
        )
    record = _record(body)
    if record.get("decision_id") != decision_id:
        return ProofCheck(
            False, "the record's decision id is not the one the proof names", checkpoint
        )
    if record.get("seq") != index + 1 or record.get("shard", 1) != shard:
        return ProofCheck(False, "the record's position is not the one the proof names", checkpoint)
    path = [unb64(node, "an audit path hash") for node in raw_path]
    root = root_from_inclusion(leaf_hash(body.encode()), index, size, path)
    if root != head.root:
        return ProofCheck(
            False,
            f"the record is not in shard {shard} at checkpoint {checkpoint.number}: "
            "the record or its audit path was changed",
            checkpoint,
        )
    return ProofCheck(True, None, checkpoint)


def verify_consistency_document(document: Any, verifier: NoteVerifier) -> ProofCheck:
    """Check that the newer checkpoint extends the older one, shard by shard."""
    try:
        _fields(document, "consistency", ())
        old_text, new_text = document.get("old"), document.get("new")
        shards = document.get("shards")
        if (
            not isinstance(old_text, str)
            or not isinstance(new_text, str)
            or not isinstance(shards, list)
        ):
            return ProofCheck(False, "the proof lacks its checkpoints or shard proofs")
        _, old = signed_checkpoint(old_text, verifier)
        _, new = signed_checkpoint(new_text, verifier)
        proofs = {item.get("shard"): item for item in shards if isinstance(item, dict)}
        for head in old.shards:
            later = new.shard(head.shard)
            item = proofs.get(head.shard)
            if later is None or item is None:
                return ProofCheck(
                    False, f"shard {head.shard} is missing from the newer checkpoint", new
                )
            proof = [
                unb64(h, "a consistency hash")
                for h in item.get("proof") or []
                if isinstance(h, str)
            ]
            if not verify_consistency(head.size, head.root, later.size, later.root, proof):
                return ProofCheck(
                    False,
                    f"shard {head.shard} at checkpoint {new.number} does not extend "
                    f"checkpoint {old.number}: the log was rewritten",
                    new,
                )
        return ProofCheck(True, None, new)
    except AuditError as exc:
        return ProofCheck(False, exc.message)


def _fields(document: Any, kind: str, names: Sequence[str]) -> list[Any]:
    if not isinstance(document, dict) or document.get("type") != kind:
        raise AuditError(f"this is not a proctor {kind} proof", code=AUDIT_BAD_NOTE)
    if document.get("v") != PROOF_VERSION:
        raise AuditError(
            f"proof version `{document.get('v')}` is not {PROOF_VERSION}", code=AUDIT_BAD_NOTE
        )
    values = [document.get(name) for name in names]
    for name, value in zip(names, values, strict=True):
        if name != "decision_id" and (type(value) is not int or value < 0):
            raise AuditError(f"the proof's `{name}` is not a count", code=AUDIT_BAD_NOTE)
    if names and not isinstance(values[0], str):
        raise AuditError("the proof's `decision_id` is not a string", code=AUDIT_BAD_NOTE)
    return values


def _record(body: str) -> dict[str, Any]:
    try:
        record = json.loads(body)
    except ValueError as exc:
        raise AuditError("the proof's record is not JSON", code=AUDIT_BAD_NOTE) from exc
    if not isinstance(record, dict):
        raise AuditError("the proof's record is not a JSON object", code=AUDIT_BAD_NOTE)
    return record
