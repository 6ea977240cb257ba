"""Verify a sharded audit log: every chain, every Merkle tree, against signed checkpoints.

The chains (``verify_chain``) catch a record edited, removed, inserted or
reordered behind a head. Someone who rewrites records *and* heads keeps the
chains consistent; the checkpoints, signed with a key the database never
holds, catch that: each shard's tree is rebuilt from the record bodies and its
root compared at every size a checkpoint names. Between the checkpoints
themselves, a shard that shrinks (a truncated log), two roots for one size (a
fork) and a gap in their numbers (a deleted range) are reported before any
record is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import pairwise
from typing import Any

from proctor.audit.chain import ChainHead, StoredRow, VerifyReport, verify_chain
from proctor.audit.checkpoint import Checkpoint
from proctor.audit.merkle import Frontier, leaf_hash


def checkpoint_problems(checkpoints: Sequence[Checkpoint]) -> tuple[int, str] | None:
    """``(checkpoint number, problem)`` of the first inconsistency among the checkpoints."""
    ordered = sorted(checkpoints, key=lambda c: c.number)
    seen: dict[int, Checkpoint] = {}
    for checkpoint in ordered:
        twin = seen.get(checkpoint.number)
        if twin is not None and twin != checkpoint:
            return checkpoint.number, (
                f"two different checkpoints are numbered {checkpoint.number}: the log forked"
            )
        seen[checkpoint.number] = checkpoint
    numbers = sorted(seen)
    for before, after in pairwise(numbers):
        if after > before + 1:
            which = (
                f"checkpoint {before + 1} is"
                if after == before + 2
                else f"checkpoints {before + 1} to {after - 1} are"
            )
            return before + 1, f"{which} missing: a range of checkpoints was deleted"
    by_size: dict[tuple[int, int], Checkpoint] = {}
    latest: dict[int, Checkpoint] = {}
    for number in numbers:
        checkpoint = seen[number]
        for head in checkpoint.shards:
            other = by_size.setdefault((head.shard, head.size), checkpoint)
            if other.shard(head.shard) != head:
                return number, (
                    f"checkpoints {other.number} and {number} give shard {head.shard} at "
                    f"size {head.size} different roots: the log forked"
                )
            earlier = latest.get(head.shard)
            earlier_head = None if earlier is None else earlier.shard(head.shard)
            if earlier is not None and earlier_head is not None and earlier_head.size > head.size:
                return number, (
                    f"checkpoint {number} has shard {head.shard} at {head.size} records after "
                    f"checkpoint {earlier.number} had {earlier_head.size}: the log was truncated"
                )
            latest[head.shard] = checkpoint
        for shard, earlier in latest.items():
            if checkpoint.shard(shard) is None:
                return number, (
                    f"checkpoint {number} leaves out shard {shard} that checkpoint "
                    f"{earlier.number} covered"
                )
    return None


class _TreeCheck:
    """Rebuilds each shard's tree from the bodies and compares it at the checkpoints' sizes."""

    def __init__(
        self, checkpoints: Sequence[Checkpoint], bases: Mapping[int, tuple[int, str, bytes]]
    ) -> None:
        # a shard's archived prefix is checked from the archive; here from its frontier on
        self.frontiers = {
            s: Frontier.unpack(size, packed) for s, (size, _, packed) in bases.items()
        }
        self.targets: dict[int, list[tuple[int, bytes, int]]] = {}
        self.agreed = {shard: size for shard, (size, _, _) in bases.items()}
        self.failed_checkpoint: int | None = None
        for checkpoint in sorted(checkpoints, key=lambda c: c.number):
            for head in checkpoint.shards:
                self.targets.setdefault(head.shard, []).append(
                    (head.size, head.root, checkpoint.number)
                )
        for shard, wanted in self.targets.items():
            wanted.sort()
            self.targets[shard] = [item for item in wanted if item[0] > self.agreed.get(shard, 0)]

    def __call__(self, row: StoredRow, record: dict[str, Any]) -> tuple[int, str] | None:
        shard = row.shard
        frontier = self.frontiers.get(shard)
        if frontier is None:
            frontier = self.frontiers[shard] = Frontier()
        body = row.body.encode("utf-8") if isinstance(row.body, str) else row.body
        frontier.append(leaf_hash(body))
        wanted = self.targets.get(shard)
        while wanted and wanted[0][0] == frontier.size:
            size, root, number = wanted.pop(0)
            if frontier.root() != root:
                self.failed_checkpoint = number
                first = self.agreed.get(shard, 0) + 1
                where = f"shard {shard}" if shard != 1 else "the log"
                return first, (
                    f"records {first} to {size} of {where} disagree with signed checkpoint "
                    f"{number}: record {first} is the first that may have been rewritten "
                    f"(decision `{record.get('decision_id')}` ends the range)"
                )
            self.agreed[shard] = size
        return None

    def truncation(self, ends: Mapping[int, ChainHead]) -> tuple[int, int, int, str] | None:
        for shard in sorted(self.targets):
            wanted = self.targets[shard]
            if wanted:
                size, _, number = wanted[0]
                end = ends.get(shard, ChainHead(self.agreed.get(shard, 0), "")).seq
                self.failed_checkpoint = number
                return (
                    shard,
                    end + 1,
                    number,
                    (
                        f"shard {shard} ends at record {end} but signed checkpoint {number} "
                        f"covers {size}: records {end + 1} to {size} were removed"
                    ),
                )
        return None


def verify_log(
    rows: Iterable[StoredRow],
    *,
    heads: Mapping[int, ChainHead],
    frontiers: Mapping[int, bytes] | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    bases: Mapping[int, tuple[int, str, bytes]] | None = None,
) -> VerifyReport:
    """Every shard's chain against its head and its tree against ``checkpoints`` (verified).

    ``frontiers`` (packed, by shard) are the stored trees the checkpointer signs;
    each must match the tree rebuilt from the bodies. ``bases`` (by shard: size,
    last hash, packed frontier) are prefixes moved to an archive: the check
    starts after them, and ``proctor audit verify-archive`` checks the archive.
    """
    problem = checkpoint_problems(checkpoints)
    if problem is not None:
        number, text = problem
        return VerifyReport(False, 0, None, text, checkpoint=number)
    bases = bases or {}
    tree = _TreeCheck(checkpoints, bases)
    starts = {shard: ChainHead(size, digest) for shard, (size, digest, _) in bases.items()}
    report = verify_chain(rows, heads=heads, check=tree, starts=starts)
    if not report.ok:
        return replace(report, checkpoint=tree.failed_checkpoint)
    ends = report.shards or {}
    cut = tree.truncation(ends)
    if cut is not None:
        shard, first, number, text = cut
        return replace(
            report, ok=False, first_bad_seq=first, first_bad_shard=shard, problem=text,
            checkpoint=number,
        )  # fmt: skip
    for shard, packed in sorted((frontiers or {}).items()):
        built = tree.frontiers.get(shard, Frontier())
        if built.packed() != packed:
            return replace(
                report, ok=False, first_bad_seq=built.size, first_bad_shard=shard,
                problem=f"the stored Merkle tree of shard {shard} does not match its records",
            )  # fmt: skip
    return report
