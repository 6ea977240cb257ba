"""`proctor keys rotate` and `proctor token user` beside a running gateway: no key is lost.

The gateway and the CLI both write the key file. Each change is made to the
file as it is on disk at that moment (under the file's lock), and the gateway
reads the file again when it changed, so neither writes back an old copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from proctor.cli.main import cli
from tests.server.gateway import ADMIN_KEY, ServerProcess, start_server, write_config

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def server(config: Path) -> Iterator[ServerProcess]:
    process = start_server(config)
    yield process
    process.stop()


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _file(config: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads((config.parent / "proctor-keys.json").read_text())
    return document


def _published(server: ServerProcess) -> list[str]:
    keys = httpx.get(f"{server.url}/.well-known/jwks.json", timeout=10).json()["keys"]
    return [key["kid"] for key in keys]


def _agent_key(server: ServerProcess) -> str:
    made = httpx.post(
        f"{server.url}/v1/admin/agents",
        json={"id": "api-bot", "role": "support", "tier": "verified"},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return str(made.json()["api_key"])


def _exchange(server: ServerProcess, agent_key: str, user_token: str) -> httpx.Response:
    """The agent exchanges a user's token: the gateway reads its dev key to verify a dev token."""
    form = {
        "grant_type": EXCHANGE,
        "subject_token": user_token,
        "subject_token_type": ACCESS,
        "scope": "read:orders",
    }
    return httpx.post(
        f"{server.url}/oauth2/token",
        data=form,
        headers={"Authorization": f"Bearer {agent_key}"},
        timeout=10,
    )


def test_a_rotation_while_serving_is_kept_and_published(
    config: Path, server: ServerProcess
) -> None:
    agent_key = _agent_key(server)
    first = _published(server)  # the gateway has read (made) the key file
    rotated = _run("keys", "rotate", "--config", str(config))
    assert rotated.exit_code == 0, rotated.output
    fresh = json.loads(rotated.stdout)["active_kid"]
    assert _published(server) == [fresh, *first]  # the gateway reads the rotated file
    # The gateway's own first write (its dev key, made while checking a dev token)
    # goes onto the rotated file, not over it.
    forged = "eyJhbGciOiJFZERTQSIsImtpZCI6ImRldiJ9.eyJpc3MiOiJ1cm46cHJvY3RvcjpkZXYifQ.c2ln"
    assert _exchange(server, agent_key, forged).status_code == 400
    assert _file(config)["dev_key"] is not None
    on_disk = _file(config)
    assert [key["kid"] for key in on_disk["signing_keys"]] == [fresh, *first]  # type: ignore[attr-defined,index]
    assert _published(server) == [fresh, *first]


def test_a_dev_key_the_cli_made_is_not_overwritten_by_the_gateway(
    config: Path, server: ServerProcess
) -> None:
    agent_key = _agent_key(server)
    _published(server)  # loaded before the CLI makes the dev key
    minted = _run("token", "user", "--sub", "alice", "--scope", "read:*", "--config", str(config))
    assert minted.exit_code == 0, minted.output
    dev_key = _file(config)["dev_key"]
    assert dev_key is not None
    answer = _exchange(server, agent_key, minted.stdout.strip())
    assert answer.status_code == 200, answer.text
    assert _file(config)["dev_key"] == dev_key
