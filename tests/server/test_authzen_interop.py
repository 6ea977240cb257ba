"""The OpenID AuthZEN interop vectors (tests/server/authzen, vendored) through `proctor serve`,
judged the way the interop runners judge them: the Todo 1.0-01 and 1.0-02 scenarios
(``interop/authzen-todo-backend/test/runner.ts``) and the API-gateway scenario
(``interop/authzen-api-gateways/test-harness/test/runner.ts``) compare
``JSON.stringify(expected)`` with ``JSON.stringify(data.decision || false)`` for an
evaluation and with ``JSON.stringify(data.evaluations || [])`` for a batch."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.server.authzen_pdp import (  # noqa: F401 (fixtures)
    VECTORS,
    client_fixture,
    pdp_fixture,
)

SUITES = {
    "todo-1.0-01": VECTORS / "todo" / "decisions-authorization-api-1_0-01.json",
    "todo-1.0-02": VECTORS / "todo" / "decisions-authorization-api-1_0-02.json",
    "api-gateway": VECTORS / "api-gateway" / "decisions.json",
}


def _vectors(suite: str, endpoint: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(SUITES[suite].read_text()).get(endpoint, [])
    return found


def _runner_verdict(client: httpx.Client, endpoint: str, vector: dict[str, Any]) -> str:
    """What the interop runner prints for one vector: PASS, FAIL (with what came back)."""
    response = client.post(f"/access/v1/{endpoint}", content=json.dumps(vector["request"]))
    data = response.json()
    got = (
        (data.get("decision") or False)
        if endpoint == "evaluation"
        else data.get("evaluations") or []
    )
    if json.dumps(vector["expected"]) == json.dumps(got):
        return "PASS"
    return f"FAIL {response.status_code} {json.dumps(data)[:300]}"


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_interop_vector_passes_the_runners_comparison(
    client: httpx.Client, suite: str
) -> None:
    verdicts = {}
    for endpoint in ("evaluation", "evaluations"):
        for number, vector in enumerate(_vectors(suite, endpoint)):
            verdicts[f"{endpoint} #{number}"] = _runner_verdict(client, endpoint, vector)
    failed = {key: verdict for key, verdict in verdicts.items() if verdict != "PASS"}
    assert failed == {}
    counts = {"todo-1.0-01": 40, "todo-1.0-02": 43, "api-gateway": 25}
    assert len(verdicts) == counts[suite]  # the vectors are all there
