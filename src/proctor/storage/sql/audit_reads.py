"""The audit store's plain reads, stated once for both SQL backends.

Writing, verifying and streaming rows stay each backend's own (a writer
thread, read snapshots); these reads go through the backend's ``_read``.
"""

from __future__ import annotations

import json
from typing import Any

from proctor.audit.chain import StoredRow
from proctor.storage.audit_query import audit_query
from proctor.storage.sql.dialect import Dialect


class AuditReads:
    """``get``, ``tail``, ``count`` and ``query`` over a backend's ``_read``."""

    audit_dialect: Dialect

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of one committed-data query in the driver's own placeholders."""
        raise NotImplementedError

    def _select(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return self._read(self.audit_dialect.render(query), params)

    def get(self, decision_id: str) -> dict[str, Any] | None:
        rows = self._select("SELECT body, hash FROM audit WHERE decision_id = ?", (decision_id,))
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
