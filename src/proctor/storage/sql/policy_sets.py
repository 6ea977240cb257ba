"""Policy versions, the active one, change counters and process heartbeats, over SQL.

Texts are kept by digest (``policy_texts``), so a version is a number pointing
at a digest and a rollback is a pointer move. The one ``policy_active`` row is
locked by every push and activation (PostgreSQL ``FOR UPDATE``; SQLite's one
writer), so two pushes at once get two numbers, never one. Every change moves
a counter in ``store_changes`` in the same transaction; on PostgreSQL it also
sends ``NOTIFY proctor_store`` (delivered at commit), which followers listen
for, polling the counters anyway in case a notification was lost.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from proctor.storage.contracts import PolicySources, PolicyVersion, ProcessBeat
from proctor.storage.errors import StorageError
from proctor.storage.sql.dialect import Closing, Statements

POLICY_VERSION_UNKNOWN = "policy_version_unknown"
NOTIFY_CHANNEL = "proctor_store"
POLICY_TOPIC = "policy"
IDENTITY_TOPIC = "identity"
_FORGET_PROCESSES_AFTER = 86_400.0  # a row not beaten for a day is dropped

# The tables, written once for both backends (text, integers and reals only).
POLICY_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS policy_texts (
        digest TEXT PRIMARY KEY,
        sources TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS policy_versions (
        version BIGINT PRIMARY KEY,
        digest TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        created_by TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS policy_active (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT,
        activated_at DOUBLE PRECISION,
        activated_by TEXT
    )
    """,
    "INSERT INTO policy_active (id) VALUES (1) ON CONFLICT (id) DO NOTHING",
    """
    CREATE TABLE IF NOT EXISTS store_changes (
        topic TEXT PRIMARY KEY,
        generation BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS store_processes (
        process_id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        host TEXT NOT NULL,
        pid BIGINT NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        heartbeat DOUBLE PRECISION NOT NULL,
        policy_version BIGINT,
        policy_digest TEXT NOT NULL,
        state TEXT NOT NULL
    )
    """,
)

_VERSION_COLUMNS = "version, digest, message, created_at, created_by"
_PROCESS_COLUMNS = (
    "process_id, role, host, pid, started_at, heartbeat, policy_version, policy_digest, state"
)
_BUMP = (
    "INSERT INTO store_changes (topic, generation) VALUES (?, 1) "
    "ON CONFLICT (topic) DO UPDATE SET generation = store_changes.generation + 1"
)
_KEEP_TEXTS = (
    "INSERT INTO policy_texts (digest, sources, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT (digest) DO NOTHING"
)
_BEAT = (
    f"INSERT INTO store_processes ({_PROCESS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (process_id) DO UPDATE SET heartbeat = excluded.heartbeat, "
    "policy_version = excluded.policy_version, policy_digest = excluded.policy_digest, "
    "state = excluded.state"
)


def bump(sql: Statements, topic: str) -> None:
    """Move ``topic``'s counter on, and tell PostgreSQL listeners (at commit)."""
    sql.run(_BUMP, (topic,))
    if sql.dialect.locks_rows:  # PostgreSQL
        sql.one(f"SELECT pg_notify('{NOTIFY_CHANNEL}', ?)", (topic,))


