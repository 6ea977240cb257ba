"""Request bodies the gateway cannot use are a coded 400, never a 500."""

from __future__ import annotations

import pytest

from proctor.model.nesting import MAX_WIRE_DEPTH
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import PEP_KEY


@pytest.mark.parametrize("depth", [MAX_WIRE_DEPTH + 1, 1000])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/outputs", '{"action": "read:x", "agent": "support-bot", "result": %s}'),
        ("/v1/check", '{"action": "read:x", "agent": "support-bot", "args": {"a": %s}}'),
        ("/v1/runs/r-1/task", '{"content": %s}'),
    ],
)
def test_a_body_nested_too_deeply_is_a_400(
    client: TestClient, path: str, body: str, depth: int
) -> None:
    """A tool result nested 1,000 deep was reviewed (no scan applied) and echoed back,
    and the echo failed with `RecursionError`: a 500. Bodies nesting past
    `MAX_WIRE_DEPTH` are now refused where they are read."""
    deep = "[" * depth + "]" * depth
    response = client.post(
        path,
        content=(body % deep).encode(),
        headers={**bearer(PEP_KEY), "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_json"
    assert f"deeper than {MAX_WIRE_DEPTH}" in response.json()["error_description"]
    shallow = "[" * 20 + "]" * 20
    fine = client.post(
        path,
        content=(body % shallow).encode(),
        headers={**bearer(PEP_KEY), "content-type": "application/json"},
    )
    assert fine.status_code == 200, fine.text
