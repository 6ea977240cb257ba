"""PostgreSQL failing under load: every denial told while it failed is in the chain after.

Two faults under a running gateway. ``pg_ctl restart -m immediate`` (most
batches it cuts are retried on a fresh connection; a COMMIT cut midway is
answered by the record's fate). And every insert into the audit table
refused for a moment (a trigger raising, as a full disk on the database host
would; reads still work), so that no retry helps: the records the
writer could not commit, and every check refused meanwhile, go to the
gateway's local spill file (``proctor-pg-<digest>.spill.jsonl`` in its working
directory). Once writes succeed again, the writer replays the spill into the
chain and the gateway is ready within 5 s. Each client answer then agrees
with a record in the chain (an allow with an allow and no correction, an
``audit_unavailable`` deny with that deny, or with a ``correction`` when its
COMMIT, cut by the restart, took effect after all), none twice, and the chain
verifies.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from proctor.errors import ProctorError
from proctor.server.answer_corrections import correction_id
from proctor.server.commits import CommitBarrier
from proctor.storage.postgres.audit_store import PostgresAuditStore
from tests.audit.factories import make_event
from tests.postgres_cluster import Cluster, start_cluster
from tests.server.gateway import checks_under_load, seconds_until_ready, start_server, write_config
from tests.storage.recovery import wait_healthy

pytestmark = pytest.mark.slow

RECOVERY_SECONDS = 5.0
THREADS = 4
REFUSED = "audit_unavailable"
REFUSE_INSERTS = """
CREATE OR REPLACE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$;
CREATE TRIGGER refuse_inserts BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse_insert();
"""


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    cluster = start_cluster(restartable=True)
    yield cluster
    cluster.stop()


def _serve_through(tmp_path: Path, url: str, fault: Any) -> tuple[list[Any], float, str]:
    """Answers under load while ``fault()`` runs; seconds from its end until ready; the log."""
    server = start_server(write_config(tmp_path), db=url)
    try:
        with checks_under_load(server.url, THREADS) as answers:
            fault()
            ended = time.monotonic()
            seconds_until_ready(server.url, 3 * RECOVERY_SECONDS)
            recovered_in = time.monotonic() - ended
            before = len(answers)
            while len(answers) < before + 50:  # and keeps going after
                time.sleep(0.01)  # polling another process: nothing to inject
    finally:
        server.stop()
    return answers, recovered_in, server.log.read_text()


def _assert_answers_agree_with_the_chain(url: str, answers: list[Any], spill_dir: Path) -> str:
    """Every answer is in the chain as it was told, once; nothing waits in a spill."""
    allowed = {a["decision_id"] for a in answers if a["effect"] == "allow"}
    refused = {a["decision_id"] for a in answers if a.get("code") == REFUSED}
    assert len(allowed) + len(refused) == len(answers)
    store = PostgresAuditStore(url, read_only=True)
    try:
        rows = [json.loads(row.body) for row in store.iter_rows()]
        report = store.verify()
    finally:
        store.close()
    recorded = {r["decision_id"]: r for r in rows}
    assert len(recorded) == len(rows), "a decision id is in the chain twice"
    assert [i for i in allowed if recorded.get(i, {}).get("effect") != "allow"] == []
    assert [i for i in allowed if correction_id(i) in recorded] == []
    # A deny's record says so, or it committed after all (a COMMIT the restart cut) and a
    # correction records that its answer was deny (answer_corrections.py).
    assert [
        i
        for i in refused
        if recorded.get(i, {}).get("code") != REFUSED and correction_id(i) not in recorded
    ] == []
    assert report.ok, report.problem
    spills = [p for p in spill_dir.glob("proctor-pg-*.spill.jsonl*") if p.suffix != ".lock"]
    assert [p for p in spills if p.stat().st_size] == []
    replayed = sum("replayed" in r["extra"] for r in rows)
    return (
        f"{len(refused)} denials, {replayed} records replayed, "
        f"{len(rows) - len(recorded)} duplicates"
    )


def test_a_restart_under_load_leaves_every_answer_in_the_chain(
    tmp_path: Path, own_cluster: Cluster
) -> None:
    url = own_cluster.database("restarted")
    answers, recovered_in, _log = _serve_through(tmp_path, url, own_cluster.restart)
    assert recovered_in < RECOVERY_SECONDS, f"ready {recovered_in:.2f} s after the restart"
    figures = _assert_answers_agree_with_the_chain(url, answers, tmp_path)
    print(f"\nPostgreSQL restart: ready {recovered_in:.2f} s after it answered; {figures}")


def test_every_denial_told_while_writes_fail_is_in_the_chain_after_the_replay(
    tmp_path: Path, own_cluster: Cluster
) -> None:
    url = own_cluster.database("replayed")

    def writes_refused() -> None:  # as a full disk on the database host: reads still work
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(REFUSE_INSERTS)
            time.sleep(1.5)  # the fault's length: what the clients meet is the test
            admin.execute("DROP TRIGGER refuse_inserts ON audit")

    answers, recovered_in, log = _serve_through(tmp_path, url, writes_refused)
    assert recovered_in < RECOVERY_SECONDS, f"ready {recovered_in:.2f} s after writes resumed"
    assert any(a.get("code") == REFUSED for a in answers), "no check was refused"
    figures = _assert_answers_agree_with_the_chain(url, answers, tmp_path)
    assert "writes again: replayed" in log, log[-3000:]
    print(f"\nPostgreSQL writes failing: ready {recovered_in:.2f} s after; {figures}")


def test_a_record_replayed_as_a_deny_before_the_next_flush_is_not_answered_allow(
    tmp_path: Path, own_cluster: Cluster
) -> None:
    """Its batch failed; the store recovered and replayed it as a deny before the flush its
    request waits on was written. That flush succeeds; the request is still told deny."""
    url = own_cluster.database("spilled_before_flush")
    store = PostgresAuditStore(url, spill=str(tmp_path / "audit.spill.jsonl"))
    barrier = CommitBarrier(store)  # the store spills as the deny its client is told
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(REFUSE_INSERTS)
            store.append(make_event(1))
            with pytest.raises(ProctorError):
                store.flush()  # failed: spilled as a deny
            admin.execute("DROP TRIGGER refuse_inserts ON audit")
        wait_healthy(store)  # the writer's own probe and replay
        replayed = store.get("dec-000001")
        assert replayed is not None
        assert replayed["code"] == REFUSED
        with pytest.raises(ProctorError):  # its flush succeeds now; its record is a deny
            asyncio.run(barrier.wait("dec-000001"))
        store.append(make_event(2))
        asyncio.run(barrier.wait("dec-000002"))  # written: answered as it was decided
    finally:
        barrier.close()
        store.close()
