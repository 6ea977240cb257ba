"""The SQLite audit schema, its migrations and the shards' heads kept in it.

``PRAGMA user_version`` is the schema version; ``MIGRATIONS[n]`` takes a file
from version ``n`` to ``n + 1``. ``PRAGMA application_id`` marks the file as
proctor's, so another application's database is never written into.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from proctor.audit.chain import GENESIS_HASH, INDEXED_COLUMNS
from proctor.audit.merkle import Frontier, leaf_hash
from proctor.storage.errors import STORAGE_CORRUPT, STORAGE_UNAVAILABLE, StorageError
from proctor.storage.sql.audit_log import first_audit_tables
from proctor.storage.sqlite.connection import immediate

SCHEMA_VERSION = 2
APPLICATION_ID = 0x70726F63  # "proc"

_V1 = first_audit_tables("INTEGER")

# 2: shards (one per writer) with their Merkle trees, and signed checkpoints.
# ``seq`` stays the row's place in the file (the read cursor); ``position`` is
# its place in its shard's chain and tree; ``leaf`` its RFC 9162 leaf hash.
_V2 = (
    "ALTER TABLE audit ADD COLUMN shard INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE audit ADD COLUMN position INTEGER",
    "ALTER TABLE audit ADD COLUMN leaf BLOB",
    "UPDATE audit SET position = seq",
    "CREATE UNIQUE INDEX audit_shard_position ON audit (shard, position)",
    f"""
    CREATE TABLE audit_shards (
        shard INTEGER PRIMARY KEY,
        owner TEXT,
        lease_until REAL NOT NULL DEFAULT 0,
        size INTEGER NOT NULL,
        hash TEXT NOT NULL,
        frontier BLOB NOT NULL,
        base_size INTEGER NOT NULL DEFAULT 0,
        base_hash TEXT NOT NULL DEFAULT '{GENESIS_HASH}',
        base_frontier BLOB NOT NULL DEFAULT x''
    )
    """,
    # leaf hashes of records moved to an archive: proofs of later records still need them
    """
    CREATE TABLE audit_archived_leaves (
        shard INTEGER NOT NULL,
        position INTEGER NOT NULL,
        leaf BLOB NOT NULL,
        PRIMARY KEY (shard, position)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE audit_nodes (
        shard INTEGER NOT NULL,
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (shard, level, idx)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE audit_checkpoints (
        number INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        size INTEGER NOT NULL,
        note TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE audit_checkpointer (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        owner TEXT,
        lease_until REAL NOT NULL DEFAULT 0
    )
    """,
    "INSERT INTO audit_checkpointer (id, owner, lease_until) VALUES (1, NULL, 0)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2)

# The StoredRow fields, in order.
ROW_COLUMNS = "seq, hash, body, " + ", ".join(INDEXED_COLUMNS) + ", shard, position"


def migrate(conn: sqlite3.Connection, path: str) -> None:
    """Bring the file to ``SCHEMA_VERSION`` in one write transaction (which proves it writable)."""
    with immediate(conn, path, "creating its tables"):
        version = _apply_migrations(conn, path)
        if version != SCHEMA_VERSION:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _apply_migrations(conn: sqlite3.Connection, path: str) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    application = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if application not in (0, APPLICATION_ID) or (
        version == 0 and conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    ):
        raise StorageError(
            f"`{path}` is a SQLite database of another application, not a proctor audit trail",
            code=STORAGE_CORRUPT,
            hint="point the audit store at a new file",
        )
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"the audit database `{path}` has schema version {version}, "
            f"newer than this proctor's {SCHEMA_VERSION}",
            code=STORAGE_UNAVAILABLE,
            hint="upgrade proctor",
        )
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in step:
            conn.execute(statement)
        after = _AFTER.get(number)
        if after is not None:
            after(conn)
    return version


def _shard_one_from_chain(conn: sqlite3.Connection) -> None:
    """Version 1 had one chain: it becomes shard 1, its leaves and tree nodes computed once."""
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    frontier = Frontier()
    rows = conn.execute("SELECT seq, body FROM audit ORDER BY seq").fetchall()
    for seq, body in rows:
        leaf = leaf_hash(body.encode("utf-8"))
        conn.execute("UPDATE audit SET leaf = ? WHERE seq = ?", (leaf, seq))
        for level, idx, node in frontier.append(leaf):
            conn.execute(
                "INSERT INTO audit_nodes (shard, level, idx, hash) VALUES (1, ?, ?, ?)",
                (level, idx, node),
            )
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    size, digest = (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))
    if head is None or (int(head[0]), str(head[1])) != (size, digest) or size != frontier.size:
        raise StorageError(
            "the audit head disagrees with the stored records, so the trail cannot be "
            "upgraded to signed checkpoints: it was changed outside proctor",
            code=STORAGE_CORRUPT,
            hint="keep a copy of the file and verify it with the proctor that wrote it",
        )
    conn.execute(
        "INSERT INTO audit_shards (shard, owner, lease_until, size, hash, frontier) "
        "VALUES (1, NULL, 0, ?, ?, ?)",
        (size, digest, frontier.packed()),
    )
    conn.execute("DROP TABLE audit_head")


_AFTER: dict[int, Callable[[sqlite3.Connection], None]] = {2: _shard_one_from_chain}
