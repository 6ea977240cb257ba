"""Pools, error translation and the versioned migrations.

Every store opens a small ``psycopg_pool.ConnectionPool``; psycopg errors
become ``StorageError`` here (``raise ... from exc``), never past this package.
Migrations are numbered; ``proctor_schema_version`` records the applied
version and ``migrate`` applies the rest under a transaction-scoped advisory
lock, so replicas starting together migrate once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from proctor.audit.merkle import Frontier, leaf_hash
from proctor.storage.errors import (
    STORAGE_CORRUPT,
    STORAGE_TIMEOUT,
    STORAGE_UNAVAILABLE,
    StorageError,
)
from proctor.storage.postgres.deadlines import (
    OPERATION_SECONDS,
    DeadlineExpired,
    bounded,
    check_within_bound,
    connection_options,
)
from proctor.storage.sql.approvals import APPROVALS_TABLES
from proctor.storage.sql.audit_log import first_audit_tables
from proctor.storage.sql.dialect import POSTGRES, Dialect, Statements
from proctor.storage.sql.policy_sets import POLICY_TABLES
from proctor.storage.sql.runs import RUNS_TABLE

_MIGRATION_LOCK = 0x70726F63  # "proc"


def _shard_one_from_chain(conn: psycopg.Connection[Any]) -> None:
    """The one chain of earlier versions becomes shard 1, its leaves and tree nodes computed."""
    frontier = Frontier()
    last: tuple[int, str] = (0, "0" * 64)
    with conn.cursor(name="proctor_migrate") as rows:
        for seq, digest, body in rows.execute("SELECT seq, hash, body FROM audit ORDER BY seq"):
            leaf = leaf_hash(str(body).encode("utf-8"))
            conn.execute("UPDATE audit SET leaf = %s WHERE seq = %s", (leaf, seq))
            for level, idx, node in frontier.append(leaf):
                conn.execute(
                    "INSERT INTO audit_nodes (shard, level, idx, hash) VALUES (1, %s, %s, %s)",
                    (level, idx, node),
                )
            last = (int(seq), str(digest))
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    if head is None or (int(head[0]), str(head[1])) != last or last[0] != frontier.size:
        raise StorageError(
            "the audit head disagrees with the stored records, so the trail cannot be "
            "upgraded to signed checkpoints: it was changed outside proctor",
            code=STORAGE_CORRUPT,
        )
    conn.execute(
        "INSERT INTO audit_shards (shard, owner, lease_until, size, hash, frontier) "
        "VALUES (1, NULL, 0, %s, %s, %s)",
        (last[0], last[1], frontier.packed()),
    )
    conn.execute("DROP TABLE audit_head")


Step = str | Callable[[psycopg.Connection[Any]], None]

MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    first_audit_tables("BIGINT"),  # 1: the audit chain and its head
    (  # 2: counters, runs, approvals
        """
        CREATE TABLE limit_counters (
            key TEXT NOT NULL,
            window_start BIGINT NOT NULL,
            window_seconds BIGINT NOT NULL,
            total DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (key, window_start)
        )
        """,
        RUNS_TABLE,
        *APPROVALS_TABLES,
    ),
    (  # 3: agents, credentials, revoked tokens
        """
        CREATE TABLE identity_agents (
            id TEXT PRIMARY KEY,
            role TEXT,
            tier TEXT NOT NULL,
            owner TEXT,
            tags TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )
        """,
        """
        CREATE TABLE identity_credentials (
            agent_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            key_id TEXT NOT NULL,
            digest TEXT,
            public_jwk TEXT,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT,
            PRIMARY KEY (kind, key_id)
        )
        """,
        """
        CREATE TABLE identity_revoked_tokens (
            jti TEXT PRIMARY KEY,
            expires_at BIGINT NOT NULL,
            reason TEXT NOT NULL
        )
        """,
    ),
    (  # 4: what each run has seen (provenance), shared by the replicas
        """
        CREATE TABLE provenance_values (
            run_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            trusted SMALLINT NOT NULL,
            tool TEXT,
            call TEXT,
            at TEXT,
            created DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (run_id, value, kind, trusted)
        )
        """,
        "CREATE INDEX provenance_created ON provenance_values (created)",
    ),
    (  # 5: client assertion ids already used (RFC 7523 single use), shared by the replicas
        """
        CREATE TABLE identity_used_assertions (
            issuer TEXT NOT NULL,
            jti TEXT NOT NULL,
            keep_until BIGINT NOT NULL,
            PRIMARY KEY (issuer, jti)
        )
        """,
        "CREATE INDEX identity_used_assertions_keep ON identity_used_assertions (keep_until)",
    ),
    POLICY_TABLES,  # 6: policy versions, change counters, process heartbeats (policy_sets)
    (  # 7: the audit log in shards (one per writer), their Merkle trees, signed checkpoints
        "ALTER TABLE audit ADD COLUMN shard INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE audit ADD COLUMN position BIGINT",
        "ALTER TABLE audit ADD COLUMN leaf BYTEA",
        "UPDATE audit SET position = seq",
        "CREATE UNIQUE INDEX audit_shard_position ON audit (shard, position)",
        # seq stays the read cursor: ids from a sequence, so no writer waits for another
        "CREATE SEQUENCE audit_row_ids",
        "SELECT setval('audit_row_ids', (SELECT coalesce(max(seq), 0) + 1 FROM audit), false)",
        "ALTER TABLE audit ALTER COLUMN seq SET DEFAULT nextval('audit_row_ids')",
        """
        CREATE TABLE audit_shards (
            shard INTEGER PRIMARY KEY,
            owner TEXT,
            lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
            size BIGINT NOT NULL,
            hash TEXT NOT NULL,
            frontier BYTEA NOT NULL,
            base_size BIGINT NOT NULL DEFAULT 0,
            base_hash TEXT NOT NULL DEFAULT repeat('0', 64),
            base_frontier BYTEA NOT NULL DEFAULT ''::bytea
        )
        """,
        """
        CREATE TABLE audit_archived_leaves (
            shard INTEGER NOT NULL,
            position BIGINT NOT NULL,
            leaf BYTEA NOT NULL,
            PRIMARY KEY (shard, position)
        )
        """,
        """
        CREATE TABLE audit_nodes (
            shard INTEGER NOT NULL,
            level INTEGER NOT NULL,
            idx BIGINT NOT NULL,
            hash BYTEA NOT NULL,
            PRIMARY KEY (shard, level, idx)
        )
        """,
        """
        CREATE TABLE audit_checkpoints (
            number BIGINT PRIMARY KEY,
            time TEXT NOT NULL,
            size BIGINT NOT NULL,
            note TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE audit_checkpointer (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            owner TEXT,
            lease_until DOUBLE PRECISION NOT NULL DEFAULT 0
        )
        """,
        "INSERT INTO audit_checkpointer (id, owner, lease_until) VALUES (1, NULL, 0)",
        _shard_one_from_chain,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def database_name(url: str) -> str:
    """``host:port/dbname`` of ``url``, never its password: for messages."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        return "the configured database"
    host = info.get("host") or info.get("hostaddr") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or info.get('user') or ''}"


