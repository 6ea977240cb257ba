"""The audit hash chain: each record commits to the one before it in its shard.

A stored record is the event's payload plus the chain fields ``seq`` (1, 2,
3... with no gaps within its shard), ``prev_hash`` (the previous record's
``hash`` in the shard, or ``GENESIS_HASH`` for the first) and ``shard`` (the
writer's log; records without it belong to shard 1). The stored ``body`` is
the RFC 8785 (JCS) encoding of that record, and its ``hash`` is the hex
SHA-256 of exactly those bytes, kept beside the body (so ``sha256sum`` of a
body checks it, and a record is encoded once). The same body is the shard's
Merkle tree leaf (``proctor.audit.merkle``).

Editing a record breaks its own hash; removing, inserting or reordering
records breaks a ``prev_hash`` link or the run of ``seq``; removing records
from the end is caught against a head (``ChainHead``: the last seq and hash)
kept apart from the rows. Whoever can rewrite the rows *and* the head can
still forge a consistent chain: signed checkpoints (``proctor.audit.checkpoint``)
catch that, checked by ``proctor.audit.log_verify``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from proctor.audit.canonical import RecordShape, canonical_json
from proctor.audit.errors import AUDIT_INVALID_RECORD, AuditError
from proctor.model.audit_event import AUDIT_VERSION, AuditEvent

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


class ChainedRecord(NamedTuple):
    """A payload placed in the chain: ``body`` is the RFC 8785 encoding of the full record.

    A tuple, not a frozen dataclass: one is made for every record written, and a
    tuple is built in one step instead of a guarded assignment per field.
    """

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
    shard: int = 1
    position: int | None = None  # seq within the shard; None: equal to ``seq`` (one shard)

    @property
    def shard_seq(self) -> int:
        return self.seq if self.position is None else self.position


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What ``verify_chain`` found: ``problem`` says what is wrong, ``first_bad_seq`` where.

    ``first_bad_seq`` is the position in ``first_bad_shard``; ``shards`` holds
    each shard's last verified record.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    last: ChainHead = GENESIS
    first_bad_shard: int | None = None
    shards: Mapping[int, ChainHead] | None = None
    checkpoint: int | None = None  # the signed checkpoint that disagrees, when one does


def chain_record(
    payload: Mapping[str, Any], seq: int, prev_hash: str, shard: int | None = None
) -> ChainedRecord:
    """Place ``payload`` at ``seq`` of ``shard`` after the record whose hash is ``prev_hash``."""
    if "seq" in payload or "prev_hash" in payload or "hash" in payload or "shard" in payload:
        raise AuditError(
            "an audit payload cannot set the chain fields `seq`, `prev_hash`, `hash` or `shard`",
            code=AUDIT_INVALID_RECORD,
        )
    record = dict(payload)
    record["seq"] = seq
    record["prev_hash"] = prev_hash
    if shard is not None:
        record["shard"] = shard
    body = canonical_json(record)
    return ChainedRecord(seq, prev_hash, hashlib.sha256(body).hexdigest(), body)


# An event's record by what its fields hold: text (or None), and lists of text (most
# often empty), checked in one pass; the rest looked into. The chain fields are the
# chain's own int and hex.
_EVENT_TEXT = (
    "v", "kind", "decision_id", "ts", "trace_id", "run_id", "action", "resource",
    "args_digest", "effect", "reason", "code", "result_digest", "seq", "prev_hash",
)  # fmt: skip
_EVENT_LISTS = ("delegation", "rule_ids", "effective_scopes", "diagnostics")
_EVENT_NESTED = ("user", "agent", "args", "shadow", "latency_us", "extra")
_EVENT_RECORD = RecordShape(_EVENT_TEXT, _EVENT_NESTED, _EVENT_LISTS)
_SHARDED_EVENT_RECORD = RecordShape((*_EVENT_TEXT, "shard"), _EVENT_NESTED, _EVENT_LISTS)
# The fields ``to_payload`` turns into lists; orjson and RFC 8785 print a tuple alike.
_EVENT_SEQUENCES = itemgetter(*_EVENT_LISTS)
_SEQUENCE_TYPES = frozenset((tuple, list))
_EVENT_FIELDS = len(fields(AuditEvent))


def chain_event(
    event: AuditEvent, seq: int, prev_hash: str, shard: int | None = None
) -> ChainedRecord:
    """``chain_record(event.to_payload(), seq, prev_hash, shard)``, the same bytes.

    The record is the event's own fields (no payload, no copy of it), encoded
    with the event's shape known (``RecordShape``). An event whose fields are
    not what ``AuditEvent`` declares goes through ``to_payload``, as before.
    """
    own = vars(event)
    if (
        type(event) is not AuditEvent
        or len(own) != _EVENT_FIELDS
        or not _SEQUENCE_TYPES.issuperset(map(type, _EVENT_SEQUENCES(own)))
    ):
        return chain_record(event.to_payload(), seq, prev_hash, shard)
    record = own.copy()
    record["v"] = AUDIT_VERSION
    record["seq"] = seq
    record["prev_hash"] = prev_hash
    if shard is None:
        body = _EVENT_RECORD.canonical_json(record)
    else:
        record["shard"] = shard
        body = _SHARDED_EVENT_RECORD.canonical_json(record)
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


def event_columns(event: AuditEvent) -> tuple[Any, ...]:
    """``indexed_columns(event.to_payload())``, read from the event's own fields."""
    return indexed_columns(vars(event) if type(event) is AuditEvent else event.to_payload())


