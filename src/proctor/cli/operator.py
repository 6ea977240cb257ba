"""Who runs a command that changes state: the operating-system account, as a credential.

The CLI writes the database itself, so whoever runs it is an operator of that
database; its records name the account (``extra.credential``) beside the
person the command says acts (``--as``).
"""

from __future__ import annotations

import getpass


def operator() -> str:
    """The account running this process (``unknown`` where it has no name)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a bare container)
        return "unknown"


def cli_credential(**more: str) -> dict[str, str]:
    """The credential a CLI change is recorded with: ``{"kind": "cli", "operator": ...}``."""
    return {"kind": "cli", **more, "operator": operator()}
