"""Whatever text arrives as a policy, loading raises only proctor errors."""

from __future__ import annotations

import contextlib

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.errors import ProctorError
from proctor.policy import load_policies

KEYS = st.sampled_from(
    ["name", "version", "rules", "action", "effect", "when", "conditions", "applies_to",
     "default", "mode", "scopes", "on_error", "id", "reason", "tiers", "roles", "bogus"]
)  # fmt: skip
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["allow", "deny", "require_approval", "read:*", "args.x > 1", "*", ""]),
)  # fmt: skip
DOCUMENTS = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)  # fmt: skip


def _load(text: str) -> None:
    with contextlib.suppress(ProctorError):  # any other exception fails the test
        load_policies(texts=[text])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    _load(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_arbitrary_yaml_shapes(document: object) -> None:
    _load(yaml.safe_dump(document))
