from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette 1.10 asks for `httpx2`; httpx 0.28 is what we pin
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from proctor.config import load_config
from proctor.runtime import Runtime, build_runtime
from proctor.server import create_app
from tests.server.gateway import ADMIN_KEY, write_config


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def runtime(config_path: Path) -> Iterator[Runtime]:
    loaded = load_config(config_path)
    runtime = build_runtime(loaded, wait_for_audit=False)
    yield runtime
    runtime.close()


@pytest.fixture
def client(config_path: Path) -> Iterator[TestClient]:
    """The real app in-process (ASGI through httpx), with its lifespan."""
    loaded = load_config(config_path)
    app = create_app(build_runtime(loaded, wait_for_audit=False), config=loaded)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    return client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def agent_key(client: TestClient) -> str:
    """A stored agent `api-bot` (role support) and its API key, made through the admin API."""
    response = client.post(
        "/v1/admin/agents",
        json={"id": "api-bot", "role": "support", "tier": "verified"},
        headers=bearer(ADMIN_KEY),
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["api_key"]
    return key
