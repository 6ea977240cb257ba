"""Hostile arguments through ``Proctor.check``: the check's quick copy of plain values and
short lists of them hands every unusual shape to the full walk, which fails closed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from proctor import Proctor
from proctor.clock import ManualClock
from proctor.model import Agent, Tier
from proctor.model.arguments import MAX_DEPTH, MAX_ITEMS

POLICY = 'name: p\nrules: [{id: all, action: "write:*", effect: allow}]\n'


@pytest.fixture
def guard() -> Iterator[Proctor]:
    clock = ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC))
    with Proctor.from_policies(
        texts=(POLICY,), agents=[Agent("bot", tier=Tier.VERIFIED)], clock=clock
    ) as instance:
        yield instance


def _nested(depth: int, leaf: Any) -> dict[str, Any]:
    """``leaf`` under key ``l`` of a mapping at ``depth`` (the arguments are depth 1)."""
    tree: dict[str, Any] = {"l": leaf}
    for _ in range(depth - 1):
        tree = {"a": tree}
    return tree


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"l": [1.5, float("nan")]}, "arguments cannot hold NaN or infinite numbers"),
        ({"l": ("a", float("-inf"))}, "arguments cannot hold NaN or infinite numbers"),
        ({"f": float("inf")}, "arguments cannot hold NaN or infinite numbers"),
        ({"l": [2**9000]}, "an argument number has more than 8192 bits"),
        ({"l": ["a"] * 5000, "m": ["b"] * 5001}, f"arguments hold more than {MAX_ITEMS} values"),
        (
            {"big": ["a" * 1_048_576] * 4, "l": ["abc"]},
            "argument text is longer than 1048576 characters",
        ),
        (_nested(MAX_DEPTH, ["x"]), f"arguments are nested deeper than {MAX_DEPTH} levels"),
    ],
    ids=["nan", "infinity in a tuple", "infinity", "huge integer", "items", "text", "depth"],
)
def test_arguments_past_a_bound_are_denied_in_a_list_too(
    guard: Proctor, args: dict[str, Any], reason: str
) -> None:
    decision = guard.check("write:x", agent="bot", args=args)
    assert (decision.effect, decision.code) == ("deny", "invalid_request")
    assert decision.reason == f"invalid arguments: {reason}"
    assert guard.runtime.audit.tail(1)[0]["args"] == {}


@pytest.mark.parametrize(
    ("args", "recorded"),
    [
        ({"l": [2**53, 1]}, {"l": [str(2**53), 1]}),  # beyond 2**53: text in the record
        ({"l": ["x\ud800y"]}, {"l": ["x?y"]}),  # a lone surrogate cannot be stored as UTF-8
        ({1: ("a", None, True, 2.5)}, {"1": ["a", None, True, 2.5]}),
        ({"l": ["a"] * (MAX_ITEMS - 1)}, {"l": ["a"] * (MAX_ITEMS - 1)}),
        (_nested(MAX_DEPTH - 1, ["x"]), _nested(MAX_DEPTH - 1, ["x"])),
    ],
    ids=["unsafe integer", "surrogate", "name and tuple", "items at the bound", "depth"],
)
def test_unusual_values_in_lists_are_recorded_as_the_full_walk_makes_them(
    guard: Proctor, args: dict[Any, Any], recorded: dict[str, Any]
) -> None:
    assert guard.check("write:x", agent="bot", args=args).allowed
    assert guard.runtime.audit.tail(1)[0]["args"] == recorded
