"""The syntax tree the parser builds and the compiler reads.

Every node keeps the character offsets it spans, so compile errors can point
at the offending token. ``depth`` is the node's nesting depth (a leaf is 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any  # int, float, str, bool or None
    start: int
    end: int
    depth: int = 1


@dataclass(frozen=True, slots=True)
class ListLiteral:
    items: tuple[Node, ...]
    start: int
    end: int
    depth: int


@dataclass(frozen=True, slots=True)
class Key:
    """A literal path step: `.name`, `["name"]` or `[0]`."""

    key: str | int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DynamicKey:
    """A computed path step: `[expression]`."""

    expression: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Path:
    root: str
    steps: tuple[Key | DynamicKey, ...]
    start: int
    end: int
    depth: int


@dataclass(frozen=True, slots=True)
class Unary:
    operator: str  # "not" or "-"
    operand: Node
    start: int
    end: int
    depth: int


@dataclass(frozen=True, slots=True)
class Binary:
    """Comparison, membership, regex and arithmetic operators; ``operator`` is normalised."""

    operator: str  # "==", "<", "in", "not in", "contains", "matches", "+", ...
    left: Node
    right: Node
    operator_start: int
    start: int
    end: int
    depth: int


@dataclass(frozen=True, slots=True)
class Logical:
    """`and` / `or` over two or more operands (chains are flattened)."""

    operator: str  # "and" or "or"
    operands: tuple[Node, ...]
    start: int
    end: int
    depth: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lowercased
    arguments: tuple[Node, ...]
    start: int
    end: int
    depth: int


Node = Literal | ListLiteral | Path | Unary | Binary | Logical | Call
