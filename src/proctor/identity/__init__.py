"""Who asked and with what permissions: scopes algebra (tokens come next)."""

from proctor.identity.scopes import ScopeSet, effective_scopes

__all__ = ["ScopeSet", "effective_scopes"]
