from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor.identity.scopes import ScopeSet, effective_scopes
from proctor.model.actions import InvalidPattern
from tests.strategies import actions, patterns


@pytest.mark.parametrize(
    ("user", "role", "expected"),
    [
        (["read:*"], ["*:orders"], ["read:orders"]),
        (["read:*", "write:email"], ["read:orders", "write:*"], ["read:orders", "write:email"]),
        (["*"], ["read:*"], ["read:*"]),
        (["read:*"], ["write:*"], []),
        (["read:orders", "read:*"], ["*"], ["read:*"]),
    ],
)
def test_symbolic_intersection(user: list[str], role: list[str], expected: list[str]) -> None:
    assert list(ScopeSet.parse(user).intersect(ScopeSet.parse(role)).to_strings()) == expected


def test_a_missing_side_does_not_restrict() -> None:
    role = ScopeSet.parse(["read:*"])
    assert effective_scopes(None, role) == role
    assert effective_scopes(role, None) == role
    assert effective_scopes(None, None).allows("anything:at:all")


@given(st.lists(patterns(), max_size=4), st.lists(patterns(), max_size=4), actions())
def test_a_scope_set_intersection_allows_exactly_what_both_allow(
    left: list[str], right: list[str], action: str
) -> None:
    a, b = ScopeSet.parse(left), ScopeSet.parse(right)
    assert a.intersect(b).allows(action) == (a.allows(action) and b.allows(action))


@given(st.lists(patterns(), max_size=5), actions())
def test_minimizing_keeps_what_is_allowed(scopes: list[str], action: str) -> None:
    minimal = ScopeSet.parse(scopes)
    assert minimal.allows(action) == any(ScopeSet.parse([scope]).allows(action) for scope in scopes)
    for pattern in minimal.patterns:
        assert not any(o != pattern and o.covers(pattern) for o in minimal.patterns)


def test_a_repeated_set_is_parsed_once_and_an_unhashable_entry_still_refused() -> None:
    many = [f"read:area_{n}:*" for n in range(100)]
    first = ScopeSet.parse(many)
    assert ScopeSet.parse(list(many)) is first  # kept: ~11 ms to minimise each time
    with pytest.raises((TypeError, InvalidPattern)):
        ScopeSet.parse([["read:*"]])  # type: ignore[list-item]
