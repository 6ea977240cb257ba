"""The action index finds candidates without scanning every rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.model.actions import parse_pattern
from proctor.policy.index import ActionIndex
from tests.strategies import actions, patterns


def test_candidates_come_from_the_index_in_order() -> None:
    entries = [
        (parse_pattern(p), order, p)
        for order, p in enumerate(
            ["read:*", "write:email", "*:email", "*", "read:orders:*", "a:*:c:*"]
        )
    ]
    index = ActionIndex(entries)
    assert index.candidates("read:orders:1") == ("read:*", "*", "read:orders:*")
    assert index.candidates("write:email") == ("write:email", "*:email", "*")
    assert index.candidates("a:b:c:d") == ("*", "a:*:c:*")


def test_ten_thousand_exact_rules_are_not_scanned() -> None:
    entries = [(parse_pattern(f"write:thing_{n}"), n, n) for n in range(10_000)]
    index = ActionIndex(entries)
    assert index.candidates("write:thing_9999") == (9999,)
    assert index.candidates("write:nothing") == ()
    assert not index._fallback_rest  # nothing is left to scan
    assert not index._fallback_exact


@given(st.lists(patterns(), max_size=12), actions())
@settings(max_examples=300)
def test_the_index_agrees_with_a_full_scan(texts: list[str], action: str) -> None:
    entries = [(parse_pattern(text), order, order) for order, text in enumerate(texts)]
    expected = tuple(order for pattern, order, _ in entries if pattern.matches(action))
    assert ActionIndex(entries).candidates(action) == expected
