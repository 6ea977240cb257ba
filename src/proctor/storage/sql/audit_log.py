"""The audit log's shards, tree nodes and checkpoints, stated once for SQLite and PostgreSQL.

Each writer owns one shard (a row of ``audit_shards``: its size, last chain
hash and Merkle frontier). It builds and hashes a batch's records from its
own head in memory, before touching the database; the transaction then
inserts them and moves its own shard row only if that row still holds the
head it started from. No row, lock or counter is shared by two writers, so
replicas append side by side. A shard is claimed through a lease: a writer
that stops (closed, killed) leaves its shard to the next writer to open.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from proctor.audit.chain import (
    GENESIS_HASH,
    ChainHead,
    StoredRow,
    VerifyReport,
    chain_event,
    event_columns,
    text_columns,
)
from proctor.audit.checkpoint import Checkpoint, ShardHead
from proctor.audit.errors import AuditError
from proctor.audit.log_verify import verify_log
from proctor.audit.merkle import Frontier, leaf_hash
from proctor.errors import ProctorError
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import DUPLICATE_RECORD, STORAGE_CORRUPT, StorageError
from proctor.storage.sql.dialect import Statements

LEASE_SECONDS = 30.0
_SHARD_LOCK = "proctor-audit-shards"

# Each index costs about 0.6 µs per insert; `effect` has too few values to be worth one.
_INDEXED = ("ts", "user_sub", "agent_id", "action", "run_id")


def first_audit_tables(counter: str) -> tuple[str, ...]:
    """Schema version 1 on either backend: the audit chain, its indexes and its head.

    ``counter`` is the type of ``seq``: SQLite's ``INTEGER`` (a ``PRIMARY KEY``
    of it is the rowid), PostgreSQL's ``BIGINT``. The head is one row, the last
    seq and hash, moved in the same transaction as the inserts, so rows removed
    from the end are noticed.
    """
    return (
        f"""
        CREATE TABLE audit (
            seq {counter} PRIMARY KEY,
            decision_id TEXT UNIQUE,
            ts TEXT,
            kind TEXT,
            user_sub TEXT,
            agent_id TEXT,
            action TEXT,
            effect TEXT,
            run_id TEXT,
            hash TEXT NOT NULL,
            body TEXT NOT NULL
        )
        """,
        *(f"CREATE INDEX audit_{column} ON audit ({column})" for column in _INDEXED),
        f"""
        CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq {counter} NOT NULL,
            hash TEXT NOT NULL
        )
        """,
        f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')",
    )


AUDIT_COLUMNS = (
    "shard", "position", "decision_id", "ts", "kind", "user_sub", "agent_id", "action",
    "effect", "run_id", "hash", "body", "leaf",
)  # fmt: skip
NODE_COLUMNS = ("shard", "level", "idx", "hash")
INSERT_ROW = (
    f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in AUDIT_COLUMNS)})"
)


def writer_name() -> str:
    """Who holds a shard: host, process and a random part (a restarted pid is someone else)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(slots=True)
class ShardState:
    """One shard's head as its writer keeps it: size, last chain hash, Merkle frontier."""

    shard: int
    size: int
    hash: str
    frontier: Frontier

    def copy(self) -> ShardState:
        return ShardState(self.shard, self.size, self.hash, self.frontier.copy())


