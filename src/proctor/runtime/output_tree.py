"""A tool's result as JSON values, within the bounds a review and the provenance walk read.

Pure functions of the value: no scanner, no store. ``runtime/outputs.py`` turns
a result into this tree before it is scanned, redacted and remembered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from proctor.model.arguments import MAX_DEPTH
from proctor.scanners.bounds import encodable


def holds_more_than(tree: Any, limit: int) -> bool:
    """True when ``tree`` has more than ``limit`` values and containers below its root."""
    stack = [tree]
    seen = 0
    while stack:
        node = stack.pop()
        children = node.values() if isinstance(node, Mapping) else node
        if isinstance(node, Mapping | list):
            seen += len(node)
            if seen > limit:
                return True
            stack.extend(child for child in children if isinstance(child, Mapping | list))
    return False


class NestedTooDeep(Exception):
    """A result with containers nested past ``MAX_DEPTH``: it cannot be read whole."""


class UnreadableResult(TypeError):
    """A result that cannot be read for scanning without changing it (an iterator)."""


def output_tree(result: Any, depth: int = 0, *, whole: bool = False) -> Any:
    """A tool's result as JSON values (models and dataclasses dumped, other objects as text).

    Containers past ``MAX_DEPTH`` levels become a marker text, or with ``whole``
    raise ``NestedTooDeep``: what is cut off is neither scanned nor remembered.
    An object whose text is the default ``<Type object at 0x...>`` says nothing of
    what it holds: its public attributes are read instead, so a key kept in one is
    scanned. An iterator (a generator, a file) cannot be read without consuming what
    the agent would get: ``UnreadableResult``. May raise whatever the result's own
    ``__str__`` or dump raises.
    """
    if type(result) is str and not result.isascii():
        return encodable(result)  # a lone surrogate cannot be recorded or digested
    if result is None or isinstance(result, str | int | float | bool):
        return result
    if whole and depth >= MAX_DEPTH:  # the provenance walk opens no container this deep
        raise NestedTooDeep
    if depth > MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(result, bytes | bytearray | memoryview):
        return bytes(result).decode("utf-8", errors="replace")
    if isinstance(result, Iterator | AsyncIterator):  # read only by consuming it, after review
        raise UnreadableResult(
            f"a result of type `{type(result).__name__}` can only be read by consuming it; "
            "return a list"
        )
    if isinstance(result, Mapping):
        return {
            str(key): output_tree(value, depth + 1, whole=whole) for key, value in result.items()
        }
    if isinstance(result, list | tuple | set | frozenset):
        return [output_tree(value, depth + 1, whole=whole) for value in result]
    dump = getattr(result, "model_dump", None)
    if callable(dump):
        dumped = dump(mode="json", by_alias=True, exclude_none=True)
        return output_tree(dumped, depth + 1, whole=whole)
    if is_dataclass(result) and not isinstance(result, type):
        return output_tree(asdict(result), depth + 1, whole=whole)
    attributes = _public_attributes(result)
    if attributes:
        return {
            name: output_tree(value, depth + 1, whole=whole) for name, value in attributes.items()
        }
    return str(result)


def _public_attributes(result: Any) -> dict[str, Any]:
    """The public attributes of an object without a text form of its own (none otherwise)."""
    kind: Any = type(result)  # compared as plain attributes: the slots of ``object`` or not
    if kind.__str__ is not object.__str__ or kind.__repr__ is not object.__repr__:
        return {}
    names = list(getattr(result, "__dict__", {}))
    for cls in kind.__mro__:
        slots = getattr(cls, "__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return {
        name: getattr(result, name)
        for name in dict.fromkeys(names)
        if isinstance(name, str) and not name.startswith("_") and hasattr(result, name)
    }
