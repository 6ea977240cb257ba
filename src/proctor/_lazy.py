"""Package exports imported on first use (PEP 562), so a package import stays cheap.

A package lists its public names twice: under ``TYPE_CHECKING`` (what mypy and
readers see) and in the ``exports`` table given here (defining module -> its
names, like the imports), which a module-level ``__getattr__`` consults the
first time a name is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    namespace: dict[str, Any], exports: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package whose ``globals()`` is ``namespace``."""
    package = namespace["__name__"]
    module_of = exported_names(exports)

    def __getattr__(name: str) -> object:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later look-ups find it without coming here
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *module_of})

    return __getattr__, __dir__


def exported_names(exports: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Each exported name with the module that defines it."""
    return {name: module for module, names in exports.items() for name in names}
