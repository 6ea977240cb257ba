"""A check request: immutable, cheap to build, and the same value however it is spelled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from proctor.audit.canonical import canonical_json
from proctor.model.request import Agent, CheckRequest

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


def test_a_request_cannot_be_changed_after_it_is_built() -> None:
    request = CheckRequest("read:a", Agent("bot"), NOW, args={"n": 1})
    with pytest.raises(AttributeError):
        request.action = "delete:a"  # type: ignore[misc]
    assert request == CheckRequest(action="read:a", agent=Agent("bot"), now=NOW, args={"n": 1})
    assert request._replace(action="delete:a").action == "delete:a"
    assert request.action == "read:a"


def test_defaults_are_empty_json_mappings_and_exact_arguments_win() -> None:
    bare = CheckRequest("read:a", Agent("bot"), NOW)
    assert (bare.args, bare.context, bare.taint) == ({}, {}, {})
    assert canonical_json(bare.args) == b"{}"  # serializable like any request's arguments
    assert bare.evaluated_args == {}
    exact = CheckRequest("read:a", Agent("bot"), NOW, args={"n": "2"}, exact_args={"n": 2})
    assert exact.evaluated_args == {"n": 2}
