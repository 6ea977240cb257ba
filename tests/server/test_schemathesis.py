"""Schemathesis over the published OpenAPI against a real server: no input gives a 500.

Bounded: a few examples per operation, no deadline, loopback only. Requests
carry the admin key, so they get past authentication into every handler.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from proctor.server.openapi import build_openapi
from tests.server.gateway import ADMIN_KEY, ServerProcess, start_server, write_config

schema = schemathesis.openapi.from_dict(build_openapi("test"))
ENVELOPE = {"error", "error_description", "code", "status"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    process = start_server(write_config(directory))
    yield process
    process.stop()


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_500(case: schemathesis.Case, server: ServerProcess) -> None:
    response = case.call(
        base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10
    )
    assert response.status_code < 500, (case.method, case.path, response.text)
    if response.status_code >= 400:
        assert set(response.json()) >= ENVELOPE, response.text


# -- the dashboard's pages and forms ---------------------------------------------------
#
# Not in the published API, so described here: every query a page reads, every form
# field a POST reads, as the strings (and record numbers) a browser could send. The
# requests carry a signed-in session, its CSRF token and this server's origin, so they
# get past the guards into the handlers.

_FILTERS = ("user", "agent", "action", "effect", "run", "kind", "since", "until")


def _query(name: str, schema: dict[str, object] | None = None) -> dict[str, object]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"}}


def _path(name: str) -> dict[str, object]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _form(csrf: str, fields: dict[str, dict[str, object]]) -> dict[str, object]:
    properties = {"csrf": {"type": "string", "enum": [csrf]}, **fields}
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": properties, "required": ["csrf"]}
            }
        },
    }


def _ok() -> dict[str, object]:
    return {"responses": {"default": {"description": "any"}}}


def dashboard_schema(csrf: str) -> dict[str, object]:
    text: dict[str, object] = {"type": "string"}
    filters = [_query(name) for name in _FILTERS]
    get = lambda *params: {"get": {**_ok(), "parameters": list(params)}}  # noqa: E731

    def post(fields: dict[str, dict[str, object]], *params: dict[str, object]) -> object:
        return {"post": {**_ok(), "parameters": list(params), "requestBody": _form(csrf, fields)}}

    paths = {
        "/ui/feed": get(*filters, _query("before", {"type": "integer"})),
        "/ui/feed/newer": get(*filters, _query("after", {"type": "integer"})),
        "/ui/decisions/{decision_id}": get(_path("decision_id")),
        "/ui/chain": get(_query("verify")),
        "/ui/approvals": get(),
        "/ui/approvals/{approval_id}/approve": post({"reason": text}, _path("approval_id")),
        "/ui/approvals/{approval_id}/reject": post({"reason": text}, _path("approval_id")),
        "/ui/agents": get(),
        "/ui/agents/{agent_id}/revoke": post({}, _path("agent_id")),
        "/ui/policies": get(),
        "/ui/limits": get(),
        "/ui/login": {
            **get(_query("next")),
            **post({"account": text, "key": text, "next": text}),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "proctor dashboard (test)", "version": "test"},
        "paths": paths,
    }


def _signed_in(server: ServerProcess) -> tuple[dict[str, str], str]:
    """The session cookie of a sign-in as `root`, and that session's CSRF token."""
    import re

    import httpx

    origin = {"Origin": server.url}
    with httpx.Client(base_url=server.url, timeout=10) as browser:
        token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/ui/login").text)
        assert token is not None
        form = {"csrf": token[1], "account": "root", "key": ADMIN_KEY, "next": "/ui/feed"}
        assert browser.post("/ui/login", data=form, headers=origin).status_code == 303
        fresh = re.search(r'name="csrf" value="([^"]+)"', browser.get("/ui/feed").text)
        assert fresh is not None
        return dict(browser.cookies.items()), fresh[1]


@pytest.mark.slow
def test_no_generated_dashboard_request_gets_a_500(server: ServerProcess) -> None:
    cookies, csrf = _signed_in(server)
    dashboard = schemathesis.openapi.from_dict(dashboard_schema(csrf))
    failures: list[str] = []
    for operation in dashboard.get_all_operations():
        strategy = operation.ok().as_strategy()

        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case: schemathesis.Case) -> None:
            response = case.call(
                base_url=server.url,
                headers={"Origin": server.url},
                cookies=cookies,
                timeout=10,
                allow_redirects=False,
            )
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        call()
    assert failures == [], failures
