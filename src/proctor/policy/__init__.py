"""Policy documents: parse, compile (named stages), index and evaluate."""

from proctor.policy.compiler import STAGES, PolicySource, compile_sources
from proctor.policy.errors import PolicyError, PolicyLoadError
from proctor.policy.evaluate import CompiledPolicySet
from proctor.policy.loader import load_policies

__all__ = [
    "STAGES",
    "CompiledPolicySet",
    "PolicyError",
    "PolicyLoadError",
    "PolicySource",
    "compile_sources",
    "load_policies",
]
