"""Merkle trees as RFC 9162 §2.1 defines them: hashing, incremental append, proofs.

- leaf hash ``SHA-256(0x00 || body)``, node hash ``SHA-256(0x01 || left || right)``
  and the root of ``n`` leaves, ``MTH(D[n])``, split at the largest power of
  two below ``n`` (§2.1.1);
- ``Frontier``: the roots of the perfect subtrees that make up a tree of
  ``n`` leaves (one per set bit of ``n``), enough to append a leaf and to
  compute the root in O(log n) without reading the leaves again;
- inclusion proofs (§2.1.3) and consistency proofs (§2.1.4), produced from a
  ``TreeSource`` and checked with nothing but the hashes.

A store keeps the leaf hashes and the nodes of every ``STRIDE``-th level
(levels 4, 8, 12...): about one node per 15 leaves. Any other complete
subtree is folded from at most 16 hashes of the stored level below it, so a
proof for one of ten million leaves reads six runs of 16 hashes and hashes
about a hundred nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from proctor.audit.errors import AUDIT_PROOF_FAILED, AuditError

STRIDE = 4
TILE = 1 << STRIDE

_LEAF = b"\x00"
_NODE = b"\x01"
_sha256 = hashlib.sha256


def leaf_hash(body: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x00 || body)``."""
    return _sha256(_LEAF + body).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE + left + right).digest()


EMPTY_ROOT = _sha256(b"").digest()  # MTH({}) = SHA-256()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def fold(hashes: Sequence[bytes]) -> bytes:
    """``MTH`` of a run of sibling hashes at one level (any length; RFC 9162 split)."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0:  # a power of two: pairwise, level by level
        level = list(hashes)
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        return level[0]
    k = _split(n)
    return node_hash(fold(hashes[:k]), fold(hashes[k:]))


def root_of_leaves(leaves: Sequence[bytes]) -> bytes:
    """``MTH`` of leaf hashes (already ``leaf_hash``-ed)."""
    return fold(leaves)


class Frontier:
    """A tree of ``size`` leaves as its perfect subtrees' roots, largest first (§2.1.1 split).

    ``append`` returns the stored-level nodes (level multiple of ``STRIDE``) it
    completed, as ``(level, index, hash)``, so a store can keep them.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} frontier hashes")

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        completed: list[tuple[int, int, bytes]] = []
        hashes = self.hashes
        node = leaf
        level = 0
        size = self.size
        while size & 1:  # merge with the equal-sized subtree on the left
            node = node_hash(hashes.pop(), node)
            level += 1
            size >>= 1
            if level % STRIDE == 0:
                completed.append((level, ((self.size + 1) >> level) - 1, node))
        hashes.append(node)
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        hashes = self.hashes
        root = hashes[-1]
        for left in reversed(hashes[:-1]):
            root = node_hash(left, root)
        return root

    def packed(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def unpack(cls, size: int, packed: bytes) -> Frontier:
        return cls(size, [packed[i : i + 32] for i in range(0, len(packed), 32)])


class TreeSource(Protocol):
    """Stored hashes of one tree: leaf hashes and the nodes of levels ``STRIDE``, ``2*STRIDE``..."""

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Hashes ``start`` to ``end - 1`` of stored ``level`` (0: leaves), all complete."""
        ...


class TreeReader:
    """Hashes of any subrange of a tree, folded from a ``TreeSource`` a tile at a time."""

    def __init__(self, source: TreeSource) -> None:
        self._source = source
        self._tiles: dict[tuple[int, int], list[bytes]] = {}

    def subtree(self, start: int, end: int) -> bytes:
        """``MTH(D[start:end])``: aligned perfect subtrees from the store, the rest split."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self._perfect(n.bit_length() - 1, start >> (n.bit_length() - 1))
        k = _split(n)
        return node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def _perfect(self, level: int, index: int) -> bytes:
        base = level - level % STRIDE
        width = 1 << (level - base)
        first = index * width
        tile = self._tile(base, first // TILE, first + width)
        offset = first % TILE
        return fold(tile[offset : offset + width])

    def _tile(self, level: int, number: int, needed_end: int) -> list[bytes]:
        key = (level, number)
        tile = self._tiles.get(key)
        start = number * TILE
        if tile is None or start + len(tile) < needed_end:
            # A whole tile when it is complete; a partial one only up to what was asked.
            tile = self._tile_hashes(level, start, needed_end)
            self._tiles[key] = tile
        return tile

    def _tile_hashes(self, level: int, start: int, needed_end: int) -> list[bytes]:
        got = self._source.hashes(level, start, start + TILE)
        if len(got) < needed_end - start:
            raise AuditError(
                f"the stored tree lacks hashes at level {level} before {needed_end}: "
                "it was damaged or written by another proctor",
                code=AUDIT_PROOF_FAILED,
            )
        return got


def inclusion_proof(reader: TreeReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[size])``, nearest sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(reader.subtree(start + k, end))
            end = start + k
        else:
            path.append(reader.subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(reader: TreeReader, old: int, new: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old, D[new])`` (empty when ``old`` is 0 or equals ``new``)."""
    if not 0 <= old <= new:
        raise ValueError(f"a tree of {old} cannot grow into one of {new}")
    if old in (0, new):
        return []
    proof: list[bytes] = []
    start, end, whole = 0, new, True
    m = old
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(reader.subtree(start + k, end))
            end = start + k
        else:
            proof.append(reader.subtree(start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        proof.append(reader.subtree(start, end))
    proof.reverse()
    return proof


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root ``path`` leads to from ``leaf``, or None when malformed."""
    if not 0 <= index < size:
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            fn, sn = _shift_to_odd(fn, sn)
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return node if sn == 0 else None


def _shift_to_odd(fn: int, sn: int) -> tuple[int, int]:
    """RFC 9162 §2.1.3.2 and §2.1.4.2: right-shift both until ``fn`` is odd or 0."""
    while not fn & 1 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_consistency(
    old: int, old_root: bytes, new: int, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: whether a tree of ``new`` leaves extends the one of ``old``."""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            fn, sn = _shift_to_odd(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


HashSource = Callable[[int, int, int], list[bytes]]


class FunctionSource:
    """A ``TreeSource`` over a function ``(level, start, end) -> hashes``."""

    def __init__(self, read: HashSource) -> None:
        self._read = read

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        return self._read(level, start, end)
