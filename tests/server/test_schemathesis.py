"""Schemathesis over the published OpenAPI against a real server: no input gives a 500.

Bounded: a few examples per operation, no deadline, loopback only. Requests
carry the admin key, so they get past authentication into every handler.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

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
