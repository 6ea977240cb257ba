"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

# A small alphabet makes collisions between patterns and actions likely.
SEGMENTS = st.sampled_from(["read", "write", "orders", "email", "a", "b"])


@st.composite
def actions(draw: st.DrawFn) -> str:
    return ":".join(draw(st.lists(SEGMENTS, min_size=1, max_size=4)))


@st.composite
def patterns(draw: st.DrawFn) -> str:
    segments = draw(st.lists(st.one_of(SEGMENTS, st.just("*")), min_size=1, max_size=4))
    return ":".join(segments)
