"""Moving a shard's oldest records out of the live store (``proctor audit archive``).

A shard's archived prefix is its ``base``: the size, the last chain hash and
the Merkle frontier at the cut, kept on its ``audit_shards`` row, so the live
chain and tree continue from there and verify without the archived bodies.
The archived records' leaf hashes stay (``audit_archived_leaves``): proofs of
later records need them; their content does not stay.
"""

from __future__ import annotations

from typing import Any

from proctor.storage.errors import STORAGE_CORRUPT, StorageError
from proctor.storage.sql.dialect import Statements


def archive_cut(st: Statements, shard: int, before: str, covered: int) -> int:
    """The last position of ``shard`` to archive: the longest prefix of records older than
    ``before`` that a signed checkpoint covers (``covered`` records)."""
    row = st.one("SELECT min(position) FROM audit WHERE shard = ? AND ts >= ?", (shard, before))
    first_kept = None if row is None or row[0] is None else int(row[0])
    top = st.one("SELECT coalesce(max(position), 0) FROM audit WHERE shard = ?", (shard,))
    last = int(top[0]) if top is not None else 0
    cut = last if first_kept is None else first_kept - 1
    return min(cut, covered)


def archived_rows(st: Statements, shard: int, after: int, upto: int) -> list[tuple[Any, ...]]:
    """``(position, hash, body)`` of the records to archive, in order."""
    return st.all(
        "SELECT position, hash, body FROM audit WHERE shard = ? AND position > ? "
        "AND position <= ? ORDER BY position",
        (shard, after, upto),
    )


def remove_archived(
    st: Statements, shard: int, base: tuple[int, str, bytes], cut: tuple[int, str, bytes]
) -> None:
    """Move positions past ``base`` up to ``cut`` out: keep their leaf hashes, drop the rows,
    and make ``cut`` the shard's base (only from the base the archive was built on)."""
    st.run(
        "INSERT INTO audit_archived_leaves (shard, position, leaf) SELECT shard, position, leaf "
        "FROM audit WHERE shard = ? AND position > ? AND position <= ?",
        (shard, base[0], cut[0]),
    )
    st.run("DELETE FROM audit WHERE shard = ? AND position <= ?", (shard, cut[0]))
    moved = st.run(
        "UPDATE audit_shards SET base_size = ?, base_hash = ?, base_frontier = ? "
        "WHERE shard = ? AND base_size = ?",
        (cut[0], cut[1], cut[2], shard, base[0]),
    )
    if moved != 1:
        raise StorageError(
            f"shard {shard} was archived by another process meanwhile", code=STORAGE_CORRUPT
        )