def column_text(value: str) -> str:
    """``value`` as a text column takes it: PostgreSQL refuses a NUL in text (and a failed
    insert would fail the whole batch), so a NUL becomes U+FFFD there; the hashed body
    keeps the exact text, and verify accepts either form."""
    return value.replace("\x00", "\ufffd")


def text_columns(columns: tuple[Any, ...]) -> tuple[Any, ...]:
    """``column_text`` of each text in ``columns``."""
    return tuple(column_text(value) if isinstance(value, str) else value for value in columns)


def stored_row(chained: ChainedRecord, columns: tuple[Any, ...]) -> StoredRow:
    """The row a store keeps for ``chained`` and its record's ``columns`` (``event_columns``
    of its event, or ``indexed_columns`` of its payload)."""
    return StoredRow(chained.seq, chained.hash, chained.body, *columns)


# Called with each row that passed and its parsed record; a (position, problem) stops the check.
RowCheck = Callable[[StoredRow, dict[str, Any]], "tuple[int, str] | None"]


def verify_chain(
    rows: Iterable[StoredRow],
    *,
    head: ChainHead | tuple[int, str] | None = None,
    start: ChainHead = GENESIS,
    heads: Mapping[int, ChainHead] | None = None,
    check: RowCheck | None = None,
    starts: Mapping[int, ChainHead] | None = None,
) -> VerifyReport:
    """Check ``rows`` (each shard's in ``seq`` order) and stop at the first problem.

    ``start`` is the record before shard 1's first row (genesis for a whole
    chain; a verified point to check only what follows it). ``head`` (shard 1)
    or ``heads`` (by shard), when given, is where each chain must end: without
    it, records removed from the end go unnoticed. ``starts`` (by shard) are the
    last records moved to an archive, where those shards' rows begin. ``check`` sees every row
    that passed (the Merkle and checkpoint checks plug in there). Reads one row
    at a time, so any length verifies in constant memory.
    """
    lasts: dict[int, ChainHead] = {}
    first = {1: start, **(starts or {})}
    last = start
    checked = 0
    for row in rows:
        shard = row.shard
        previous = lasts.get(shard) or first.get(shard, GENESIS)
        problem, record = _row_problem(row, previous)
        if problem is None and check is not None and record is not None:
            problem = check(row, record)
        if problem is not None:
            bad_seq, text = problem
            return VerifyReport(False, checked, bad_seq, text, last, shard, lasts)
        checked += 1
        last = lasts[shard] = ChainHead(row.shard_seq, row.hash)
    wanted = dict(heads or {})
    if head is not None:
        wanted[1] = ChainHead(*head)
    for shard in sorted(wanted):
        end = lasts.get(shard) or first.get(shard, GENESIS)
        problem = _head_problem(end, ChainHead(*wanted[shard]), shard)
        if problem is not None:
            bad_seq, text = problem
            return VerifyReport(False, checked, bad_seq, text, last, shard, lasts)
    if heads is not None:
        for shard in sorted(set(lasts) - set(wanted)):
            return VerifyReport(
                False, checked, 1, f"shard {shard} has records but no head: the trail was changed",
                last, shard, lasts,
            )  # fmt: skip
    return VerifyReport(True, checked, last=last, shards=lasts)


