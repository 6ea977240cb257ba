"""RFC 9162 trees: proctor's roots and proofs against an independent verifier (rfc9162.py)."""

from __future__ import annotations

import pytest

from proctor.audit import merkle
from proctor.audit.merkle import (
    STRIDE,
    Frontier,
    FunctionSource,
    TreeReader,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_inclusion,
    verify_consistency,
)
from tests.audit import rfc9162


def entries(n: int) -> list[bytes]:
    return [f"record {i}".encode() for i in range(n)]


class StoredTree:
    """Leaves and every STRIDE-th level's nodes, as a store keeps them (from Frontier.append)."""

    def __init__(self, data: list[bytes]) -> None:
        self.leaves = [leaf_hash(entry) for entry in data]
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.frontier = Frontier()
        for leaf in self.leaves:
            for level, index, node in self.frontier.append(leaf):
                self.nodes[(level, index)] = node
        self.reads = 0

    def read(self, level: int, start: int, end: int) -> list[bytes]:
        self.reads += 1
        if level == 0:
            return self.leaves[start:end]
        return [self.nodes[(level, i)] for i in range(start, end) if (level, i) in self.nodes]

    def reader(self) -> TreeReader:
        return TreeReader(FunctionSource(self.read))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 1000])
def test_frontier_root_is_the_rfc_root(n: int) -> None:
    data = entries(n)
    assert StoredTree(data).frontier.root() == rfc9162.mth(data)


def test_the_frontier_packs_and_unpacks() -> None:
    tree = StoredTree(entries(77))
    again = Frontier.unpack(77, tree.frontier.packed())
    assert again.root() == tree.frontier.root()
    with pytest.raises(ValueError, match="frontier hashes"):
        Frontier(3, [b"x" * 32])


@pytest.mark.parametrize("n", range(1, 34))
def test_every_inclusion_proof_passes_the_independent_verifier(n: int) -> None:
    data = entries(n)
    tree = StoredTree(data)
    root = rfc9162.mth(data)
    for index in range(n):
        path = inclusion_proof(tree.reader(), index, n)
        assert rfc9162.verify_inclusion(index, n, data[index], path, root)
        assert root_from_inclusion(leaf_hash(data[index]), index, n, path) == root
        assert not rfc9162.verify_inclusion(index, n, data[index] + b"!", path, root)


@pytest.mark.parametrize("n", range(2, 34))
def test_every_consistency_proof_passes_the_independent_verifier(n: int) -> None:
    data = entries(n)
    tree = StoredTree(data)
    for old in range(1, n):
        proof = consistency_proof(tree.reader(), old, n)
        old_root, new_root = rfc9162.mth(data[:old]), rfc9162.mth(data)
        assert rfc9162.verify_consistency(old, n, old_root, new_root, proof)
        assert verify_consistency(old, old_root, n, new_root, proof)
        assert not verify_consistency(old, rfc9162.mth(data[1 : old + 1]), n, new_root, proof)


def test_proofs_over_stored_levels_read_few_tiles() -> None:
    # 70,000 leaves: levels 8 and 16 are stored; a proof folds at most a tile per band.
    n = (1 << 16) + 4464
    data = entries(n)
    tree = StoredTree(data)
    root = tree.frontier.root()
    for index in (0, 255, 256, 40_000, 65_535, 65_536, n - 1):
        tree.reads = 0
        path = inclusion_proof(tree.reader(), index, n)
        assert rfc9162.verify_inclusion(index, n, data[index], path, root)
        assert tree.reads <= 3 * (1 + 64 // STRIDE)
    for old in (1, 256, 65_536, 65_537, n - 1):
        proof = consistency_proof(tree.reader(), old, n)
        assert rfc9162.verify_consistency(
            old, n, Frontier.unpack(old, _frontier_at(tree, old)).root(), root, proof
        )


def _frontier_at(tree: StoredTree, size: int) -> bytes:
    frontier = Frontier()
    for leaf in tree.leaves[:size]:
        frontier.append(leaf)
    return frontier.packed()


def test_malformed_proofs_are_refused() -> None:
    data = entries(10)
    tree = StoredTree(data)
    path = inclusion_proof(tree.reader(), 3, 10)
    assert root_from_inclusion(leaf_hash(data[3]), 10, 10, path) is None
    assert root_from_inclusion(leaf_hash(data[3]), 3, 10, [*path, path[0]]) is None
    assert not verify_consistency(5, b"x" * 32, 4, b"y" * 32, [])
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(tree.reader(), 10, 10)
    assert merkle.fold([]) == rfc9162.sha256(b"")
