"""Argument schemas: the kinds an action's arguments must have, checked before the rules.

A policy document may declare, per action, what each argument is::

    schemas:
      - action: "write:transfer"
        args:
          amount: number
          to: "text | list[text]"
          memo: text?                  # `?`: may be absent
          recipient: {iban: text, name: text?}

A call whose arguments do not fit is denied (``args_invalid``) with the path
and the problem, before any rule sees it; a deny rule never has to guess what
`args.amount > 10000` means for the text `"50000"`. Arguments a schema does not
name are not constrained.

Types: ``text`` (or ``string``), ``number``, ``integer``, ``boolean``, ``null``,
``list``, ``list[T]``, ``map`` (or ``object``), ``any``, unions with ``|``. A
mapping instead of a type string is a nested schema for a map argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from proctor.errors import ProctorError
from proctor.model.actions import ActionPattern
from proctor.policy.controls import located_patterns
from proctor.policy.errors import PolicyError
from proctor.policy.expr.values import describe
from proctor.policy.rules import CompiledPolicy
from proctor.policy.source import LocatedDocument

MAX_SCHEMA_DEPTH = 8
_NAMES = {
    "text": "text",
    "string": "text",
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "null": "null",
    "list": "list",
    "map": "map",
    "object": "map",
    "any": "any",
}
_LIST_OF = re.compile(r"list\s*\[(.*)\]\s*$", re.DOTALL)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal | Fraction) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal):
        return value == value.to_integral_value()
    if isinstance(value, Fraction):
        return value.denominator == 1
    return isinstance(value, float) and value.is_integer()


_SIMPLE: dict[str, Callable[[Any], bool]] = {
    "text": lambda value: isinstance(value, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "list": lambda value: isinstance(value, list | tuple),
    "map": lambda value: isinstance(value, Mapping),
    "any": lambda value: True,
}


@dataclass(frozen=True, slots=True)
class ArgType:
    """One compiled type: a union of alternatives; ``item`` is the element type of `list[T]`."""

    text: str
    alternatives: tuple[tuple[str, ArgType | None], ...]
    fields: tuple[tuple[str, ArgType, bool], ...] | None = None  # nested schema: name, type, needed

    def problem(self, value: Any, path: str) -> str | None:
        """Why ``value`` at ``path`` does not fit, or None when it does."""
        if self.fields is not None:
            if not isinstance(value, Mapping):
                return f"`{path}` must be a map, not {describe(value)}"
            return check_fields(self.fields, value, path)
        inner: str | None = None  # the problem of a list's element, the more precise report
        for name, item in self.alternatives:
            if not _SIMPLE[name](value):
                continue
            if item is None:
                return None
            for index, element in enumerate(value):
                inner = item.problem(element, f"{path}[{index}]")
                if inner is not None:
                    break
            else:
                return None
        return inner or f"`{path}` must be {self.text}, not {describe(value)}"


def check_fields(
    fields: tuple[tuple[str, ArgType, bool], ...], args: Mapping[str, Any], prefix: str
) -> str | None:
    for name, kind, needed in fields:
        path = f"{prefix}.{name}" if prefix else name
        if name not in args:
            if needed:
                return f"`{path}` is missing"
            continue
        found = kind.problem(args[name], path)
        if found is not None:
            return found
    return None


@dataclass(frozen=True, slots=True, eq=False)
class CompiledArgSchema:
    policy: CompiledPolicy
    patterns: tuple[ActionPattern, ...]
    fields: tuple[tuple[str, ArgType, bool], ...]

    def problem(self, args: Mapping[str, Any]) -> str | None:
        return check_fields(self.fields, args, "")


def compile_schemas(
    specs: list[Any], policy: CompiledPolicy, document: LocatedDocument, errors: list[ProctorError]
) -> list[CompiledArgSchema]:
    compiled: list[CompiledArgSchema] = []
    for index, spec in enumerate(specs):
        where = ("schemas", index)
        patterns = located_patterns(spec.action, document, where, errors)
        fields = _fields(spec.args, (*where, "args"), document, errors, 0)
        if fields is not None and patterns:
            compiled.append(CompiledArgSchema(policy, tuple(patterns), fields))
    return compiled


def _fields(
    spec: Mapping[str, Any],
    where: tuple[str | int, ...],
    document: LocatedDocument,
    errors: list[ProctorError],
    depth: int,
) -> tuple[tuple[str, ArgType, bool], ...] | None:
    fields: list[tuple[str, ArgType, bool]] = []
    ok = True
    for name, value in spec.items():
        path = (*where, name)
        needed = True
        if isinstance(value, Mapping) and depth < MAX_SCHEMA_DEPTH:
            nested = _fields(value, path, document, errors, depth + 1)
            if nested is None:
                ok = False
                continue
            fields.append((str(name), ArgType("a map", (), nested), True))
            continue
        if isinstance(value, str) and value.strip().endswith("?"):
            value, needed = value.strip()[:-1], False
        kind = _parse_type(value) if isinstance(value, str) else None
        if kind is None:
            ok = False
            errors.append(
                PolicyError(
                    f"`{value}` is not an argument type",
                    code="policy_invalid_schema",
                    location=document.location(path),
                    hint="use text, number, integer, boolean, null, list, list[T], map or any, "
                    "joined with `|`; end with `?` when the argument may be absent",
                )
            )
            continue
        fields.append((str(name), kind, needed))
    return tuple(fields) if ok else None


def _parse_type(text: str, depth: int = 0) -> ArgType | None:
    if depth > MAX_SCHEMA_DEPTH:
        return None
    alternatives: list[tuple[str, ArgType | None]] = []
    for part in _split_union(text):
        part = part.strip()
        listed = _LIST_OF.match(part)
        if listed:
            item = _parse_type(listed.group(1), depth + 1)
            if item is None:
                return None
            alternatives.append(("list", item))
        elif part in _NAMES:
            alternatives.append((_NAMES[part], None))
        else:
            return None
    if not alternatives:
        return None
    return ArgType(
        " or ".join(_shown(name, item) for name, item in alternatives), tuple(alternatives)
    )


def _shown(name: str, item: ArgType | None) -> str:
    if item is not None:
        return f"a list of {item.text}"
    return {
        "number": "a number",
        "integer": "a whole number",
        "boolean": "true or false",
        "list": "a list",
        "map": "a map",
        "any": "any value",
    }.get(name, name)


def _split_union(text: str) -> list[str]:
    """`a | list[b | c]` -> [`a`, `list[b | c]`]: bars inside brackets belong to the list."""
    parts, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return parts
