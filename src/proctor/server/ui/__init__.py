"""The web dashboard at ``/ui``: the audit trail, approvals, agents, policies, limits, the chain."""

from proctor.server.ui.dashboard import create_dashboard

__all__ = ["create_dashboard"]