@dataclass(slots=True)
class Batch:
    """Rows built and hashed outside any lock, the nodes they complete and the head after."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    nodes: list[tuple[int, int, int, bytes]] = field(default_factory=list)
    rejected: dict[int, ProctorError] = field(default_factory=dict)
    after: ShardState | None = None


def build_batch(
    state: ShardState, events: Sequence[AuditEvent], stored: set[str] | None = None
) -> Batch:
    """Chain ``events`` onto ``state`` (a copy); ids in ``stored`` or repeated are refused."""
    after = state.copy()
    batch = Batch(after=after)
    seen: set[str] = set() if stored is None else set(stored)
    for index, event in enumerate(events):
        if event.decision_id in seen:
            batch.rejected[index] = StorageError(
                f"a record with decision id `{event.decision_id}` is stored already",
                code=DUPLICATE_RECORD,
            )
            continue
        try:
            chained = chain_event(event, after.size + 1, after.hash, after.shard)
        except AuditError as exc:
            batch.rejected[index] = exc
            continue
        seen.add(event.decision_id)
        leaf = leaf_hash(chained.body)
        for level, idx, node in after.frontier.append(leaf):
            batch.nodes.append((after.shard, level, idx, node))
        after.size, after.hash = chained.seq, chained.hash
        columns = event_columns(event)
        if b"\\u0000" in chained.body:  # a NUL in some text (the body escapes it)
            columns = text_columns(columns)
        batch.rows.append(
            (after.shard, chained.seq, *columns, chained.hash,
             chained.body.decode("utf-8"), leaf)
        )  # fmt: skip
    return batch


def write_batch(st: Statements, before: ShardState, batch: Batch, owner: str, now: float) -> None:
    """Insert ``batch`` and move the shard's head, only from the head it was built on."""
    after = batch.after
    assert after is not None
    if batch.rows:
        st.insert_all("audit", AUDIT_COLUMNS, batch.rows)
    if batch.nodes:
        st.insert_all("audit_nodes", NODE_COLUMNS, batch.nodes)
    moved = st.run(
        "UPDATE audit_shards SET size = ?, hash = ?, frontier = ?, owner = ?, lease_until = ? "
        "WHERE shard = ? AND size = ? AND hash = ?",
        (after.size, after.hash, after.frontier.packed(), owner, now + LEASE_SECONDS,
         before.shard, before.size, before.hash),
    )  # fmt: skip
    if moved != 1:
        raise StorageError(
            f"the head of audit shard {before.shard} moved under its writer "
            "(another writer took the shard, or the trail was changed outside proctor)",
            code=STORAGE_CORRUPT,
            hint="run `proctor audit verify` to find the first bad record",
        )


def check_shard_end(st: Statements, state: ShardState, path: str) -> None:
    """The shard's last stored record must be the head its writer holds (else rows were removed)."""
    row = st.one(
        "SELECT position, hash FROM audit WHERE shard = ? ORDER BY position DESC LIMIT 1",
        (state.shard,),
    )
    if row is None:  # every record archived, or none yet: the shard's base
        base = st.one(
            "SELECT base_size, base_hash FROM audit_shards WHERE shard = ?", (state.shard,)
        )
        row = (0, GENESIS_HASH) if base is None else base
    last = (int(row[0]), str(row[1]))
    if last != (state.size, state.hash):
        raise StorageError(
            f"the audit head of `{path}` says record {state.size} of shard {state.shard} "
            f"but the last stored record is {last[0]}: the trail was changed outside proctor",
            code=STORAGE_CORRUPT,
            hint="run `proctor audit verify` to find the first bad record",
            details={"head": [state.size, state.hash], "last": list(last)},
        )


def claim_shard(st: Statements, owner: str, now: float) -> ShardState:
    """A shard for ``owner``: the lowest one no live writer holds, else a new one."""
    st.lock_key(_SHARD_LOCK)
    row = st.one(
        "SELECT shard, size, hash, frontier FROM audit_shards "
        "WHERE lease_until < ? OR owner = ? ORDER BY shard LIMIT 1" + st.dialect.row_lock,
        (now, owner),
    )
    if row is None:
        top = st.one("SELECT coalesce(max(shard), 0) FROM audit_shards")
        shard = int(top[0]) + 1 if top is not None else 1
        st.run(
            "INSERT INTO audit_shards (shard, owner, lease_until, size, hash, frontier) "
            "VALUES (?, ?, ?, 0, ?, ?)",
            (shard, owner, now + LEASE_SECONDS, GENESIS_HASH, b""),
        )
        return ShardState(shard, 0, GENESIS_HASH, Frontier())
    shard, size, digest, packed = int(row[0]), int(row[1]), str(row[2]), bytes(row[3])
    st.run(
        "UPDATE audit_shards SET owner = ?, lease_until = ? WHERE shard = ?",
        (owner, now + LEASE_SECONDS, shard),
    )
    return ShardState(shard, size, digest, _frontier(shard, size, packed))


def _frontier(shard: int, size: int, packed: bytes) -> Frontier:
    try:
        return Frontier.unpack(size, packed)
    except ValueError as exc:
        raise StorageError(
            f"the stored Merkle tree of audit shard {shard} is damaged: {exc}",
            code=STORAGE_CORRUPT,
            hint="run `proctor audit verify` to find the first bad record",
        ) from exc


def renew_lease(st: Statements, state: ShardState, owner: str, now: float) -> bool:
    return (
        st.run(
            "UPDATE audit_shards SET lease_until = ? WHERE shard = ? AND owner = ?",
            (now + LEASE_SECONDS, state.shard, owner),
        )
        == 1
    )


def release_shard(st: Statements, state: ShardState, owner: str) -> None:
    st.run(
        "UPDATE audit_shards SET lease_until = 0 WHERE shard = ? AND owner = ?",
        (state.shard, owner),
    )


