from __future__ import annotations

import pytest
from hypothesis import given, settings

from proctor.model.actions import InvalidPattern, parse_pattern, validate_action
from tests.strategies import actions, patterns

MATCH_CASES = [
    ("read:*", "read:orders", True),
    ("read:*", "read:orders:items", True),
    ("read:*", "read", False),
    ("read:*", "write:orders", False),
    ("*:email", "write:email", True),
    ("*:email", "write:team:email", False),
    ("*", "anything:at:all", True),
    ("*", "one", True),
    ("write:email", "write:email", True),
    ("write:email", "write:emails", False),
    ("a:*:c", "a:b:c", True),
    ("a:*:c", "a:b:d", False),
    ("a:*:*", "a:b:c:d", True),
    ("a:*:*", "a:b", False),
]


@pytest.mark.parametrize(("pattern", "action", "expected"), MATCH_CASES)
def test_pattern_matching(pattern: str, action: str, expected: bool) -> None:
    assert parse_pattern(pattern).matches(action) is expected


@pytest.mark.parametrize("text", ["", "read:", ":x", "read:ord*", "re ad:x", "a::b"])
def test_malformed_patterns_are_refused(text: str) -> None:
    with pytest.raises(InvalidPattern):
        parse_pattern(text)


def test_partial_wildcard_suggests_a_segment_wildcard() -> None:
    with pytest.raises(InvalidPattern, match=r"did you mean `read:\*`"):
        parse_pattern("read:ord*")


@pytest.mark.parametrize("action", ["", "read:*", "a::b", "x" * 600, "read: x"])
def test_invalid_actions_are_named(action: str) -> None:
    assert validate_action(action) is not None


@given(patterns(), patterns(), actions())
@settings(max_examples=600)
def test_an_action_matches_the_intersection_iff_it_matches_both(
    left: str, right: str, action: str
) -> None:
    a, b = parse_pattern(left), parse_pattern(right)
    meet = a.intersect(b)
    both = a.matches(action) and b.matches(action)
    assert (meet is not None and meet.matches(action)) == both


@given(patterns(), patterns())
def test_intersection_is_commutative(left: str, right: str) -> None:
    a, b = parse_pattern(left), parse_pattern(right)
    assert a.intersect(b) == b.intersect(a)


@given(patterns(), patterns(), patterns())
def test_intersection_is_associative(x: str, y: str, z: str) -> None:
    a, b, c = parse_pattern(x), parse_pattern(y), parse_pattern(z)
    ab = a.intersect(b)
    bc = b.intersect(c)
    left = ab.intersect(c) if ab is not None else None
    right = a.intersect(bc) if bc is not None else None
    assert left == right


@given(patterns(), patterns(), actions())
def test_covers_means_every_matched_action_is_matched(wide: str, narrow: str, action: str) -> None:
    a, b = parse_pattern(wide), parse_pattern(narrow)
    if a.covers(b) and b.matches(action):
        assert a.matches(action)


@given(patterns(), patterns())
@settings(max_examples=600)
def test_covers_is_the_intersection_being_the_narrower_pattern(wide: str, narrow: str) -> None:
    a, b = parse_pattern(wide), parse_pattern(narrow)
    assert a.covers(b) == (a.intersect(b) == b)


@pytest.mark.parametrize(
    "action",
    ["read:x\u0000", "read:\u202ex", "de\u200blete:x", "read:\ufeffx", "\uff44elete:x"],
)
def test_invisible_characters_and_look_alikes_are_named(action: str) -> None:
    assert validate_action(action) is not None
