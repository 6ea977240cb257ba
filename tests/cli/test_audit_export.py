"""``proctor audit export`` and ``proctor audit stream`` on a real SQLite file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import rfc8785
from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.storage import open_audit_store
from tests.export.conftest import record_checks


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return record_checks(tmp_path)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_export_jsonl_to_a_file_with_since_and_until(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    code, output = run(
        "audit", "export", "--db", str(db), "--since", "2026-11-24T09:00:00Z",
        "--until", "2026-11-24T11:00:00Z", "--output", str(out),
    )  # fmt: skip
    assert code == 0, output
    assert "2 records written" in output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["seq"], r["action"], r["effect"]) for r in records] == [
        (2, "delete:customer", "deny"),
        (3, "write:refund", "require_approval"),
    ]
    assert {"hash", "decision_id", "ts", "user", "agent", "rule_ids", "v"} <= set(records[0])


def test_export_ocsf_to_stdout(db: Path) -> None:
    code, output = run("audit", "export", "--db", str(db), "--format", "ocsf")
    assert code == 0, output
    events = [json.loads(line) for line in output.splitlines()]
    assert len(events) == 5
    assert {e["class_uid"] for e in events} == {6003}
    assert [e["status"] for e in events[:3]] == ["Success", "Failure", "Pending"]
    assert [e["unmapped"]["disposition"] for e in events[:3]] == [
        "Allowed",
        "Blocked",
        "Approval Required",
    ]


def test_a_bad_time_is_a_coded_error(db: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", "export", "--db", str(db), "--since", "soon"])
    assert result.exit_code != 0
    assert result.exception is not None
    assert getattr(result.exception, "code", None) == "export_invalid_time"


def test_stream_once_to_a_file_resumes_from_its_cursor(db: Path, tmp_path: Path) -> None:
    out, cursor = tmp_path / "stream.jsonl", tmp_path / "cursor.json"
    args = ("audit", "stream", "--db", str(db), "--sink", f"file:{out}", "--cursor", str(cursor))
    code, output = run(*args, "--once", "--batch", "2")
    assert code == 0, output
    assert json.loads(cursor.read_text()) == {"seq": 5}
    record_checks(tmp_path, ("read:more", "read:again"), start=5)
    code, output = run(*args, "--once")
    assert code == 0, output
    seqs = [json.loads(line)["seq"] for line in out.read_text().splitlines()]
    assert seqs == [1, 2, 3, 4, 5, 6, 7]


@pytest.fixture
def flaky_receiver() -> Iterator[tuple[str, list[bytes], list[int]]]:
    bodies: list[bytes] = []
    statuses = [502]  # the first POST fails

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = statuses.pop(0) if statuses else 204
            if status < 300:
                bodies.append(body)
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/siem", bodies, statuses
    server.shutdown()


def test_stream_once_to_a_webhook_retries(
    db: Path, flaky_receiver: tuple[str, list[bytes], list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from proctor.export import stream

    monkeypatch.setattr(stream, "BACKOFF", (0.0,))  # no real pause in the test
    url, bodies, statuses = flaky_receiver
    code, output = run(
        "audit", "stream", "--db", str(db), "--sink", f"webhook:{url}", "--once",
        "--format", "ocsf",
    )  # fmt: skip
    assert code == 0, output
    assert statuses == []  # the failing answer was used
    events = [json.loads(line) for body in bodies for line in body.splitlines()]
    assert [e["metadata"]["sequence"] for e in events] == [1, 2, 3, 4, 5]
    assert "1 retries" in output


def test_jsonl_lines_keep_the_documented_key_order(db: Path) -> None:
    code, output = run("audit", "export", "--db", str(db))
    assert code == 0, output
    for line in output.splitlines():
        keys = list(json.loads(line))
        assert keys[:8] == ["seq", "hash", "v", "kind", "decision_id", "ts", "trace_id", "user"]
        assert keys[-3:] == ["extra", "prev_hash", "shard"]
        assert keys.index("action") < keys.index("effect") < keys.index("reason")
    store = open_audit_store(str(db))
    try:  # the same values as stored: the line without `hash` is the stored body again
        for line, row in zip(output.splitlines(), store.iter_rows(), strict=True):
            record = json.loads(line)
            del record["hash"]
            body = row.body if isinstance(row.body, bytes) else row.body.encode()
            assert rfc8785.dumps(record) == body
    finally:
        store.close()


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2026-11-24T11:00:00Z", "2026-11-24T09:00:00Z"),
        ("2026-11-24T10:00:00Z", "2026-11-24T10:00:00Z"),  # an empty range too
        ("2026-11-24T10:30:00+01:00", "2026-11-24T09:00:00Z"),  # 09:30Z, after 09:00Z
        ("1h", "2h"),  # an hour ago is after two hours ago
    ],
)
def test_since_not_before_until_is_a_coded_error(db: Path, since: str, until: str) -> None:
    args = ["audit", "export", "--db", str(db), "--since", since, "--until", until]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert getattr(result.exception, "code", None) == "export_invalid_range"
    assert f"`--since {since}`" in str(result.exception)


def test_an_ocsf_export_refuses_a_record_without_a_readable_time(db: Path, tmp_path: Path) -> None:
    """``time`` is required: the export stops with a coded error instead of dropping it."""
    from proctor.model.audit_event import AuditEvent

    store = open_audit_store(str(db))
    try:
        event = AuditEvent(
            kind="decision", decision_id="odd", ts="not a time", agent={"id": "support-bot"},
            action="read:orders", effect="allow", reason="imported",
        )  # fmt: skip
        store.append(event, wait=True)
    finally:
        store.close()
    code, output = run("audit", "export", "--db", str(db))  # JSONL: the record as stored
    assert code == 0, output
    assert json.loads(output.splitlines()[-1])["ts"] == "not a time"
    result = CliRunner().invoke(cli, ["audit", "export", "--db", str(db), "--format", "ocsf"])
    assert result.exit_code != 0
    assert getattr(result.exception, "code", None) == "export_invalid_record"
    assert "record 6" in str(result.exception)
