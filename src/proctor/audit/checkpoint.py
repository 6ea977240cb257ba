"""Checkpoints over the audit log's shards, in the C2SP ``tlog-checkpoint`` format.

Each writer appends to its own shard, a hash chain whose records are also the
leaves of an RFC 9162 Merkle tree. A checkpoint commits to every shard at
once. Its note text is::

    <origin>
    <total records in all shards>
    <base64 root of the shards' tree>
    proctor-checkpoint <number> <time>
    shard <id> <size> <base64 root of the shard's tree>
    ...

The first three lines are the tlog-checkpoint body; the others are extension
lines (which other tlog clients ignore). The root on line 3 is the RFC 9162
root of a small tree whose leaves are the ``shard ...`` lines (UTF-8, no
newline), in shard order: one hash for all shards, and every shard's head
readable in the note. ``number`` counts checkpoints from 1, so a deleted range
shows as a gap. Records of two shards are ordered only by the first checkpoint
that covers them.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from proctor.audit.errors import AUDIT_BAD_NOTE, AuditError
from proctor.audit.merkle import fold, leaf_hash

CHECKPOINT_TAG = "proctor-checkpoint"
_ORIGIN = re.compile(r"^[^\s+]{1,200}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuditError(f"{what} is not base64", code=AUDIT_BAD_NOTE) from exc


@dataclass(frozen=True, slots=True)
class ShardHead:
    """One shard's tree at a checkpoint: how many records and their Merkle root."""

    shard: int
    size: int
    root: bytes

    def line(self) -> str:
        return f"shard {self.shard} {self.size} {b64(self.root)}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    number: int
    time: str
    shards: tuple[ShardHead, ...]

    @property
    def size(self) -> int:
        return sum(head.size for head in self.shards)

    @property
    def root(self) -> bytes:
        return shards_root(self.shards)

    def shard(self, shard: int) -> ShardHead | None:
        for head in self.shards:
            if head.shard == shard:
                return head
        return None

    def text(self) -> str:
        lines = [
            self.origin,
            str(self.size),
            b64(self.root),
            f"{CHECKPOINT_TAG} {self.number} {self.time}",
            *(head.line() for head in self.shards),
        ]
        return "\n".join(lines) + "\n"


def shards_root(shards: tuple[ShardHead, ...]) -> bytes:
    """The RFC 9162 root over the shards' lines, in shard order."""
    return fold([leaf_hash(head.line().encode()) for head in shards])


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint from its note text; its size and root must agree with its shard lines."""
    lines = text.split("\n")
    if len(lines) < 5 or lines[-1] != "":
        raise AuditError("a checkpoint has at least four lines", code=AUDIT_BAD_NOTE)
    origin, size_text, root_text, tag, *shard_lines = lines[:-1]
    if not _ORIGIN.match(origin):
        raise AuditError(f"`{origin[:80]}` is not a checkpoint origin", code=AUDIT_BAD_NOTE)
    if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise AuditError(f"`{size_text[:40]}` is not a tree size", code=AUDIT_BAD_NOTE)
    root = unb64(root_text, "the checkpoint's root hash")
    parts = tag.split(" ")
    if len(parts) != 3 or parts[0] != CHECKPOINT_TAG or not parts[1].isdigit():
        raise AuditError(f"`{tag[:80]}` is not a proctor checkpoint line", code=AUDIT_BAD_NOTE)
    if not _TIME.match(parts[2]):
        raise AuditError(f"`{parts[2][:40]}` is not a checkpoint time", code=AUDIT_BAD_NOTE)
    heads = tuple(_shard_head(line) for line in shard_lines)
    if [h.shard for h in heads] != sorted({h.shard for h in heads}):
        raise AuditError(
            "a checkpoint's shards must be listed once each, in order", code=AUDIT_BAD_NOTE
        )
    checkpoint = Checkpoint(origin, int(parts[1]), parts[2], heads)
    if checkpoint.size != int(size_text) or checkpoint.root != root:
        raise AuditError(
            "the checkpoint's size or root does not match its shard lines", code=AUDIT_BAD_NOTE
        )
    return checkpoint


def _shard_head(line: str) -> ShardHead:
    parts = line.split(" ")
    if len(parts) != 4 or parts[0] != "shard" or not parts[1].isdigit() or not parts[2].isdigit():
        raise AuditError(f"`{line[:80]}` is not a shard line", code=AUDIT_BAD_NOTE)
    root = unb64(parts[3], "a shard's root hash")
    if len(root) != 32:
        raise AuditError("a shard's root hash is not 32 bytes", code=AUDIT_BAD_NOTE)
    return ShardHead(int(parts[1]), int(parts[2]), root)
