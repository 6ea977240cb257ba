"""Every route of the app: none but health and JWKS answers without a credential, and every
error, on every route, has the one envelope."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Mount, Route

from proctor.server.openapi import PUBLIC_PATHS
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import ADMIN_KEY, AUDITOR_KEY

ENVELOPE_KEYS = {"error", "error_description", "code", "status"}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    found = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount) and route.path == "/ui":
            continue  # the dashboard: HTML pages behind a session (tests/server/ui)
        assert isinstance(route, Route)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, re.sub(r"\{[^}]+\}", "x", route.path)))
    return found


def assert_envelope(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= ENVELOPE_KEYS, body
    assert set(body) <= ENVELOPE_KEYS | {"hint", "details"}
    assert body["status"] == status
    assert isinstance(body["error"], str)
    assert isinstance(body["code"], str)
    assert body["error_description"]
    assert response.headers["content-type"].startswith("application/json")


def test_the_route_list_is_what_the_openapi_lists(client: TestClient) -> None:
    spec = client.get("/openapi.json", headers=bearer(AUDITOR_KEY)).json()
    documented = {
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    assert documented == set(_routes(client))


def test_no_route_but_health_and_jwks_answers_without_a_credential(client: TestClient) -> None:
    routes = _routes(client)
    assert len(routes) >= 20
    for method, path in routes:
        response = client.request(method, path)
        if path in PUBLIC_PATHS:
            assert response.status_code in (200, 503), (method, path)
            continue
        assert_envelope(response, 401)
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), path


@pytest.mark.parametrize("credential", ["nonsense", "pk_abc_def", "pa_wrong", "a.b.c"])
def test_a_bad_credential_is_401_on_every_route(client: TestClient, credential: str) -> None:
    for method, path in _routes(client):
        if path in PUBLIC_PATHS:
            continue
        response = client.request(method, path, headers=bearer(credential))
        assert_envelope(response, 401)


def test_two_authorization_headers_are_refused_on_every_route(client: TestClient) -> None:
    """The first of two headers was taken: a proxy in front that reads the last one would
    see another caller than proctor does."""
    for first, second in ((ADMIN_KEY, "nonsense"), ("nonsense", ADMIN_KEY)):
        headers = [("authorization", f"Bearer {first}"), ("authorization", f"Bearer {second}")]
        for method, path in _routes(client):
            if path in PUBLIC_PATHS:
                continue
            response = client.request(method, path, headers=headers)
            assert_envelope(response, 400)
            assert response.json()["code"] == "duplicate_credentials", (method, path)


def test_a_non_bearer_scheme_is_401(client: TestClient) -> None:
    response = client.get("/v1/audit", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert_envelope(response, 401)


def test_an_agent_credential_reaches_no_admin_route(client: TestClient, agent_key: str) -> None:
    agent_routes = {
        ("POST", "/v1/check"),
        ("POST", "/v1/check/batch"),
        ("POST", "/v1/outputs"),
        ("POST", "/v1/runs/x/task"),
        ("POST", "/access/v1/evaluation"),
        ("POST", "/access/v1/evaluations"),
        ("POST", "/oauth2/token"),
        ("GET", "/openapi.json"),
    }
    for method, path in _routes(client):
        if path in PUBLIC_PATHS or (method, path) in agent_routes:
            continue
        response = client.request(method, path, headers=bearer(agent_key))
        assert_envelope(response, 403)


def test_errors_on_every_route_have_the_envelope(client: TestClient) -> None:
    """A wrong body (or a missing record) on each route, as an admin: 4xx, never a 500."""
    admin = bearer("pa_test-admin-key-0123456789")
    for method, path in _routes(client):
        if method == "POST":
            response = client.request(
                method,
                path,
                content=b"[1, 2",
                headers={**admin, "content-type": "application/json"},
            )
        else:
            response = client.request(method, path + "?limit=-1&status=nope", headers=admin)
        if response.status_code < 400:
            continue
        assert response.status_code < 500, (method, path, response.text)
        assert_envelope(response, response.status_code)


def test_unknown_paths_and_methods_have_the_envelope(client: TestClient) -> None:
    assert_envelope(client.get("/nope", headers=bearer(AUDITOR_KEY)), 404)
    assert_envelope(client.delete("/v1/check", headers=bearer(AUDITOR_KEY)), 405)
