"""The AuditStore contract, run against every backend (memory and SQLite)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from proctor.audit.chain import GENESIS, StoredRow
from proctor.audit.errors import AUDIT_INVALID_RECORD, AUDIT_UNENCODABLE, AuditError
from proctor.model.audit_event import AuditEvent
from proctor.storage.contracts import AuditStore
from proctor.storage.errors import DUPLICATE_RECORD, STORAGE_CLOSED, StorageError
from tests.audit.factories import make_event

CHAIN_FIELDS = ("seq", "prev_hash", "hash")


def append_many(store: AuditStore, count: int, start: int = 1) -> None:
    for number in range(start, start + count):
        store.append(make_event(number))
    store.flush()


def test_backends_satisfy_the_protocol(store: AuditStore) -> None:
    assert isinstance(store, AuditStore)
    assert store.healthy
    assert store.failure is None


def test_empty_store(store: AuditStore) -> None:
    assert store.count() == 0
    assert store.head() == GENESIS
    assert store.tail(5) == []
    assert store.get("dec-000001") is None
    assert list(store.iter_rows()) == []
    report = store.verify()
    assert (report.ok, report.checked) == (True, 0)


def test_get_returns_the_chained_record(store: AuditStore) -> None:
    event = make_event(1)
    store.append(event)
    store.flush()
    record = store.get(event.decision_id)
    assert record is not None
    assert (record["seq"], record["prev_hash"]) == (1, GENESIS.hash)
    assert record["hash"] == store.head().hash
    payload = {key: value for key, value in record.items() if key not in CHAIN_FIELDS}
    assert AuditEvent.from_payload(payload) == event


def test_records_chain_in_append_order(store: AuditStore) -> None:
    append_many(store, 20)
    assert store.count() == 20
    records = store.tail(20)
    assert [record["seq"] for record in records] == list(range(1, 21))
    assert [record["decision_id"] for record in records] == [
        make_event(number).decision_id for number in range(1, 21)
    ]
    for before, after in itertools.pairwise(records):
        assert after["prev_hash"] == before["hash"]
    assert store.head() == (20, records[-1]["hash"])


def test_tail_returns_the_newest_last(store: AuditStore) -> None:
    append_many(store, 7)
    assert [record["seq"] for record in store.tail(3)] == [5, 6, 7]
    assert len(store.tail(100)) == 7
    assert store.tail(0) == []


def test_iter_rows_yields_rows_in_seq_order(store: AuditStore) -> None:
    append_many(store, 5)
    rows = list(store.iter_rows())
    assert all(isinstance(row, StoredRow) for row in rows)
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert rows[2].decision_id == make_event(3).decision_id
    assert (rows[2].agent_id, rows[2].user_sub, rows[2].effect) == (
        "support-bot",
        "alice@example.com",
        "allow",
    )


def test_verify_checks_every_record(store: AuditStore) -> None:
    append_many(store, 50)
    report = store.verify()
    assert report.ok
    assert report.checked == 50
    assert report.last == store.head()


def test_wait_makes_the_record_readable_at_once(store: AuditStore) -> None:
    event = make_event(1)
    store.append(event, wait=True)
    assert store.get(event.decision_id) is not None
    assert store.count() == 1


def test_duplicate_decision_id_is_refused_and_the_store_stays_healthy(store: AuditStore) -> None:
    store.append(make_event(1), wait=True)
    with pytest.raises(StorageError) as caught:
        store.append(make_event(1, effect="deny"), wait=True)
    assert caught.value.code == DUPLICATE_RECORD
    assert store.healthy
    store.append(make_event(2), wait=True)
    assert store.count() == 2
    stored = store.get(make_event(1).decision_id)
    assert stored is not None
    assert stored["effect"] == "allow"
    assert store.verify().ok


def test_unencodable_event_is_refused_and_the_store_stays_healthy(store: AuditStore) -> None:
    with pytest.raises(AuditError) as caught:
        store.append(make_event(1, extra={"n": float("nan")}), wait=True)
    assert caught.value.code == AUDIT_UNENCODABLE
    assert store.healthy
    store.append(make_event(2), wait=True)
    assert store.count() == 1
    assert store.verify().ok


def test_event_without_decision_id_is_refused(store: AuditStore) -> None:
    with pytest.raises(AuditError) as caught:
        store.append(make_event(1, decision_id=""))
    assert caught.value.code == AUDIT_INVALID_RECORD


def test_concurrent_appends_form_one_chain(store: AuditStore) -> None:
    threads, per_thread = 8, 100

    def work(offset: int) -> None:
        for number in range(offset, offset + per_thread):
            store.append(make_event(number), wait=number % 10 == 0)

    workers = [threading.Thread(target=work, args=(1 + t * per_thread,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.flush()
    assert store.count() == threads * per_thread
    report = store.verify()
    assert report.ok
    assert report.checked == threads * per_thread


def test_close_is_idempotent_and_final(store: AuditStore) -> None:
    store.append(make_event(1))
    store.close()
    store.close()
    store.flush()  # nothing left to write
    with pytest.raises(StorageError) as caught:
        store.append(make_event(2))
    assert caught.value.code == STORAGE_CLOSED
    with pytest.raises(StorageError) as read:
        store.count()
    assert read.value.code == STORAGE_CLOSED


def test_the_log_keeps_a_tree_that_proves_every_record(store: AuditStore) -> None:
    from proctor.audit.merkle import TreeReader, inclusion_proof, leaf_hash, root_from_inclusion

    append_many(store, 40)
    [head] = [h for h in store.shard_heads() if h.size]
    assert head.size == 40
    for number in (1, 17, 40):
        located = store.locate(f"dec-{number:06d}")
        assert located is not None
        shard, position, body = located
        assert shard == head.shard
        path = inclusion_proof(TreeReader(store.tree_source(shard)), position - 1, head.size)
        assert root_from_inclusion(leaf_hash(body.encode()), position - 1, 40, path) == head.root
    assert store.locate("nope") is None


def test_checkpoints_are_kept_once_each_and_one_process_leads(store: AuditStore) -> None:
    assert store.latest_checkpoint() is None
    store.store_checkpoint(1, "2026-12-07T00:00:00Z", 0, "one")
    store.store_checkpoint(2, "2026-12-07T00:00:01Z", 3, "two")
    with pytest.raises(StorageError):
        store.store_checkpoint(2, "2026-12-07T00:00:02Z", 3, "again")
    assert store.latest_checkpoint() == (2, "two")
    assert store.checkpoint_notes(after=1) == [(2, "two")]
    assert store.lead_checkpoints("a", 100.0, 10.0)
    assert not store.lead_checkpoints("b", 105.0, 10.0)
    assert store.lead_checkpoints("a", 105.0, 10.0)
    assert store.lead_checkpoints("b", 116.0, 10.0)  # a's lease ran out


def test_an_archived_prefix_leaves_and_the_rest_verifies(store: AuditStore, tmp_path: Any) -> None:
    from proctor.runtime.audit_archive import archive, verify_archive
    from proctor.runtime.checkpoints import Checkpointer
    from proctor.runtime.note_signers import KeyFileSigner

    if not hasattr(store, "archive_cut"):
        pytest.skip("the memory store keeps no archive")
    signer = KeyFileSigner(tmp_path / "key.pem", "test/log")
    append_many(store, 20)
    Checkpointer(store, signer, origin="test/log").make()
    summary = archive(store, "2026-05-09T07:35:11Z", tmp_path / "archive", signer.verifier)  # type: ignore[arg-type]
    assert sum(summary["archived"].values()) == 10
    assert store.count() == 10
    assert store.verify().ok
    assert verify_archive(tmp_path / "archive", signer.verifier).ok
    append_many(store, 3, start=21)
    assert store.verify().ok
