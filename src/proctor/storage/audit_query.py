"""The audit listing's query (filters on indexed columns, a seq cursor), shared by SQL stores."""

from __future__ import annotations

from typing import Any

from proctor.audit.chain import INDEXED_COLUMNS, column_text

ROW_COLUMNS = "seq, hash, body, " + ", ".join(INDEXED_COLUMNS)


# The listing's exact filters by their public name (the HTTP query, the dashboard's form).
FILTER_COLUMNS = {
    "user": "user_sub",
    "agent": "agent_id",
    "action": "action",
    "effect": "effect",
    "run": "run_id",
    "kind": "kind",
}
_QUERY_COLUMNS = frozenset(
    ("decision_id", "kind", "user_sub", "agent_id", "action", "effect", "run_id")
)


def audit_query(
    equal: dict[str, str],
    *,
    since: str | None,
    until: str | None,
    after: int,
    limit: int,
    mark: str = "?",
    before: int | None = None,
    newest_first: bool = False,
) -> tuple[str, list[Any]]:
    """The SELECT for ``query`` (``mark`` is the driver's placeholder); columns are whitelisted.

    ``after < seq < before``; ``newest_first`` pages backwards (the dashboard's feed).
    """
    where = [f"seq > {mark}"]
    params: list[Any] = [after]
    if before is not None:
        where.append(f"seq < {mark}")
        params.append(before)
    for column, value in sorted(equal.items()):
        if column not in _QUERY_COLUMNS:
            raise ValueError(f"`{column}` is not a queryable column")
        where.append(f"{column} = {mark}")
        params.append(column_text(value))  # as the column was written
    if since is not None:
        where.append(f"ts >= {mark}")
        params.append(since)
    if until is not None:
        where.append(f"ts < {mark}")
        params.append(until)
    params.append(limit)
    order = "seq DESC" if newest_first else "seq"
    sql = (
        f"SELECT {ROW_COLUMNS} FROM audit WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {mark}"
    )
    return sql, params
