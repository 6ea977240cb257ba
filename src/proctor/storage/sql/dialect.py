"""How SQLite and PostgreSQL differ for the stores, in one small value.

Queries are written once with ``?`` for each parameter (and no other ``?`` in
their text); a dialect renders them for its driver: sqlite3 takes them as
they are, psycopg wants ``%s`` (and ``%%`` for a literal ``%``). Where the two need other words, the
dialect gives them: PostgreSQL replicas lock the rows a transaction will
change (``SELECT ... FOR UPDATE``, an advisory lock per approval call), while
SQLite needs no row locks because each writing transaction holds the file's
one write lock from its ``BEGIN IMMEDIATE``.

``Statements`` runs rendered queries on one connection of either driver inside
a unit of work; ``SqlDatabase`` is what a backend gives the shared stores.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    mark: str  # the driver's placeholder for one parameter
    row_lock: str  # after a SELECT of rows this transaction goes on to change
    # a statement taking a transaction-scoped lock on one text key, or None when the
    # transaction's write lock already keeps every other writer out
    key_lock: str | None
    arrays: bool  # whether the driver passes a list as one array parameter
    copies: bool  # whether many rows go in by COPY rather than one INSERT run per row
    _rendered: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def locks_rows(self) -> bool:
        """Whether writers are kept apart row by row (else by one database-wide write lock)."""
        return bool(self.row_lock)

    def render(self, query: str) -> str:
        """``query`` with this driver's placeholders."""
        rendered = self._rendered.get(query)
        if rendered is None:
            rendered = (
                query if self.mark == "?" else query.replace("%", "%%").replace("?", self.mark)
            )
            self._rendered[query] = rendered
        return rendered

    def among(self, column: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        """A condition that ``column`` is one of ``values``, and its parameters."""
        if self.arrays:  # one parameter, however many values
            return f"{column} = ANY(?)", (list(values),)
        return f"{column} IN ({', '.join('?' * len(values))})", tuple(values)

    def delete_some(self, table: str, key: str, where: str) -> str:
        """Delete rows matching ``where`` without waiting on rows other writers hold.

        PostgreSQL deletes at most a thousand at a time and skips rows another
        replica has locked; SQLite's one writer deletes them all.
        """
        if self.locks_rows:
            return (
                f"DELETE FROM {table} WHERE ({key}) IN ("
                f"SELECT {key} FROM {table} WHERE {where} LIMIT 1000 FOR UPDATE SKIP LOCKED)"
            )
        return f"DELETE FROM {table} WHERE {where}"


SQLITE = Dialect("sqlite", "?", row_lock="", key_lock=None, arrays=False, copies=False)
POSTGRES = Dialect(
    "postgresql",
    "%s",
    row_lock=" FOR UPDATE",
    key_lock="SELECT pg_advisory_xact_lock(hashtext(?))",
    arrays=True,
    copies=True,
)


class Statements:
    """Rendered queries on one connection (sqlite3 or psycopg) inside a unit of work."""

    __slots__ = ("_conn", "dialect")

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self._conn = conn
        self.dialect = dialect

    def one(self, query: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._execute(query, params).fetchone()
        return row

    def all(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._execute(query, params).fetchall()
        return rows

    def run(self, query: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement that returns no rows; how many rows it changed."""
        count: int = self._execute(query, params).rowcount
        return count

    def many(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self._conn.cursor()
        try:
            cursor.executemany(self.dialect.render(query), rows)
        finally:
            cursor.close()

    def insert_all(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` into ``table``: by COPY where the dialect copies (one stream of
        rows: PostgreSQL then spends a third less CPU per row than on one INSERT run per
        row, and so does the client), else by INSERTs of many rows each.

        sqlite3 runs an ``executemany`` as one step and one reset per row, each letting
        the interpreter go and taking it back; one INSERT of 512 rows is one step (about
        8 % less CPU per audit record for the writer, and fewer hand-overs of the GIL).
        """
        names = ", ".join(columns)
        if not self.dialect.copies:
            most = _rows_per_insert(self._conn, len(columns))
            start = 0
            while start < len(rows):
                # a power of two: a batch of any size needs few distinct statements, which
                # the driver keeps prepared
                count = 1 << (min(len(rows) - start, most).bit_length() - 1)
                chunk = rows[start : start + count]
                self._conn.execute(
                    _many_rows_insert(table, names, len(columns), count),
                    list(chain.from_iterable(chunk)),
                )
                start += count
            return
        statement = f"COPY {table} ({names}) FROM STDIN"
        with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def lock_key(self, key: str) -> None:
        """Keep other writers of ``key`` out until this transaction ends (where needed)."""
        if self.dialect.key_lock is not None:
            self._execute(self.dialect.key_lock, (key,))

    def _execute(self, query: str, params: Sequence[Any]) -> Any:
        return self._conn.execute(self.dialect.render(query), params)


_ROWS_PER_INSERT = 512  # the SQLite audit writer's batch: one statement for a full batch


def _rows_per_insert(conn: Any, columns: int) -> int:
    """Rows one INSERT may carry within the connection's limit on parameters (999 on
    SQLite before 3.32, 32766 after; builds may set others)."""
    limit: int = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    most = min(_ROWS_PER_INSERT, limit // columns)
    if sqlite3.sqlite_version_info < (3, 8, 8):  # before, each VALUES row was a compound term
        most = min(most, conn.getlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT))
    return max(1, most)


@functools.lru_cache(maxsize=64)
def _many_rows_insert(table: str, names: str, columns: int, count: int) -> str:
    marks = "(" + ", ".join("?" * columns) + ")"
    return f"INSERT INTO {table} ({names}) VALUES " + ", ".join([marks] * count)


class SqlDatabase(Protocol):
    """A backend's connections, as the shared stores use them.

    ``transaction`` is one atomic unit (errors roll it back and come out as
    ``StorageError``); ``reading`` may be lighter where the backend allows.
    """

    @property
    def dialect(self) -> Dialect: ...

    def transaction(self, doing: str) -> AbstractContextManager[Statements]: ...

    def reading(self, doing: str) -> AbstractContextManager[Statements]: ...

    def close(self) -> None: ...


class Closing:
    """A store over a ``SqlDatabase`` it releases once, however often it is closed."""

    def __init__(self, database: SqlDatabase) -> None:
        self._db = database
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._db.close()
