"""Text a caller chooses (NUL, control and format characters, other spellings) reaching
the records and the decision through the gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from proctor.cli.main import cli
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import AUDITOR_KEY, PEP_KEY, start_server, write_config

IBAN = "DE89 3704 0044 0532 0130 00"
OTHER_IBAN = "GB82 WEST 1234 5698 7654 32"
PAYMENT = {"action": "write:payment"}
NUL_CHECKS = [
    {"action": "read:x\u0000", "agent": "support-bot"},
    {"action": "read:x", "agent": "bot\u0000", "user": "alice\u0000", "trace_id": "\u0000"},
    {"action": "read:x", "agent": "support-bot", "args": {"k\u0000": "v\u0000"}},
]


@pytest.mark.slow
def test_a_nul_in_a_check_does_not_stop_the_postgres_audit(
    tmp_path: Path, postgres_url: str
) -> None:
    """One check with a NUL in its action or agent failed the PostgreSQL audit batch (text
    columns refuse NUL) and kept it failing: every later check was denied, unrecorded."""
    migrated = CliRunner().invoke(cli, ["db", "migrate", "--db", postgres_url])
    assert migrated.exit_code == 0, migrated.output
    server = start_server(write_config(tmp_path), db=postgres_url)
    try:
        with httpx.Client(base_url=server.url, timeout=20.0) as client:
            pep, auditor = bearer(PEP_KEY), bearer(AUDITOR_KEY)
            for body in NUL_CHECKS:
                decided = client.post("/v1/check", json=body, headers=pep).json()
                record = client.get(f"/v1/audit/{decided['decision_id']}", headers=auditor)
                assert record.status_code == 200, record.text
                stored = record.json()  # the exact text, as decided on
                assert (stored["action"], stored["agent"]["id"]) == (
                    body["action"],
                    body["agent"],
                )
            after = client.post(
                "/v1/check", json={"action": "read:y", "agent": "support-bot"}, headers=pep
            ).json()
            assert after["allowed"], after
            found = client.get("/v1/audit", params={"action": "read:x\u0000"}, headers=auditor)
            assert found.status_code == 200, found.text
            assert [r["record"]["action"] for r in found.json()["records"]] == ["read:x\u0000"]
            unknown = client.get("/v1/audit/nul%00id", headers=auditor)
            assert unknown.status_code == 404, unknown.text
            assert client.get("/readyz").status_code == 200
            assert client.get("/v1/audit/verify", headers=auditor).json()["ok"] is True
    finally:
        server.stop()


DENYLIST = """\
name: denylist
default: allow
rules:
  - {id: no-delete, action: "delete:*", effect: deny}
  - id: tainted-payment
    action: "write:payment"
    effect: deny
    when: "tainted(args.iban)"
  - {id: big-refunds, action: "write:refund", effect: require_approval, when: "args.amount > 100"}
  - {id: anything-else, action: "*", effect: allow}
scan: {actions: ["send:email"], input: {secret: deny}}
schemas:
  - {action: "write:refund", args: {amount: number}}
limits:
  - {id: refund-budget, action: "write:refund", sum: args.amount, max: 150, window: 1d,
     per: [action]}
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """The gateway's config with an allow-all policy and its exceptions, a role of `*`."""
    config = write_config(tmp_path)
    (tmp_path / "policy.yaml").write_text(DENYLIST)
    text = config.read_text()
    config.write_text(text.replace('["read:*", "write:*", "delete:*"]', '["*"]'))
    return config


