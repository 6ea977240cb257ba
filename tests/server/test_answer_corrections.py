"""Denials whose record committed after the answer: a correction record, once, when healthy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from proctor.model.audit_event import audit_timestamp
from proctor.server.answer_corrections import AnswerCorrections, correction_id
from proctor.storage import SqliteAuditStore
from tests.audit.factories import make_event


class _Failed:
    """A store that says it cannot write (``healthy`` false), as a failed audit store does."""

    healthy = False

    def get(self, decision_id: str) -> None:
        raise AssertionError("a failed store is not asked")


def test_a_denial_whose_record_committed_gets_one_correction(tmp_path: Path) -> None:
    store = SqliteAuditStore(str(tmp_path / "audit.db"))
    try:
        store.append(make_event(1), wait=True)  # committed as allow: its client was told deny
        store.append(make_event(2, effect="deny"), wait=True)  # agrees already
        written_at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
        corrections = AnswerCorrections(store, clock=lambda: written_at)
        for number in (1, 2, 3):  # 3: never committed
            corrections.remember(f"dec-{number:06d}", "no answer within 2 s")
        assert corrections.settle() == 1
        assert corrections.pending == 0
        correction = store.get(correction_id("dec-000001"))
        assert correction is not None
        assert correction["kind"] == "correction"
        assert correction["effect"] == "deny"
        assert correction["ts"] == audit_timestamp(written_at)  # the runtime's clock
        assert correction["code"] == "audit_unavailable"
        assert correction["extra"] == {"corrects": "dec-000001", "recorded_effect": "allow"}
        assert correction["agent"]["id"] == "support-bot"
        assert correction["action"] == "write:refund"
        assert "no answer within 2 s" in correction["reason"]
        assert store.get(correction_id("dec-000002")) is None
        corrections.remember("dec-000001", "again")  # a repeat is refused as stored
        corrections.settle()
        assert corrections.pending == 0
        assert store.count() == 3
        assert store.verify().ok
    finally:
        store.close()


def test_nothing_is_looked_up_while_the_store_is_failed() -> None:
    corrections = AnswerCorrections(_Failed())  # type: ignore[arg-type]
    corrections.remember("dec-000001", "no answer")
    assert corrections.settle() == 0
    assert corrections.pending == 1  # kept for when it takes records again
