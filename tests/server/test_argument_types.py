"""Issue 14 through a real gateway: argument kinds on ``/v1/check``, aliases on reload."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.policy.test_loader import alias_bomb
from tests.server.gateway import ADMIN_KEY, PEP_KEY, ServerProcess, running_server, write_config

POLICY = r"""
name: transfers
rules:
  - {id: big-transfer, action: "write:transfer", effect: deny, when: "args.amount > 10000"}
  - {id: evil-recipient, action: "write:transfer", effect: deny,
     when: 'args.to matches "@evil\\.com$"'}
  - {id: payments, action: "write:*", effect: allow}
  - {id: read-all, action: "read:*", effect: allow}
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("gateway")
    config = write_config(directory)
    (directory / "policy.yaml").write_text(POLICY)
    with running_server(config) as server:
        yield server


def _check(server: ServerProcess, body: str | dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {PEP_KEY}"}
    if isinstance(body, str):  # raw JSON, for integers Python would not write as they are
        headers["Content-Type"] = "application/json"
        response = httpx.post(f"{server.url}/v1/check", content=body, headers=headers)
    else:
        response = httpx.post(f"{server.url}/v1/check", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _transfer(amount: Any, to: Any = "ann@shop.example") -> dict[str, Any]:
    return {
        "action": "write:transfer",
        "agent": "support-bot",
        "user": "alice",
        "args": {"amount": amount, "to": to},
    }


def test_a_small_transfer_is_allowed(gateway: ServerProcess) -> None:
    assert _check(gateway, _transfer(50))["effect"] == "allow"


@pytest.mark.parametrize("amount", ["50000", [50000], True, {"value": 50000}, None], ids=repr)
def test_an_amount_of_another_kind_is_denied_by_the_rule(
    gateway: ServerProcess, amount: Any
) -> None:
    answer = _check(gateway, _transfer(amount))
    assert answer["effect"] == "deny"
    assert answer["code"] == "condition_error"
    assert answer["rule_ids"] == ["big-transfer"]


def test_an_integer_beyond_2_53_is_compared_exactly(gateway: ServerProcess) -> None:
    body = (
        '{"action": "write:transfer", "agent": "support-bot", "user": "alice", '
        '"args": {"amount": 90071992547409930001, "to": "ann@shop.example"}}'
    )
    answer = _check(gateway, body)
    assert answer["effect"] == "deny"
    assert answer["code"] == "rule"
    assert answer["rule_ids"] == ["big-transfer"]


def test_a_list_of_recipients_cannot_hide_an_evil_one(gateway: ServerProcess) -> None:
    answer = _check(gateway, _transfer(5, ["ann@shop.example", "mallory@evil.com"]))
    assert answer["effect"] == "deny"
    assert answer["rule_ids"] == ["evil-recipient"]


def test_a_reload_with_an_alias_bomb_is_refused_quickly(gateway: ServerProcess) -> None:
    started = time.perf_counter()
    response = httpx.post(
        f"{gateway.url}/v1/admin/policies/reload",
        json={"texts": [alias_bomb()]},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=30,
    )
    assert time.perf_counter() - started < 5
    assert response.status_code == 400
    (error,) = response.json()["details"]["errors"]
    assert error["code"] == "yaml_alias"
    assert error["location"]["line"] == 3
    assert _check(gateway, _transfer(50))["effect"] == "allow"  # the old set still decides


def test_the_config_file_refuses_aliases_too(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra="telemetry: &t {}\nexport: *t\n")
    with pytest.raises(RuntimeError, match="yaml_alias"), running_server(config, timeout=10):
        pass