def test_a_deny_an_approval_or_a_limit_holds_an_action_spelled_otherwise(
    client: TestClient,
) -> None:
    """Under an allow-all policy with exceptions, `Delete:files`, `ｄelete:files` (full
    width), `de\\u200blete:files` (zero width) or `delete:files\\u0000` were allowed, and
    `Send:Email` went unscanned."""

    def check(action: str, **args: object) -> dict[str, Any]:
        body = {"action": action, "agent": "support-bot", "args": args}
        answer: dict[str, Any] = client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).json()
        return answer

    for action in ("Delete:files", "DELETE:Files", "delete:FILES"):
        denied = check(action)
        assert (denied["effect"], denied["rule_ids"]) == ("deny", ["no-delete"]), action
    for action in ("\uff44elete:files", "de\u200blete:files", "delete:files\u0000", "r\u202eead:x"):
        refused = check(action)
        assert (refused["effect"], refused["code"]) == ("deny", "invalid_request"), action
    unfit = check("Write:refund", amount="500")
    assert (unfit["effect"], unfit["code"]) == ("deny", "args_invalid")
    held = check("Write:Refund", amount=500)
    assert (held["effect"], held["rule_ids"]) == ("require_approval", ["big-refunds"])
    assert check("write:refund", amount=100)["allowed"]
    over = check("WRITE:refund", amount=100)  # the same budget, in another case
    assert (over["effect"], over["code"]) == ("deny", "limit_exceeded")
    leak = check("Send:Email", body="key AKIAIOSFODNN7EXAMPLE")  # scanned in any case
    assert (leak["effect"], leak["code"]) == ("deny", "scan_denied"), leak
    assert check("read:Files")["allowed"]  # an allow is not widened: it matched `*`


def test_a_result_nested_past_the_bound_is_withheld_not_passed_untainted(
    client: TestClient,
) -> None:
    """Past 32 levels a result was cut from what the run's provenance remembered but
    handed back whole: an attacker's IBAN 40 levels down reached the agent untainted and
    paid out; at 1,000 levels the answer was a 500 (now the body's own bound, a 400)."""
    run = {"agent": "support-bot", "user": "alice", "run_id": "run-1"}
    shallow = _review(client, {**run, "action": "read:doc", "result": [[IBAN]]})
    assert shallow["allowed"]
    paid = client.post(
        "/v1/check", json={**run, **PAYMENT, "args": {"iban": IBAN}}, headers=bearer(PEP_KEY)
    ).json()
    assert (paid["effect"], paid["rule_ids"]) == ("deny", ["tainted-payment"])
    nested: Any = OTHER_IBAN
    for _ in range(40):
        nested = [nested]
    deep = _review(client, {**run, "action": "read:doc", "result": nested})
    assert (deep["effect"], deep.get("code"), deep["value"]) == ("deny", "invalid_request", None)
    result = "[" * 1000 + '"x"' + "]" * 1000
    raw = '{"action": "read:doc", "agent": "support-bot", "result": ' + result + "}"
    headers = {**bearer(PEP_KEY), "content-type": "application/json"}
    deeper = client.post("/v1/outputs", content=raw, headers=headers)  # past the body's bound
    assert deeper.status_code == 400, deeper.text
    assert deeper.json()["code"] == "invalid_json"


def _review(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/outputs", json=body, headers=bearer(PEP_KEY))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_an_untrusted_value_behind_ten_thousand_others_is_still_tainted(
    client: TestClient,
) -> None:
    """The provenance walk stopped after 10,000 values, counting the root: a tool result
    with the attacker's IBAN after 12,000 fillers reached the agent unremembered, and a
    payment carrying a remembered IBAN after 9,998 fillers was not tainted."""
    run = {"agent": "support-bot", "user": "alice", "run_id": "run-2"}
    wide = _review(client, {**run, "action": "read:doc", "result": [0] * 12_000 + [IBAN]})
    assert (wide["effect"], wide.get("code"), wide["value"]) == ("deny", "invalid_request", None)
    assert _review(client, {**run, "action": "read:doc", "result": [IBAN]})["allowed"]
    for args in ({"filler": [0] * 9_998, "iban": IBAN}, {"filler": [[0]] * 4_999, "iban": IBAN}):
        paid = client.post(
            "/v1/check", json={**run, **PAYMENT, "args": args}, headers=bearer(PEP_KEY)
        ).json()
        assert (paid["effect"], paid["rule_ids"]) == ("deny", ["tainted-payment"])
    no_run = _review(client, {"agent": "support-bot", "action": "read:doc", "result": [0] * 12_000})
    assert no_run["allowed"]  # outside a run no provenance reads it: a wide result passes
