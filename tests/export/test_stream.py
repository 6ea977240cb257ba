"""At-least-once streaming: a real webhook receiver on loopback that fails, a file sink, resume."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import orjson
import pytest

from proctor.export.errors import ExportError
from proctor.export.sinks import FileSink, WebhookSink, open_sink
from proctor.export.stream import AuditStream, Cursor
from proctor.storage import open_audit_store
from proctor.storage.contracts import AuditStore
from tests.export.conftest import record_checks


class Receiver:
    """An NDJSON receiver that answers each POST with the next scripted status (then 200)."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.accepted: list[int] = []  # seqs of acknowledged records, in arrival order
        self.attempts = 0
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.attempts += 1
                state.headers.append(dict(self.headers))
                status = state.script.pop(0) if state.script else 200
                if status == 200:
                    state.accepted += [orjson.loads(line)["seq"] for line in body.splitlines()]
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ingest", state
    server.shutdown()


@pytest.fixture
def store(db: Path) -> Iterator[AuditStore]:
    opened = open_audit_store(str(db))
    yield opened
    opened.close()


def no_sleep(pauses: list[float]) -> object:
    def wait(seconds: float) -> bool:
        pauses.append(seconds)
        return False

    return wait


def test_a_failed_delivery_is_retried_until_acknowledged(
    store: AuditStore, receiver: tuple[str, Receiver], tmp_path: Path
) -> None:
    url, state = receiver
    state.script = [503, 500]  # the first batch fails twice
    pauses: list[float] = []
    cursor = Cursor(tmp_path / "cursor.json")
    stream = AuditStream(store, WebhookSink(url), cursor, batch=2, wait=no_sleep(pauses))  # type: ignore[arg-type]
    assert stream.drain() == 5
    assert state.accepted == [1, 2, 3, 4, 5]
    assert (state.attempts, stream.stats.retries, stream.stats.batches) == (5, 2, 3)
    assert pauses == [0.5, 1.0]  # growing back-off, injected: the test never sleeps
    assert orjson.loads((tmp_path / "cursor.json").read_bytes()) == {"seq": 5}
    first = state.headers[0]
    assert (first["X-Proctor-First-Seq"], first["X-Proctor-Last-Seq"]) == ("1", "2")
    assert first["Content-Type"] == "application/x-ndjson"


def test_a_restart_resumes_from_the_cursor_without_gaps(
    db: Path, receiver: tuple[str, Receiver], tmp_path: Path
) -> None:
    url, state = receiver
    cursor_file = tmp_path / "cursor.json"
    state.script = [200, 500, 500]  # the second batch never gets through: the process gives up
    store = open_audit_store(str(db))
    first_run = AuditStream(
        store, WebhookSink(url), Cursor(cursor_file), batch=2, max_attempts=2, wait=lambda _: False
    )
    with pytest.raises(ExportError) as caught:
        first_run.drain()
    assert caught.value.code == "export_sink_failed"
    assert Cursor(cursor_file).seq == 2
    assert state.accepted == [1, 2]
    store.close()
    record_checks(tmp_path, ("read:later",), start=5)  # recorded while the stream was down
    store = open_audit_store(str(db))
    second_run = AuditStream(store, WebhookSink(url), Cursor(cursor_file), batch=2)
    assert second_run.drain() == 4
    store.close()
    assert state.accepted == [1, 2, 3, 4, 5, 6]


def test_a_stop_between_acknowledgement_and_cursor_write_repeats_a_batch(
    store: AuditStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented duplicate: at least once, never a gap."""
    out = tmp_path / "out.jsonl"
    cursor_file = tmp_path / "cursor.json"
    real_advance = Cursor.advance

    def crash_on_second(self: Cursor, seq: int) -> None:
        if seq > 2:
            raise KeyboardInterrupt  # the process is killed after the sink's fsync
        real_advance(self, seq)

    monkeypatch.setattr(Cursor, "advance", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        AuditStream(store, FileSink(out), Cursor(cursor_file), batch=2).drain()
    monkeypatch.setattr(Cursor, "advance", real_advance)
    AuditStream(store, FileSink(out), Cursor(cursor_file), batch=2).drain()
    seqs = [orjson.loads(line)["seq"] for line in out.read_bytes().splitlines()]
    assert seqs == [1, 2, 3, 4, 3, 4, 5]
    assert sorted(set(seqs)) == [1, 2, 3, 4, 5]


def test_the_file_sink_appends_ocsf_lines_and_only_new_records(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "siem" / "audit.ocsf.jsonl"
    out.parent.mkdir()
    sink = open_sink(f"file:{out}")
    store = open_audit_store(str(db))
    cursor = Cursor(tmp_path / "cursor.json")
    assert AuditStream(store, sink, cursor, form="ocsf", batch=3).drain() == 5
    assert AuditStream(store, sink, Cursor(tmp_path / "cursor.json"), form="ocsf").drain() == 0
    store.close()
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [event["metadata"]["sequence"] for event in events] == [1, 2, 3, 4, 5]
    assert {event["class_uid"] for event in events} == {6003}


def test_bad_sinks_and_cursors_are_refused(tmp_path: Path) -> None:
    for spec in ("ftp://x", "webhook:nope", "file:"):
        with pytest.raises(ExportError) as caught:
            open_sink(spec)
        assert caught.value.code == "export_invalid_sink"
    broken = tmp_path / "cursor.json"
    broken.write_text("{not json")
    with pytest.raises(ExportError) as caught:
        Cursor(broken)
    assert caught.value.code == "export_invalid_cursor"
    broken.write_text('{"seq": -1}')
    with pytest.raises(ExportError):
        Cursor(broken)


def test_an_ocsf_stream_stops_at_a_record_without_time_and_keeps_its_place(
    store: AuditStore, tmp_path: Path
) -> None:
    """A record OCSF cannot carry is never skipped: the cursor stays before it."""
    from proctor.model.audit_event import AuditEvent

    odd = AuditEvent(
        kind="decision", decision_id="odd", ts="", agent={"id": "support-bot"},
        action="read:orders", effect="allow", reason="imported",
    )  # fmt: skip
    store.append(odd, wait=True)
    out, cursor = tmp_path / "out.jsonl", Cursor(tmp_path / "cursor.json")
    stream = AuditStream(store, FileSink(out), cursor, form="ocsf", batch=3)
    assert stream.step() == 3
    with pytest.raises(ExportError) as raised:
        stream.drain()
    assert raised.value.code == "export_invalid_record"
    assert cursor.seq == Cursor(tmp_path / "cursor.json").seq == 3
    assert len(out.read_text().splitlines()) == 3