def storage_error(exc: Exception, doing: str) -> StorageError:
    """``exc`` as a ``StorageError``: ``storage_timeout`` when the server did not answer
    in time (its outcome unknown), else ``storage_unavailable``."""
    unanswered = isinstance(exc, DeadlineExpired | PoolTimeout)
    return StorageError(
        f"the PostgreSQL database failed while {doing}: {str(exc).strip() or type(exc).__name__}",
        code=STORAGE_TIMEOUT if unanswered else STORAGE_UNAVAILABLE,
    )


# A reconnect attempt gives up this soon, so the next checkout starts a fresh one
# (its first try at once) instead of waiting out an exponential backoff grown during
# a long outage: the pool answers again within about a second of the database.
RECONNECT_SECONDS = 2.0


def open_pool(url: str, *, max_size: int = 8, migrate_schema: bool = True) -> ConnectionPool:
    """A pool on ``url``, checked by one round trip; the schema migrated unless told not to.

    Every checkout is checked by a round trip (``check``): after a restart of the
    database the pool's connections are dead, and a dead one must be replaced,
    not handed to the audit writer to fail its batch. Every wait is bounded
    (``deadlines.py``): a checkout, a connection attempt, the check, each
    transaction, so a frozen server makes callers fail, never hang.
    """
    try:
        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=True,
            timeout=OPERATION_SECONDS,
            kwargs={"autocommit": True, **connection_options(url)},
            name="proctor",
            check=check_within_bound,
            reconnect_timeout=RECONNECT_SECONDS,
        )
        pool.wait(timeout=10.0)
    except (psycopg.Error, PoolTimeout) as exc:
        raise storage_error(exc, f"connecting to `{database_name(url)}`") from exc
    if migrate_schema:
        try:
            migrate(pool)
        except BaseException:
            pool.close()
            raise
    return pool


@contextmanager
def transaction(
    pool: ConnectionPool, doing: str, *, seconds: float | None = OPERATION_SECONDS
) -> Iterator[psycopg.Connection[Any]]:
    """One transaction on a pooled connection within ``seconds`` (None: a migration's
    unbounded time); psycopg errors translated."""
    try:
        with pool.connection() as conn, bounded(conn, seconds), conn.transaction():
            yield conn
    except (psycopg.Error, PoolTimeout) as exc:
        raise storage_error(exc, doing) from exc


class PostgresDatabase:
    """A pool as the shared SQL stores use it (a ``SqlDatabase``): every unit of work,
    reads too, is one transaction on a pooled connection. ``users`` stores share the
    pool; it closes when the last of them closes."""

    dialect: Dialect = POSTGRES

    def __init__(self, pool: ConnectionPool, *, users: int = 1) -> None:
        self.pool = pool
        self._users = users
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, max_size: int = 8, users: int = 1) -> PostgresDatabase:
        return cls(open_pool(url, max_size=max_size), users=users)

    @contextmanager
    def transaction(self, doing: str) -> Iterator[Statements]:
        with transaction(self.pool, doing) as conn:
            yield Statements(conn, POSTGRES)

    reading = transaction

    def close(self) -> None:
        with self._lock:
            self._users -= 1
            last = self._users == 0
        if last:
            self.pool.close()


def migrate(pool: ConnectionPool) -> int:
    """Apply the migrations not yet applied; returns the schema version."""
    with transaction(pool, "migrating the schema", seconds=None) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS proctor_schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) FROM proctor_schema_version").fetchone()
        current = int(row[0]) if row is not None and row[0] is not None else 0
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"the database schema is version {current}, newer than this proctor "
                f"({SCHEMA_VERSION})",
                code=STORAGE_UNAVAILABLE,
            )
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                if callable(statement):
                    statement(conn)
                else:
                    conn.execute(statement)
            conn.execute("INSERT INTO proctor_schema_version (version) VALUES (%s)", (version + 1,))
        return SCHEMA_VERSION
