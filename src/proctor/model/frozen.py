"""Frozen dataclasses built in one assignment: for the values made on every check.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``,
about 1,200 instructions a field; ``Decision`` and ``AuditEvent`` are built on
every check with eleven and twenty-two fields. ``built_at_once`` gives such a
class an ``__init__`` with the same signature that sets the instance's
``__dict__`` in one call. Everything else is the dataclass's own: fields,
``replace``, equality, hashing, ``repr``, and the ``FrozenInstanceError`` on
an assignment. The class keeps a ``__dict__`` (no ``slots=True``).
"""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")

_new = object.__new__
_set = object.__setattr__


def built_at_once(cls: type[T]) -> type[T]:
    """Apply below ``@dataclass(frozen=True)``: the same ``__init__``, one setattr."""
    if not is_dataclass(cls) or hasattr(cls, "__slots__") or "__post_init__" in vars(cls):
        raise TypeError(f"`{cls.__name__}` must be a dataclass without slots or __post_init__")
    namespace: dict[str, Any] = {"_set": object.__setattr__, "_MISSING": MISSING}
    positional: list[str] = []
    keyword: list[str] = []
    entries: list[str] = []
    for item in fields(cls):
        name = item.name
        if not item.init:
            raise TypeError(f"field `{name}` of `{cls.__name__}` is not an init field")
        value = name
        if item.default is not MISSING:
            namespace[f"_default_{name}"] = item.default
            param = f"{name}=_default_{name}"
        elif item.default_factory is not MISSING:
            namespace[f"_factory_{name}"] = item.default_factory
            param = f"{name}=_MISSING"
            value = f"_factory_{name}() if {name} is _MISSING else {name}"
        else:
            param = name
        (keyword if item.kw_only else positional).append(param)
        entries.append(f"{name!r}: {value}")
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({params}):\n    _set(self, '__dict__', {{{', '.join(entries)}}})\n"
    exec(source, namespace)  # generated from the class's own field names, as dataclasses does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 - mypy forbids assigning a method
    return cls


def from_fields(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of a ``built_at_once`` class with ``values`` as its ``__dict__``.

    ``values`` holds every field, in the class's field order, as its ``__init__``
    would set them. For a value built on every check: a call with keyword
    arguments makes the interpreter collect them in a dict first and hand it to
    ``__init__`` (about a microsecond for ``AuditEvent``'s twenty-two).
    """
    instance: T = _new(cls)
    _set(instance, "__dict__", values)
    return instance
