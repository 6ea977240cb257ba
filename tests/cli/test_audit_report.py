"""`proctor audit report`: the evidence of a period as JSON and as one self-contained HTML page,
opened in Chromium like the dashboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from tests.audit.factories import make_event

HOSTILE = "<script>alert('x')</script>"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "audit.db"
    with SqliteAuditStore(db) as store:
        for number in range(1, 11):
            effect = ("allow", "deny", "require_approval")[number % 3]
            store.append(make_event(number, effect=effect, reason=f"because {HOSTILE}"))
        store.append(
            make_event(
                11,
                kind="approval",
                effect="approved",
                action="write:refund",
                extra={
                    "approval_id": "ap-1",
                    "approver": "carol",
                    "requested_by_decision": "dec-000002",
                },
            )
        )
        store.append(make_event(12, kind="tier_change", effect="allow", extra={"to": "trusted"}))
        store.append(make_event(13, ts="2027-01-01T00:00:00.000000Z"))  # after the period
    run("audit", "checkpoint", "--db", str(db))
    return {"db": str(db), "key": run("audit", "public-key").strip()}


def report(log: dict[str, str], *extra: str) -> Any:
    out = run(
        "audit", "report", "--db", log["db"], "--key", log["key"], "--format", "json",
        "--since", "2026-01-01T00:00:00Z", "--until", "2026-12-31T00:00:00Z", *extra,
    )  # fmt: skip
    return json.loads(out)


def test_the_json_report_holds_the_period(log: dict[str, str]) -> None:
    content = report(log, "--sample", "3")
    decisions = content["decisions"]
    assert decisions["total"] == 10
    assert decisions["by_effect"] == {"deny": 4, "require_approval": 3, "allow": 3}
    assert decisions["by_agent"] == {"support-bot": 10}
    assert content["denials_and_holds"]["total"] == 7
    assert content["denials_and_holds"]["listed"][0]["reason"] == f"because {HOSTILE}"
    [approval] = content["approvals"]["listed"]
    assert (approval["approver"], approval["effect"]) == ("carol", "approved")
    assert content["identity_changes"]["listed"][0]["kind"] == "tier_change"
    assert content["checkpoints"]["verification"]["ok"] is True
    assert [c["number"] for c in content["checkpoints"]["covering"]] == [1]
    samples = content["samples"]
    assert [s["decision_id"] for s in samples] == ["dec-000001", "dec-000005", "dec-000010"]
    assert all(s["proof_ok"] for s in samples)
    assert samples[0]["who"]["user"]["sub"] == "alice@example.com"
    assert samples[0]["data"]["args"]["order_id"] == "ord-1"


def test_chosen_decisions_and_one_without_a_record(log: dict[str, str]) -> None:
    content = report(log, "--decision", "dec-000004", "--decision", "nope")
    assert [s["decision_id"] for s in content["samples"]] == ["dec-000004", "nope"]
    assert content["samples"][1]["missing"] is True


def test_a_wrong_key_shows_in_the_report(log: dict[str, str], tmp_path: Path) -> None:
    other = run("audit", "public-key", "--config", str(_other_config(tmp_path))).strip()
    content = report({**log, "key": other})
    assert content["checkpoints"]["verification"]["ok"] is False
    assert not any(s["proof_ok"] for s in content["samples"])


def _other_config(tmp_path: Path) -> Path:
    config = tmp_path / "other" / "proctor.yaml"
    config.parent.mkdir()
    config.write_text("policies: []\naudit: {checkpoints: {key_file: other.pem}}\n")
    return config


def test_the_html_page_is_self_contained_and_escapes_stored_values(
    log: dict[str, str], tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    run("audit", "report", "--db", log["db"], "--key", log["key"], "--output", str(page))
    text = page.read_text()
    assert HOSTILE not in text
    assert "&lt;script&gt;" in text
    assert "src=" not in text
    assert "href=" not in text
    assert "inclusion proof verified" in text


def test_the_page_in_chromium_loads_nothing_and_prints(log: dict[str, str], tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    from tests.server.ui.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium (scripts/test-deps/chromium.sh installs it)")
    page_file = tmp_path / "report.html"
    run("audit", "report", "--db", log["db"], "--key", log["key"], "--output", str(page_file))
    requests: list[str] = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
            page.goto(page_file.as_uri())
            headings = page.locator("h2").all_inner_texts()
            assert headings[0] == "Decisions (11)"  # no period given: every record
            assert "Sampled decisions (5)" in headings
            assert page.locator(".ok").count() >= 6  # the log and five proofs verified
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]  # nothing but the file itself
    assert dialogs == []  # the stored script never ran
    assert pdf.startswith(b"%PDF")
