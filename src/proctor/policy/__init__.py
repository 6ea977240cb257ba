"""Policy documents: parse, compile (named stages), index and evaluate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from proctor._lazy import lazy_exports

if TYPE_CHECKING:
    from proctor.policy.compiler import STAGES, compile_sources
    from proctor.policy.errors import PolicyError, PolicyLoadError
    from proctor.policy.evaluate import CompiledPolicySet
    from proctor.policy.loader import load_policies
    from proctor.policy.source import PolicySource

__all__ = [
    "STAGES",
    "CompiledPolicySet",
    "PolicyError",
    "PolicyLoadError",
    "PolicySource",
    "compile_sources",
    "load_policies",
]

# Loaded on first use: reading a document (`policy.source`) does not import the compiler.
_EXPORTS = {
    "proctor.policy.compiler": ("compile_sources", "STAGES"),
    "proctor.policy.errors": ("PolicyError", "PolicyLoadError"),
    "proctor.policy.evaluate": ("CompiledPolicySet",),
    "proctor.policy.loader": ("load_policies",),
    "proctor.policy.source": ("PolicySource",),
}
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
