"""The audit store's plain reads, stated once for both SQL backends.

Writing, verifying and streaming rows stay each backend's own (a writer
thread, read snapshots); these reads go through the backend's ``_read``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from proctor.audit.chain import StoredRow, column_text
from proctor.audit.checkpoint import ShardHead
from proctor.audit.merkle import FunctionSource, TreeSource
from proctor.storage.audit_query import audit_query
from proctor.storage.sql import audit_archive, audit_log
from proctor.storage.sql.dialect import Dialect, Statements

_T = TypeVar("_T")


class AuditReads:
    """``get``, ``tail``, ``count`` and ``query`` over a backend's ``_read``."""

    audit_dialect: Dialect

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of one committed-data query in the driver's own placeholders."""
        raise NotImplementedError

    def _select(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return self._read(self.audit_dialect.render(query), params)

    def _settled_below(self) -> int | None:
        """A seq below which no record can still be committed (None: every row is settled).

        Writers that take their seq numbers in commit order (one write lock) need none;
        concurrent writers can commit a lower seq after a higher one, and a reader that
        follows ``seq`` as a cursor must not pass a number still in flight.
        """
        return None

    def get(self, decision_id: str) -> dict[str, Any] | None:
        wanted = (column_text(decision_id),)  # as the column was written (no NUL in text)
        rows = self._select("SELECT body, hash FROM audit WHERE decision_id = ?", wanted)
        return _record(*rows[0]) if rows else None

    def tail(self, limit: int) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        rows = self._select("SELECT body, hash FROM audit ORDER BY seq DESC LIMIT ?", (limit,))
        return [_record(body, digest) for body, digest in reversed(rows)]

    def count(self) -> int:
        return int(self._select("SELECT count(*) FROM audit")[0][0])

    def query(
        self,
        equal: dict[str, str],
        *,
        since: str | None,
        until: str | None,
        after: int,
        limit: int,
        before: int | None = None,
        newest_first: bool = False,
    ) -> list[StoredRow]:
        """Rows past seq ``after`` (and before ``before``) whose indexed columns match."""
        horizon = self._settled_below()
        if horizon is not None:
            before = horizon if before is None else min(before, horizon)
        sql, params = audit_query(
            equal,
            since=since,
            until=until,
            after=after,
            limit=limit,
            before=before,
            newest_first=newest_first,
        )
        return [StoredRow(*row) for row in self._select(sql, tuple(params))]


def _record(body: str, digest: str) -> dict[str, Any]:
    """The stored record with its ``hash`` (kept beside the body) put back in."""
    record: dict[str, Any] = json.loads(body)
    record["hash"] = digest
    return record


class AuditLogReads(AuditReads):
    """The log's shards, tree hashes and checkpoints over a backend's statements.

    ``_statements`` runs a read; ``_writing`` is a short write transaction apart
    from the writer's (storing a checkpoint, holding the checkpointer's lease).
    """

    def _statements(self, doing: str, work: Callable[[Statements], _T]) -> _T:
        raise NotImplementedError

    def _writing(self, doing: str) -> AbstractContextManager[Statements]:
        raise NotImplementedError

    def shard_heads(self) -> list[ShardHead]:
        """Every shard's size and Merkle root, as the writers last committed them."""
        return self._statements("reading the shards", audit_log.shard_heads)

    def tree_source(self, shard: int) -> TreeSource:
        def read(level: int, start: int, end: int) -> list[bytes]:
            return self._statements(
                "reading the audit tree",
                lambda st: audit_log.tree_hashes(st, shard, level, start, end),
            )

        return FunctionSource(read)

    def locate(self, decision_id: str) -> tuple[int, int, str] | None:
        """``(shard, position, body)`` of the record with ``decision_id``."""
        return self._statements("reading a record", lambda st: audit_log.locate(st, decision_id))

    def checkpoint_notes(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        return self._statements(
            "reading checkpoints", lambda st: audit_log.checkpoint_notes(st, after, limit)
        )

    def latest_checkpoint(self) -> tuple[int, str] | None:
        return self._statements("reading checkpoints", audit_log.latest_checkpoint)

    def lead_checkpoints(self, owner: str, now: float, lease: float) -> bool:
        with self._writing("electing the checkpointer") as st:
            return audit_log.lead_checkpoints(st, owner, now, lease)

    def store_checkpoint(self, number: int, time: str, size: int, note: str) -> None:
        with self._writing("storing a checkpoint") as st:
            audit_log.store_checkpoint(st, number, time, size, note)

    # -- retention: moving the oldest records to an archive ---------------------------------

    def archive_bases(self) -> dict[int, tuple[int, str, bytes]]:
        return self._statements("reading the archived prefixes", audit_log.shard_bases)

    def archive_cut(self, shard: int, before: str, covered: int) -> int:
        return self._statements(
            "planning an archive",
            lambda st: audit_archive.archive_cut(st, shard, before, covered),
        )

    def archived_rows(self, shard: int, after: int, upto: int) -> list[tuple[Any, ...]]:
        return self._statements(
            "reading records to archive",
            lambda st: audit_archive.archived_rows(st, shard, after, upto),
        )

    def remove_archived(
        self, cuts: dict[int, tuple[tuple[int, str, bytes], tuple[int, str, bytes]]]
    ) -> None:
        """For each shard, ``(base, cut)``: its records past base up to cut leave the store."""
        with self._writing("removing archived records") as st:
            for shard, (base, cut) in sorted(cuts.items()):
                audit_archive.remove_archived(st, shard, base, cut)