def stored_ids(st: Statements, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        condition, params = st.dialect.among("decision_id", ids[start : start + 500])
        found.update(
            str(r[0]) for r in st.all(f"SELECT decision_id FROM audit WHERE {condition}", params)
        )
    return found


# -- reads ----------------------------------------------------------------------------------


def shard_heads(st: Statements) -> list[ShardHead]:
    """Every shard's size and Merkle root, from the stored frontiers."""
    rows = st.all("SELECT shard, size, frontier FROM audit_shards ORDER BY shard")
    return [
        ShardHead(int(shard), int(size), _frontier(int(shard), int(size), bytes(packed)).root())
        for shard, size, packed in rows
    ]


def shard_chain_heads(st: Statements) -> dict[int, tuple[int, str]]:
    rows = st.all("SELECT shard, size, hash FROM audit_shards ORDER BY shard")
    return {int(shard): (int(size), str(digest)) for shard, size, digest in rows}


def shard_bases(st: Statements) -> dict[int, tuple[int, str, bytes]]:
    """Each shard's archived prefix: its size, last hash and Merkle frontier (0 when none)."""
    rows = st.all("SELECT shard, base_size, base_hash, base_frontier FROM audit_shards")
    return {int(r[0]): (int(r[1]), str(r[2]), bytes(r[3])) for r in rows if int(r[1])}


def verify_shards(
    st: Statements, rows: Iterable[Sequence[Any]], checkpoints: Sequence[Checkpoint]
) -> VerifyReport:
    """``rows`` (every stored row, in ``seq`` order) against each shard's stored head, frontier
    and archived base, and against ``checkpoints``; ``st`` reads in the rows' snapshot."""
    heads = {shard: ChainHead(*head) for shard, head in shard_chain_heads(st).items()}
    frontiers = {
        int(shard): bytes(packed)
        for shard, packed in st.all("SELECT shard, frontier FROM audit_shards")
    }
    return verify_log(
        (StoredRow(*row) for row in rows),
        heads=heads,
        frontiers=frontiers,
        checkpoints=checkpoints,
        bases=shard_bases(st),
    )


def tree_hashes(st: Statements, shard: int, level: int, start: int, end: int) -> list[bytes]:
    if level == 0:  # the live records' leaves, and those of records moved to an archive
        rows = st.all(
            "SELECT leaf FROM (SELECT position, leaf FROM audit WHERE shard = ? AND position > ? "
            "AND position <= ? UNION ALL SELECT position, leaf FROM audit_archived_leaves "
            "WHERE shard = ? AND position > ? AND position <= ?) AS leaves ORDER BY position",
            (shard, start, end, shard, start, end),
        )
    else:
        rows = st.all(
            "SELECT hash FROM audit_nodes WHERE shard = ? AND level = ? AND idx >= ? AND idx < ? "
            "ORDER BY idx",
            (shard, level, start, end),
        )
    return [bytes(row[0]) for row in rows]


def locate(st: Statements, decision_id: str) -> tuple[int, int, str] | None:
    """``(shard, position, body)`` of a record."""
    row = st.one("SELECT shard, position, body FROM audit WHERE decision_id = ?", (decision_id,))
    return None if row is None else (int(row[0]), int(row[1]), str(row[2]))


# -- checkpoints ----------------------------------------------------------------------------


def lead_checkpoints(st: Statements, owner: str, now: float, lease: float) -> bool:
    """Take or keep the checkpointer's lease; False while another live writer holds it."""
    taken = st.run(
        "UPDATE audit_checkpointer SET owner = ?, lease_until = ? "
        "WHERE id = 1 AND (owner = ? OR lease_until < ?)",
        (owner, now + lease, owner, now),
    )
    return taken == 1


def store_checkpoint(st: Statements, number: int, time: str, size: int, note: str) -> None:
    st.run(
        "INSERT INTO audit_checkpoints (number, time, size, note) VALUES (?, ?, ?, ?)",
        (number, time, size, note),
    )


def latest_checkpoint(st: Statements) -> tuple[int, str] | None:
    row = st.one("SELECT number, note FROM audit_checkpoints ORDER BY number DESC LIMIT 1")
    return None if row is None else (int(row[0]), str(row[1]))


def checkpoint_notes(st: Statements, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
    rows = st.all(
        "SELECT number, note FROM audit_checkpoints WHERE number > ? ORDER BY number LIMIT ?",
        (after, limit),
    )
    return [(int(number), str(note)) for number, note in rows]
