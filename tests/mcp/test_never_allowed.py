"""Which tools `tools/list` hides: those no call could ever pass."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from proctor.identity.scopes import ScopeSet
from proctor.mcp.never_allowed import could_be_allowed
from proctor.model.request import Agent
from proctor.model.tiers import Tier
from proctor.policy import load_policies

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
AGENT = Agent("bot", "assistant", Tier.VERIFIED)
EVERYTHING = ScopeSet.parse(["*"])
POLICY = """\
name: tools
rules:
  - {id: reads, action: "read:*", effect: allow}
  - {id: no-wipe, action: "delete:disk", effect: deny}
  - {id: small, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: ro, action: "call:*", effect: allow, when: "context.tool.read_only == true"}
  - {id: never-git, action: "call:*", effect: deny, when: "tool.server == 'git'"}
  - {id: trusted-only, action: "write:repo", effect: allow, when: "agent.tier == 'trusted'"}
  - {id: approve-mail, action: "write:email", effect: require_approval}
"""


def _tool(server: str = "srv", *, read_only: bool = False) -> dict[str, object]:
    return {"tool": {"server": server, "read_only": read_only, "name": "t"}}


@pytest.mark.parametrize(
    ("action", "context", "expected"),
    [
        ("read:orders", _tool(), True),
        ("delete:disk", _tool(), False),  # an unconditional deny
        ("write:refund", _tool(), True),  # an argument condition may hold
        ("call:srv/echo", _tool(read_only=True), True),
        ("call:srv/rm", _tool(), False),  # decided now: not read-only
        ("call:git/log", _tool("git", read_only=True), False),  # a deny decided now
        ("write:repo", _tool(), False),  # the agent is not trusted
        ("write:email", _tool(), True),  # a person may approve it
        ("admin:reboot", _tool(), False),  # no rule, default deny
    ],
)
def test_could_be_allowed(action: str, context: dict[str, object], expected: bool) -> None:
    policies = load_policies([], texts=(POLICY,), timezone=ZoneInfo("UTC"))
    assert could_be_allowed(policies, action, AGENT, EVERYTHING, context, NOW) is expected


def test_outside_the_scopes_is_hidden() -> None:
    policies = load_policies([], texts=(POLICY,), timezone=ZoneInfo("UTC"))
    narrow = ScopeSet.parse(["write:*"])
    assert could_be_allowed(policies, "read:orders", AGENT, narrow, _tool(), NOW) is False


def test_defaults_decide_when_no_rule_matches() -> None:
    lenient = "name: open\ndefault: allow\nrules:\n  - {action: 'delete:*', effect: deny}\n"
    policies = load_policies([], texts=(lenient,), timezone=ZoneInfo("UTC"))
    assert could_be_allowed(policies, "call:srv/x", AGENT, EVERYTHING, _tool(), NOW) is True
    assert could_be_allowed(policies, "delete:x", AGENT, EVERYTHING, _tool(), NOW) is False
    none = load_policies([], texts=(), timezone=ZoneInfo("UTC"))
    assert could_be_allowed(none, "read:x", AGENT, EVERYTHING, _tool(), NOW) is False
