"""`proctor serve` as the PDP of the AuthZEN scenarios (tests/server/authzen), once per module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.gateway import PEP_KEY, ServerProcess, sha, start_server

VECTORS = Path(__file__).parent / "authzen"
PEP_SECTION = f"""
server:
  admin_keys:
    - {{id: pep, sha256: {sha(PEP_KEY)}, scopes: [check]}}
"""


@pytest.fixture(scope="module", name="pdp")
def pdp_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    where = tmp_path_factory.mktemp("authzen")
    for source in VECTORS.glob("*.yaml"):
        shutil.copy(source, where / source.name)
    config = where / "proctor.yaml"
    config.write_text(config.read_text() + PEP_SECTION)
    server = start_server(config)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", name="client")
def client_fixture(pdp: ServerProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {PEP_KEY}", "Content-Type": "application/json"}
    with httpx.Client(base_url=pdp.url, headers=headers, timeout=30) as http:
        yield http
