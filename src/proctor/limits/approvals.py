"""Approvals bound to the exact call: action, canonical arguments, user and agent.

``call_hash`` is SHA-256 over the canonical JSON (sorted keys, no spaces) of
those four and the resource, so an approval of one call never lets a call with
any other argument, or on another resource, through. An approval passes
once: ``pending`` -> ``approved`` -> ``consumed``; ``rejected`` and expired
approvals never pass.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from proctor.model.approvals import Approval, ApprovalStatus

__all__ = ["Approval", "ApprovalStatus", "call_hash", "may_approve"]


def call_hash(
    action: str,
    args: Mapping[str, Any],
    user: str | None,
    agent: str,
    resource: str | None = None,
) -> str:
    """The identity of one exact call; ``args`` are the normalized (JSON-safe) arguments.

    The resource acted on (a prompt's name, a repository) is part of the call:
    an approval of ``get:srv/prompt`` on `pay` never lets `drain` through. It
    is hashed only when there is one, so a call without keeps its hash.
    """
    call: dict[str, Any] = {"action": action, "args": args, "user": user, "agent": agent}
    if resource is not None:
        call["resource"] = resource
    body = orjson.dumps(call, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def may_approve(approval: Approval, approver: str, roles: Iterable[str] = ()) -> tuple[bool, str]:
    """Whether ``approver`` (holding ``roles``) may decide ``approval``, and why not.

    The user whose call is held back never approves it. With no ``approvers``
    on the rule anyone else may; else one entry must match: ``user:PATTERN``
    (shell-style, e.g. ``user:*@shop.example``) or ``role:NAME``.
    """
    if approval.user is not None and approver == approval.user:
        return False, f"`{approver}` asked for this call and cannot approve it"
    if not approval.approvers:
        return True, ""
    held = set(roles)
    for entry in approval.approvers:
        kind, _, pattern = entry.partition(":")
        if kind == "user" and fnmatch.fnmatchcase(approver, pattern):
            return True, ""
        if kind == "role" and pattern in held:
            return True, ""
    allowed = ", ".join(f"`{entry}`" for entry in approval.approvers)
    return False, f"`{approver}` is not among the approvers of this call ({allowed})"
