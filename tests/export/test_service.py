"""The ``export:`` section: ``proctor serve``'s app streams its audit to a file and resumes."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from proctor.config import load_config
from proctor.runtime import build_runtime
from proctor.server import create_app
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import PEP_KEY, write_config

EXPORT = "export: {sink: 'file:siem/audit.jsonl', format: ocsf, interval: 0.02, batch: 2}\n"


def lines_in(path: Path, count: int, timeout: float = 10.0) -> list[dict[str, object]]:
    """The file's records once it holds ``count`` (the export runs on its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            found = [orjson.loads(line) for line in path.read_bytes().splitlines()]
            if len(found) >= count:
                return found
        time.sleep(0.01)
    raise AssertionError(f"{path} did not reach {count} records")


def checks(config: Path, actions: tuple[str, ...], expect: int) -> None:
    loaded = load_config(config)
    app = create_app(build_runtime(loaded, wait_for_audit=True), config=loaded)
    with TestClient(app) as client:
        for action in actions:
            body = {"action": action, "agent": "support-bot"}
            assert client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).is_success
        lines_in(config.parent / "siem" / "audit.jsonl", expect)  # before the app stops


def test_the_gateway_streams_its_audit_and_resumes_after_a_restart(tmp_path: Path) -> None:
    (tmp_path / "siem").mkdir()
    config = write_config(tmp_path, extra=EXPORT)
    out = tmp_path / "siem" / "audit.jsonl"
    checks(config, ("read:a", "delete:b", "read:c"), expect=3)
    first = lines_in(out, 3)
    checks(config, ("read:d",), expect=4)
    events = lines_in(out, 4)
    sequences = [event["metadata"]["sequence"] for event in events]  # type: ignore[index]
    assert sorted(set(sequences)) == [1, 2, 3, 4]  # nothing lost; a repeat would be allowed
    assert sequences[: len(first)] == [1, 2, 3]
    assert {event["class_uid"] for event in events} == {6003}
    assert orjson.loads((tmp_path / "proctor-export.cursor").read_bytes()) == {"seq": 4}


def test_a_bad_export_section_is_located(tmp_path: Path) -> None:
    import pytest

    from proctor.errors import ErrorGroup

    config = write_config(tmp_path, extra="export:\n  sink: ftp://siem\n  batchsize: 5\n")
    with pytest.raises(ErrorGroup) as caught:
        load_config(config)
    found = {error.code: error for error in caught.value.errors}
    sink = found["config_invalid_value"]
    assert "sink" in sink.message
    assert sink.location is not None
    assert sink.location.line is not None
    assert found["config_unknown_key"].hint == "did you mean `batch`?"
