"""The SQLite audit schema, its migrations and the chain head kept in it.

``PRAGMA user_version`` is the schema version; ``MIGRATIONS[n]`` takes a file
from version ``n`` to ``n + 1``. ``PRAGMA application_id`` marks the file as
proctor's, so another application's database is never written into.
"""

from __future__ import annotations

import sqlite3

from proctor.audit.chain import GENESIS, GENESIS_HASH, INDEXED_COLUMNS, ChainHead
from proctor.storage.errors import STORAGE_CORRUPT, STORAGE_UNAVAILABLE, StorageError
from proctor.storage.sqlite.connection import storage_error

SCHEMA_VERSION = 1
APPLICATION_ID = 0x70726F63  # "proc"

# Each index costs about 0.6 µs per insert; `effect` has too few values to be worth one.
_INDEXED = ("ts", "user_sub", "agent_id", "action", "run_id")

_V1 = (
    """
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
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
    # One row: the last seq and hash, moved in the same transaction as the
    # inserts, so rows removed from the end are noticed.
    """
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    )
    """,
    f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1,)

# The StoredRow fields, in order.
ROW_COLUMNS = "seq, hash, body, " + ", ".join(INDEXED_COLUMNS)
INSERT_RECORD = (
    f"INSERT INTO audit (seq, {', '.join(INDEXED_COLUMNS)}, hash, body) "
    f"VALUES ({', '.join('?' * (len(INDEXED_COLUMNS) + 3))})"
)
UPDATE_HEAD = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"
SELECT_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
SELECT_LAST = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"


def migrate(conn: sqlite3.Connection, path: str) -> None:
    """Bring the file to ``SCHEMA_VERSION`` in one write transaction (which proves it writable)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = _apply_migrations(conn, path)
            if version != SCHEMA_VERSION:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise storage_error(exc, path, "creating its tables") from exc


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
    for step in MIGRATIONS[version:]:
        for statement in step:
            conn.execute(statement)
    return version


def read_head(conn: sqlite3.Connection, path: str) -> ChainHead:
    """The chain's end, from the last row, checked against the head row.

    They can disagree only if rows or the head were changed outside proctor:
    chaining on would hide that, so writing stops (``storage_corrupt``).
    """
    last_row = conn.execute(SELECT_LAST).fetchone()
    last = GENESIS if last_row is None else ChainHead(*last_row)
    head_row = conn.execute(SELECT_HEAD).fetchone()
    head = None if head_row is None else ChainHead(*head_row)
    if head != last:
        said = "is missing" if head is None else f"says record {head.seq}"
        raise StorageError(
            f"the audit head of `{path}` {said} but the last stored record is {last.seq}: "
            "the trail was changed outside proctor",
            code=STORAGE_CORRUPT,
            hint="run `proctor audit verify` to find the first bad record",
            details={"head": None if head is None else list(head), "last": list(last)},
        )
    return last


def stored_head(conn: sqlite3.Connection) -> ChainHead | None:
    """The head row as stored (None when it is missing)."""
    row = conn.execute(SELECT_HEAD).fetchone()
    return None if row is None else ChainHead(*row)
