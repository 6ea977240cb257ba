"""Property: effective scopes never exceed the user's or any role's, at any depth."""

from __future__ import annotations

import jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.identity.errors import ExchangeError
from proctor.identity.scopes import ScopeSet
from tests.identity import factory as f

VERBS = ("read", "write", "delete", "*")
THINGS = ("crm", "orders", "refund", "email", "*")
SCOPE = st.builds(
    lambda verb, thing: f"{verb}:{thing}", st.sampled_from(VERBS), st.sampled_from(THINGS)
)
ACTIONS = [f"{verb}:{thing}" for verb in VERBS[:3] for thing in THINGS[:4]]
RUNTIME = f.runtime(max_chain_depth=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    user_scopes=st.lists(SCOPE, min_size=1, max_size=4),
    chain=st.lists(st.sampled_from(sorted(f.AGENTS)), min_size=1, max_size=4),
    requests=st.lists(st.lists(SCOPE, max_size=2), min_size=4, max_size=4),
)
def test_scopes_only_narrow(
    user_scopes: list[str], chain: list[str], requests: list[list[str]]
) -> None:
    user = ScopeSet.parse(user_scopes)
    held = f.user_token("prop", " ".join(user_scopes))
    seen_roles: list[ScopeSet] = []
    refusals: list[str] = []
    for agent_id, requested in zip(chain, requests, strict=False):
        try:
            held = f.exchange(RUNTIME, held, agent_id, tuple(requested))
        except ExchangeError as refused:
            refusals.append(refused.error)
            break
        role = f.ROLES[f.AGENTS[agent_id].role or ""]
        seen_roles.append(ScopeSet.parse(role))
        granted = jwt.decode(held, options={"verify_signature": False})["scope"].split()
        granted_set = ScopeSet.parse(granted)
        for pattern in granted_set.patterns:
            assert user.covers(pattern)
            assert all(scopes.covers(pattern) for scopes in seen_roles)
        if requested:
            assert all(ScopeSet.parse(requested).covers(p) for p in granted_set.patterns)
        for action in ACTIONS:
            decision = RUNTIME.check(action, token=held)
            if decision.allowed:
                assert user.allows(action)
                assert all(scopes.allows(action) for scopes in seen_roles)
    assert set(refusals) <= {"invalid_scope", "invalid_request"}
