"""``POST /v1/check`` by plain ASGI answers as the same route through Starlette's stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from proctor.server.app import GatewayApp
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import ADMIN_KEY, AUDITOR_KEY, PEP_KEY

CHECK = {"action": "read:orders", "agent": "support-bot", "user": "alice"}
JSON = {"content-type": "application/json"}
CASES: dict[str, dict[str, Any]] = {
    "allowed": {"json": CHECK, "headers": bearer(PEP_KEY)},
    "denied": {"json": {**CHECK, "action": "delete:orders"}, "headers": bearer(PEP_KEY)},
    "with a request id": {"json": CHECK, "headers": {**bearer(PEP_KEY), "x-request-id": "r-1"}},
    "no credential": {"json": CHECK, "headers": {"x-request-id": "r-2"}},
    "not bearer": {"json": CHECK, "headers": {"authorization": f"Basic {PEP_KEY}"}},
    "unknown credential": {"json": CHECK, "headers": bearer("pa_nobody")},
    "no check scope": {"json": CHECK, "headers": bearer(AUDITOR_KEY)},
    "not JSON media": {
        "content": b"{}",
        "headers": {**bearer(PEP_KEY), "content-type": "text/plain"},
    },
    "+json media": {
        "content": b'{"action": "read:orders", "agent": "support-bot"}',
        "headers": {**bearer(PEP_KEY), "content-type": "application/vnd.x+json"},
    },
    "broken JSON": {"content": b"{nope", "headers": {**bearer(PEP_KEY), **JSON}},
    "empty body": {"content": b"", "headers": {**bearer(PEP_KEY), **JSON}},
    "a list": {"json": [CHECK], "headers": bearer(PEP_KEY)},
    "wrong types": {"json": {"action": ["read:orders"], "agent": 3}, "headers": bearer(PEP_KEY)},
    "unknown field": {"json": {**CHECK, "admin": True}, "headers": bearer(PEP_KEY)},
    "what-if time without admin": {
        "json": {**CHECK, "at": "2026-11-24T10:00:00Z"},
        "headers": bearer(PEP_KEY),
    },
    "what-if time": {"json": {**CHECK, "at": "2026-11-24T10:00:00Z"}, "headers": bearer(ADMIN_KEY)},
    "declared too large": {
        "content": b"{}",
        "headers": {**bearer(PEP_KEY), **JSON, "content-length": "70000"},
    },
    "declared length not a number": {
        "content": b"{}",
        "headers": {**bearer(PEP_KEY), **JSON, "content-length": "many"},
    },
    "too large": {
        "json": {**CHECK, "args": {"x": "a" * 70_000}},
        "headers": {**bearer(PEP_KEY), "x-request-id": "r-3"},
    },
    "two request ids": {
        "json": CHECK,
        "headers": [*bearer(PEP_KEY).items(), ("x-request-id", "a"), ("x-request-id", "b")],
    },
    "a request id with a space": {
        "json": CHECK,
        "headers": {**bearer(PEP_KEY), "x-request-id": "a b"},
    },
    "a keyed check (the second answer is the first's, replayed)": {
        "json": {**CHECK, "request_id": "order-17.refund"},
        "headers": bearer(PEP_KEY),
    },
    "a traceparent": {
        "json": CHECK,
        "headers": {
            **bearer(PEP_KEY),
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        },
    },
}


def through_starlette(app: Starlette) -> Any:
    """The same app with every request through Starlette's stack (the route, not the plain path)."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        await Starlette.__call__(app, scope, receive, send)

    return asgi


@pytest.fixture
def both(client: TestClient) -> tuple[TestClient, TestClient]:
    """The gateway's client, and one over the same app (lifespan already run) via Starlette."""
    assert isinstance(client.app, GatewayApp)
    return client, TestClient(through_starlette(client.app), raise_server_exceptions=False)


def _answer(client: TestClient, case: dict[str, Any]) -> tuple[int, list[Any], Any]:
    response = client.post("/v1/check", **case)
    body = response.json()
    if isinstance(body, dict):
        body.pop("decision_id", None)
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-length"]
    return response.status_code, headers, body


@pytest.mark.parametrize("name", list(CASES))
def test_the_plain_route_answers_as_the_starlette_route(
    both: tuple[TestClient, TestClient], name: str
) -> None:
    plain, routed = both
    assert _answer(plain, CASES[name]) == _answer(routed, CASES[name])


def test_a_streamed_body_past_the_limit_is_413_with_the_request_id(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"action": "read:orders", "args": {"x": "'
        for _ in range(20):
            yield b"a" * 4096
        yield b'"}}'

    headers = {**bearer(PEP_KEY), **JSON, "x-request-id": "big-1"}
    response = client.post("/v1/check", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert response.headers["x-request-id"] == "big-1"


def test_while_draining_every_check_answer_asks_to_close(client: TestClient) -> None:
    client.app.state.gateway.draining = True  # type: ignore[attr-defined]
    allowed = client.post("/v1/check", json=CHECK, headers=bearer(PEP_KEY))
    refused = client.post("/v1/check", json=CHECK)
    assert allowed.status_code == 200
    assert allowed.headers["connection"] == "close"
    assert refused.status_code == 401
    assert refused.headers["connection"] == "close"


def test_a_client_gone_before_its_body_is_whole_is_not_answered_nor_recorded(
    client: TestClient,
) -> None:
    app = client.app
    before = client.get("/v1/audit/verify", headers=bearer(ADMIN_KEY)).json()["checked"]
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"action": "read:', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/check",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {PEP_KEY}".encode())],
    }
    client.portal.call(app, scope, receive, send)  # type: ignore[union-attr]
    assert sent == []
    after = client.get("/v1/audit/verify", headers=bearer(ADMIN_KEY)).json()["checked"]
    assert after == before


def test_an_unexpected_failure_is_the_500_envelope_and_nothing_of_it_leaks(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = client.app.state.gateway.runtime  # type: ignore[attr-defined]

    def broken(*_: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(runtime, "begin", broken)
    response = client.post(
        "/v1/check", json=CHECK, headers={**bearer(PEP_KEY), "x-request-id": "r-9"}
    )
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret" not in response.text


def test_other_methods_and_paths_still_go_through_starlette(client: TestClient) -> None:
    assert client.get("/v1/check", headers=bearer(PEP_KEY)).status_code == 405
    assert client.post("/v1/check/", json=CHECK, headers=bearer(PEP_KEY)).status_code in (
        200,
        307,
    )
