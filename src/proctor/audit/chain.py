"""The audit hash chain: each record commits to the one before it.

A stored record is the event's payload plus two chain fields, ``seq`` (1, 2,
3... with no gaps) and ``prev_hash`` (the previous record's ``hash``, or
``GENESIS_HASH`` for the first). The stored ``body`` is the RFC 8785 (JCS)
encoding of that record, and its ``hash`` is the hex SHA-256 of exactly those
bytes, kept beside the body (so ``sha256sum`` of a body checks it, and a record
is encoded once).

Editing a record breaks its own hash; removing, inserting or reordering
records breaks a ``prev_hash`` link or the run of ``seq``; removing records
from the end is caught against a head (``ChainHead``: the last seq and hash)
kept apart from the rows. Whoever can rewrite the rows *and* the head can
still forge a consistent chain: signed checkpoints over a ``ChainHead`` are
the planned answer, and ``verify_chain(..., head=...)`` is where they plug in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from proctor.audit.canonical import canonical_json
from proctor.audit.errors import AUDIT_INVALID_RECORD, AuditError

GENESIS_HASH = "0" * 64

# Columns a store keeps beside the body so it can index them; verify checks
# each against the body, so editing a column alone is caught too.
INDEXED_COLUMNS = (
    "decision_id",
    "ts",
    "kind",
    "user_sub",
    "agent_id",
    "action",
    "effect",
    "run_id",
)


class ChainHead(NamedTuple):
    """The end of a chain: the last record's ``seq`` and ``hash`` (``0`` and genesis when empty).

    This pair is what a signed checkpoint will sign.
    """

    seq: int
    hash: str


GENESIS = ChainHead(0, GENESIS_HASH)


@dataclass(frozen=True, slots=True)
class ChainedRecord:
    """A payload placed in the chain: ``body`` is the RFC 8785 encoding of the full record."""

    seq: int
    prev_hash: str
    hash: str
    body: bytes

    @property
    def head(self) -> ChainHead:
        return ChainHead(self.seq, self.hash)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A record as a store holds it: the body and the indexed columns copied out of it."""

    seq: int
    hash: str
    body: bytes | str
    decision_id: str | None = None
    ts: str | None = None
    kind: str | None = None
    user_sub: str | None = None
    agent_id: str | None = None
    action: str | None = None
    effect: str | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What ``verify_chain`` found: ``problem`` says what is wrong, ``first_bad_seq`` where."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    last: ChainHead = GENESIS


def chain_record(payload: Mapping[str, Any], seq: int, prev_hash: str) -> ChainedRecord:
    """Place ``payload`` at ``seq`` after the record whose hash is ``prev_hash``."""
    if "seq" in payload or "prev_hash" in payload or "hash" in payload:
        raise AuditError(
            "an audit payload cannot set the chain fields `seq`, `prev_hash` or `hash`",
            code=AUDIT_INVALID_RECORD,
        )
    record = dict(payload)
    record["seq"] = seq
    record["prev_hash"] = prev_hash
    body = canonical_json(record)
    return ChainedRecord(seq, prev_hash, hashlib.sha256(body).hexdigest(), body)


def indexed_columns(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values of ``INDEXED_COLUMNS`` for a payload or record, in that order."""
    user = record.get("user")
    agent = record.get("agent")
    return (
        record.get("decision_id"),
        record.get("ts"),
        record.get("kind"),
        user.get("sub") if isinstance(user, dict) else None,
        agent.get("id") if isinstance(agent, dict) else None,
        record.get("action"),
        record.get("effect"),
        record.get("run_id"),
    )


def stored_row(chained: ChainedRecord, payload: Mapping[str, Any]) -> StoredRow:
    """The row a store keeps for ``chained``, the record made from ``payload``."""
    return StoredRow(chained.seq, chained.hash, chained.body, *indexed_columns(payload))


def verify_chain(
    rows: Iterable[StoredRow],
    *,
    head: ChainHead | tuple[int, str] | None = None,
    start: ChainHead = GENESIS,
) -> VerifyReport:
    """Check ``rows`` (in ``seq`` order) and stop at the first problem.

    ``start`` is the record before the first row (genesis for a whole chain;
    a verified checkpoint to check only what follows it). ``head``, when given,
    is where the chain must end: without it, records removed from the end go
    unnoticed. Reads one row at a time, so any length verifies in constant memory.
    """
    last = start
    checked = 0
    for row in rows:
        problem = _row_problem(row, last)
        if problem is not None:
            bad_seq, text = problem
            return VerifyReport(False, checked, bad_seq, text, last)
        checked += 1
        last = ChainHead(row.seq, row.hash)
    if head is not None:
        problem = _head_problem(last, ChainHead(*head))
        if problem is not None:
            bad_seq, text = problem
            return VerifyReport(False, checked, bad_seq, text, last)
    return VerifyReport(True, checked, last=last)


def _row_problem(row: StoredRow, previous: ChainHead) -> tuple[int, str] | None:
    seq = row.seq
    expected = previous.seq + 1
    if seq > expected:
        return expected, _gap(previous.seq, seq)
    if seq < expected:
        return seq, f"record {seq} comes after record {previous.seq}: rows are out of order"
    body = row.body.encode("utf-8") if isinstance(row.body, str) else row.body
    if hashlib.sha256(body).hexdigest() != row.hash:
        return seq, f"record {seq} was edited: its hash does not match its content"
    try:
        record = json.loads(body)
    except ValueError:
        return seq, f"record {seq} is unreadable: its content is not JSON"
    if not isinstance(record, dict):
        return seq, f"record {seq} is unreadable: its content is not a JSON object"
    if record.get("prev_hash") != previous.hash:
        return seq, (
            f"record {seq} does not follow record {previous.seq}: "
            "prev_hash mismatch (inserted or reordered)"
        )
    if record.get("seq") != seq:
        return seq, f"column `seq` of record {seq} disagrees with its content"
    stored = (
        row.decision_id, row.ts, row.kind, row.user_sub,
        row.agent_id, row.action, row.effect, row.run_id,
    )  # fmt: skip
    for name, column, content in zip(INDEXED_COLUMNS, stored, indexed_columns(record), strict=True):
        if column != content:
            return seq, f"column `{name}` of record {seq} disagrees with its content"
    return None


def _gap(before: int, after: int) -> str:
    first, last = before + 1, after - 1
    which = f"record {first} is" if first == last else f"records {first} to {last} are"
    where = f"the chain starts at {after}" if before == 0 else f"gap between {before} and {after}"
    return f"{which} missing ({where})"


def _head_problem(last: ChainHead, head: ChainHead) -> tuple[int, str] | None:
    if last.seq < head.seq:
        return last.seq + 1, (
            f"the chain ends at {last.seq} but the head says {head.seq}: "
            "records were removed from the end"
        )
    if last.seq > head.seq:
        return head.seq + 1, (
            f"the chain goes on past the head at {head.seq} to {last.seq}: "
            "records were added without moving the head"
        )
    if last.hash != head.hash:
        return last.seq, (
            f"record {last.seq} is not the record the head names: its hash differs "
            "(the chain was rewritten)"
        )
    return None
