"""Retention: move a period's oldest records to a self-verifying archive, out of the live store.

An archive is a directory: ``records.jsonl`` (each record's shard, position,
hash and stored body, in order), ``checkpoints.txt`` (every signed checkpoint
so far, as a witness keeps them) and ``manifest.json``, written last: per
shard the archived range, the chain hash and Merkle frontier at both ends,
and the RFC 9162 consistency proof from the archived prefix to the latest
signed checkpoint, which the manifest holds too. ``verify_archive`` checks it
all with the public key alone. Only records a signed checkpoint covers are
archived; the live store then keeps each shard's base (size, hash, frontier)
and the archived leaf hashes, and verifies from there.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from proctor.audit.chain import GENESIS_HASH
from proctor.audit.checkpoint import b64, unb64
from proctor.audit.errors import AUDIT_PROOF_FAILED, AuditError
from proctor.audit.merkle import (
    Frontier,
    TreeReader,
    TreeSource,
    consistency_proof,
    leaf_hash,
    verify_consistency,
)
from proctor.audit.note import NoteVerifier
from proctor.audit.proofs import ProofCheck, signed_checkpoint
from proctor.errors import ProctorError
from proctor.runtime.audit_proofs import checkpoint_note

ARCHIVE_VERSION = 1
_PAGE = 10_000
Base = tuple[int, str, bytes]


class ArchivableLog(Protocol):
    def latest_checkpoint(self) -> tuple[int, str] | None: ...

    def checkpoint_notes(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]: ...

    def tree_source(self, shard: int) -> TreeSource: ...

    def archive_bases(self) -> dict[int, Base]: ...

    def archive_cut(self, shard: int, before: str, covered: int) -> int: ...

    def archived_rows(self, shard: int, after: int, upto: int) -> list[tuple[Any, ...]]: ...

    def remove_archived(self, cuts: dict[int, tuple[Base, Base]]) -> None: ...


def archive(
    store: ArchivableLog, before: str, output: Path, verifier: NoteVerifier
) -> dict[str, Any]:
    """Write the archive of records older than ``before`` to ``output``, then remove them."""
    before = record_time(before)
    if not hasattr(store, "archive_cut"):
        raise ProctorError(
            "archiving needs a SQLite or PostgreSQL store", code="archive_unsupported"
        )
    note, _ = checkpoint_note(store, None)  # type: ignore[arg-type]
    _, checkpoint = signed_checkpoint(note, verifier)
    if output.exists() and any(output.iterdir()):
        raise ProctorError(f"`{output}` is not empty", code="archive_exists")
    output.mkdir(parents=True, exist_ok=True)
    bases = store.archive_bases()
    shards: dict[str, Any] = {}
    cuts: dict[int, tuple[Base, Base]] = {}
    with open(output / "records.jsonl", "w", encoding="utf-8") as records:
        for head in checkpoint.shards:
            base = bases.get(head.shard, (0, GENESIS_HASH, b""))
            cut = store.archive_cut(head.shard, before, head.size)
            if cut <= base[0]:
                continue
            end = _copy_shard(store, head.shard, base, cut, records)
            proof = consistency_proof(TreeReader(store.tree_source(head.shard)), cut, head.size)
            if not verify_consistency(cut, end.root(), head.size, head.root, proof):
                raise AuditError(
                    f"shard {head.shard}'s records do not lead to checkpoint {checkpoint.number}: "
                    "nothing is archived from a log that fails verification",
                    code=AUDIT_PROOF_FAILED,
                )
            shards[str(head.shard)] = {
                "from": base[0], "from_hash": base[1], "from_frontier": b64(base[2]),
                "to": cut, "to_hash": end.last, "to_frontier": b64(end.packed()),
                "checkpoint_size": head.size, "consistency": [b64(h) for h in proof],
            }  # fmt: skip
            cuts[head.shard] = (base, (cut, end.last, end.packed()))
        _sync(records)
    _write_checkpoints(store, output / "checkpoints.txt")
    manifest = {"v": ARCHIVE_VERSION, "before": before, "checkpoint": note, "shards": shards}
    with open(output / "manifest.json", "w", encoding="utf-8") as file:
        file.write(json.dumps(manifest, indent=1) + "\n")
        _sync(file)
    store.remove_archived(cuts)  # only once the archive is on disk
    return {"archived": {shard: item["to"] - item["from"] for shard, item in shards.items()}}


class _ShardEnd:
    """A shard's Merkle frontier and last record hash, as its records are read in order."""

    def __init__(self, shard: int, frontier: Frontier, last: str) -> None:
        self.shard, self.frontier, self.last = shard, frontier, last

    @property
    def size(self) -> int:
        return self.frontier.size

    def root(self) -> bytes:
        return self.frontier.root()

    def packed(self) -> bytes:
        return self.frontier.packed()

    def follow(self, position: int, digest: str, body: str) -> None:
        """Take the next record, checked against its hash and the record before it."""
        self.last = _check_link(self.shard, position, digest, body, self.last)
        self.frontier.append(leaf_hash(body.encode()))