def _name(shard: int, seq: int) -> str:
    return f"record {seq}" if shard == 1 else f"record {seq} of shard {shard}"


def _row_problem(
    row: StoredRow, previous: ChainHead
) -> tuple[tuple[int, str] | None, dict[str, Any] | None]:
    seq = row.shard_seq
    shard = row.shard
    expected = previous.seq + 1
    if seq > expected:
        return (expected, _gap(previous.seq, seq, shard)), None
    if seq < expected:
        after = _name(shard, previous.seq)
        return (seq, f"{_name(shard, seq)} comes after {after}: rows are out of order"), None
    body = row.body.encode("utf-8") if isinstance(row.body, str) else row.body
    if hashlib.sha256(body).hexdigest() != row.hash:
        return (seq, f"{_name(shard, seq)} was edited: its hash does not match its content"), None
    try:
        record = orjson.loads(body)
    except ValueError:
        return (seq, f"{_name(shard, seq)} is unreadable: its content is not JSON"), None
    if not isinstance(record, dict):
        return (seq, f"{_name(shard, seq)} is unreadable: its content is not a JSON object"), None
    if record.get("prev_hash") != previous.hash:
        return (seq, (
            f"{_name(shard, seq)} does not follow {_name(shard, previous.seq)}: "
            "prev_hash mismatch (inserted or reordered)"
        )), None  # fmt: skip
    if record.get("seq") != seq:
        return (seq, f"column `seq` of {_name(shard, seq)} disagrees with its content"), None
    if record.get("shard", 1) != shard:
        return (seq, f"column `shard` of {_name(shard, seq)} disagrees with its content"), None
    stored = (
        row.decision_id, row.ts, row.kind, row.user_sub,
        row.agent_id, row.action, row.effect, row.run_id,
    )  # fmt: skip
    content = indexed_columns(record)
    if stored != content and stored != text_columns(content):
        for name, column, value in zip(INDEXED_COLUMNS, stored, content, strict=True):
            if column != value:
                return (
                    seq,
                    f"column `{name}` of {_name(shard, seq)} disagrees with its content",
                ), None
    return None, record


def _gap(before: int, after: int, shard: int) -> str:
    first, last = before + 1, after - 1
    which = f"record {first} is" if first == last else f"records {first} to {last} are"
    if shard != 1:
        which = which.replace(" is", f" of shard {shard} is").replace(
            " are", f" of shard {shard} are"
        )
    where = f"the chain starts at {after}" if before == 0 else f"gap between {before} and {after}"
    return f"{which} missing ({where})"


def _head_problem(last: ChainHead, head: ChainHead, shard: int = 1) -> tuple[int, str] | None:
    where = "the chain" if shard == 1 else f"the chain of shard {shard}"
    if last.seq < head.seq:
        return last.seq + 1, (
            f"{where} ends at {last.seq} but the head says {head.seq}: "
            "records were removed from the end"
        )
    if last.seq > head.seq:
        return head.seq + 1, (
            f"{where} goes on past the head at {head.seq} to {last.seq}: "
            "records were added without moving the head"
        )
    if last.hash != head.hash:
        return last.seq, (
            f"{_name(shard, last.seq)} is not the record the head names: its hash differs "
            "(the chain was rewritten)"
        )
    return None