class SqlPolicyStore(Closing):
    """``PolicyStore`` over a backend's ``SqlDatabase``."""

    def keep_texts(self, digest: str, sources: PolicySources, now: float) -> None:
        with self._db.transaction("keeping policy texts") as sql:
            sql.run(_KEEP_TEXTS, (digest, _encoded(sources), now))

    def texts(self, digest: str) -> tuple[tuple[str, str], ...] | None:
        with self._db.reading("reading policy texts") as sql:
            row = sql.one("SELECT sources FROM policy_texts WHERE digest = ?", (digest,))
        return None if row is None else _decoded(row[0])

    def push(
        self, digest: str, sources: PolicySources, *, message: str, by: str, now: float
    ) -> tuple[PolicyVersion, bool]:
        with self._db.transaction("storing a policy version") as sql:
            active = self._lock_active(sql)
            if active is not None and active.digest == digest:
                return active, False
            sql.run(_KEEP_TEXTS, (digest, _encoded(sources), now))
            row = sql.one("SELECT max(version) FROM policy_versions")
            number = int(row[0]) + 1 if row is not None and row[0] is not None else 1
            sql.run(
                f"INSERT INTO policy_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (number, digest, message, now, by),
            )
            _point(sql, number, by, now)
        return PolicyVersion(number, digest, message, now, by, tuple(sources)), True

    def activate(self, version: int, *, by: str, now: float) -> PolicyVersion:
        with self._db.transaction("activating a policy version") as sql:
            self._lock_active(sql)
            found = _version(sql, version)
            if found is None:
                raise StorageError(
                    f"there is no policy version {version}", code=POLICY_VERSION_UNKNOWN
                )
            _point(sql, version, by, now)
        return found

    def active(self) -> PolicyVersion | None:
        with self._db.reading("reading the active policy version") as sql:
            row = sql.one("SELECT version, activated_at FROM policy_active WHERE id = 1")
            if row is None or row[0] is None:
                return None
            found = _version(sql, int(row[0]))
        return None if found is None else replace(found, activated_at=float(row[1]))

    def version(self, version: int) -> PolicyVersion | None:
        with self._db.reading("reading a policy version") as sql:
            return _version(sql, version)

    def versions(self, limit: int = 100) -> list[PolicyVersion]:
        with self._db.reading("listing policy versions") as sql:
            rows = sql.all(
                f"SELECT {_VERSION_COLUMNS} FROM policy_versions ORDER BY version DESC LIMIT ?",
                (limit,),
            )
        return [PolicyVersion(int(r[0]), r[1], r[2], float(r[3]), r[4]) for r in rows]

    def changes(self) -> dict[str, int]:
        with self._db.reading("reading the change counters") as sql:
            rows = sql.all("SELECT topic, generation FROM store_changes")
        return {str(topic): int(generation) for topic, generation in rows}

    def beat(self, process: ProcessBeat) -> None:
        with self._db.transaction("writing a heartbeat") as sql:
            sql.run(
                _BEAT,
                (
                    process.process_id,
                    process.role,
                    process.host,
                    process.pid,
                    process.started_at,
                    process.heartbeat,
                    process.policy_version,
                    process.policy_digest,
                    process.state,
                ),
            )

    def processes(self, since: float) -> list[ProcessBeat]:
        with self._db.transaction("listing processes") as sql:
            sql.run(
                "DELETE FROM store_processes WHERE heartbeat < ?",
                (since - _FORGET_PROCESSES_AFTER,),
            )
            rows = sql.all(
                f"SELECT {_PROCESS_COLUMNS} FROM store_processes WHERE heartbeat >= ? "
                "ORDER BY role, process_id",
                (since,),
            )
        return [_process(row) for row in rows]

    def _lock_active(self, sql: Statements) -> PolicyVersion | None:
        row = sql.one(f"SELECT version FROM policy_active WHERE id = 1{sql.dialect.row_lock}")
        if row is None or row[0] is None:
            return None
        return _version(sql, int(row[0]))


def _point(sql: Statements, version: int, by: str, now: float) -> None:
    sql.run(
        "UPDATE policy_active SET version = ?, activated_at = ?, activated_by = ? WHERE id = 1",
        (version, now, by),
    )
    bump(sql, POLICY_TOPIC)


def _version(sql: Statements, version: int) -> PolicyVersion | None:
    row = sql.one(
        "SELECT v.version, v.digest, v.message, v.created_at, v.created_by, t.sources "
        "FROM policy_versions v JOIN policy_texts t ON t.digest = v.digest WHERE v.version = ?",
        (version,),
    )
    if row is None:
        return None
    return PolicyVersion(int(row[0]), row[1], row[2], float(row[3]), row[4], _decoded(row[5]))


def _process(row: tuple[Any, ...]) -> ProcessBeat:
    return ProcessBeat(
        row[0],
        row[1],
        row[2],
        int(row[3]),
        float(row[4]),
        float(row[5]),
        None if row[6] is None else int(row[6]),
        row[7],
        row[8],
    )


def _encoded(sources: PolicySources) -> str:
    return json.dumps([[name, text] for name, text in sources], ensure_ascii=False)


def _decoded(stored: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(text)) for name, text in json.loads(stored))