def _copy_shard(store: ArchivableLog, shard: int, base: Base, cut: int, records: Any) -> _ShardEnd:
    """Copy ``shard``'s records from ``base`` up to ``cut`` into ``records``, checking each."""
    end = _ShardEnd(shard, Frontier.unpack(base[0], base[2]), base[1])
    for start in range(base[0], cut, _PAGE):
        for position, digest, body in store.archived_rows(shard, start, min(cut, start + _PAGE)):
            end.follow(int(position), str(digest), str(body))
            line = {"shard": shard, "position": int(position), "hash": digest, "body": body}
            records.write(json.dumps(line, ensure_ascii=False) + "\n")
    if end.size != cut:
        raise AuditError(f"shard {shard} lacks records before {cut}", code=AUDIT_PROOF_FAILED)
    return end


def _write_checkpoints(store: ArchivableLog, path: Path) -> None:
    """Every signed checkpoint so far, one note after another, as a witness keeps them."""
    with open(path, "w", encoding="utf-8") as notes:
        after = 0
        while page := store.checkpoint_notes(after=after, limit=1000):
            notes.writelines(text + "\n" for _, text in page)
            after = page[-1][0]
        _sync(notes)


def verify_archive(directory: Path, verifier: NoteVerifier) -> ProofCheck:
    """Check an archive with the public key alone: chains, trees, their tie to the checkpoint."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("v") != ARCHIVE_VERSION:
            return ProofCheck(False, "the manifest is not a proctor archive manifest")
        _, checkpoint = signed_checkpoint(str(manifest.get("checkpoint")), verifier)
        ends: dict[int, _ShardEnd] = {}
        for key, item in manifest["shards"].items():
            shard = int(key)
            start = Frontier.unpack(int(item["from"]), unb64(item["from_frontier"], "a frontier"))
            ends[shard] = _ShardEnd(shard, start, str(item["from_hash"]))
        misread = _follow_records(directory / "records.jsonl", ends)
        if misread is not None:
            return ProofCheck(False, misread)
        for key, item in manifest["shards"].items():
            shard = int(key)
            end = ends[shard]
            head = checkpoint.shard(shard)
            proof = [unb64(h, "a consistency hash") for h in item["consistency"]]
            if (
                end.size != int(item["to"])
                or end.last != item["to_hash"]
                or b64(end.packed()) != item["to_frontier"]
            ):
                return ProofCheck(
                    False,
                    f"shard {shard}: the records do not end where the manifest says",
                    checkpoint,
                )
            if head is None or not verify_consistency(
                end.size, end.root(), head.size, head.root, proof
            ):
                return ProofCheck(
                    False,
                    f"shard {shard}: the records do not lead to checkpoint {checkpoint.number}",
                    checkpoint,
                )
        return ProofCheck(True, None, checkpoint)
    except AuditError as exc:
        return ProofCheck(False, exc.message)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return ProofCheck(False, f"the archive is unreadable: {exc}")


def _follow_records(path: Path, ends: dict[int, _ShardEnd]) -> str | None:
    """Read the archived records into their shards' ``ends``; what is wrong, or None."""
    with open(path, encoding="utf-8") as records:
        for number, text in enumerate(records, start=1):
            line = json.loads(text)
            shard = int(line["shard"])
            end = ends.get(shard)
            if end is None:
                return f"line {number} names shard {shard}, not in the manifest"
            if int(line["position"]) != end.size + 1:
                return f"line {number}: record {line['position']} of shard {shard} is misplaced"
            end.follow(end.size + 1, str(line["hash"]), str(line["body"]))
    return None


def record_time(text: str) -> str:
    """An ISO 8601 time as records write theirs (UTC, microseconds, ``Z``), so they compare."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ProctorError(f"`{text}` is not an ISO 8601 time", code="invalid_time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_link(shard: int, position: int, digest: str, body: str, previous: str) -> str:
    """The record's hash after checking it is its body's and that it follows ``previous``."""
    if hashlib.sha256(body.encode()).hexdigest() != digest:
        raise AuditError(f"record {position} of shard {shard} was edited", code=AUDIT_PROOF_FAILED)
    record = json.loads(body)
    if (
        record.get("prev_hash") != previous
        or record.get("seq") != position
        or record.get("shard", 1) != shard
    ):
        raise AuditError(
            f"record {position} of shard {shard} does not follow the record before it",
            code=AUDIT_PROOF_FAILED,
        )
    return digest


def _sync(file: Any) -> None:
    file.flush()
    os.fsync(file.fileno())
