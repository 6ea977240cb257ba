"""The hash chain: records commit to their predecessors; verify_chain finds the first break."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from proctor.audit.chain import (
    GENESIS,
    GENESIS_HASH,
    ChainedRecord,
    ChainHead,
    StoredRow,
    chain_event,
    chain_record,
    event_columns,
    indexed_columns,
    stored_row,
    verify_chain,
)
from proctor.audit.errors import AUDIT_INVALID_RECORD, AuditError
from proctor.model.audit_event import AuditEvent
from tests.audit.factories import JSON_VALUES, NUMBERS, TEXT, make_event


def build_chain(count: int) -> list[StoredRow]:
    rows: list[StoredRow] = []
    head = GENESIS
    for number in range(1, count + 1):
        payload = make_event(number).to_payload()
        chained = chain_record(payload, head.seq + 1, head.hash)
        rows.append(stored_row(chained, indexed_columns(payload)))
        head = chained.head
    return rows


def head_of(rows: list[StoredRow]) -> ChainHead:
    return ChainHead(rows[-1].seq, rows[-1].hash)


def rewrite(row: StoredRow, change: dict[str, Any], *, rehash: bool = False) -> StoredRow:
    """``row`` with fields of its body changed.

    ``rehash`` plays a careful forger: the record's own hash and the indexed
    columns are made to match the new content.
    """
    record = json.loads(row.body)
    record.update(change)
    if not rehash:
        return dataclasses.replace(row, body=rfc8785.dumps(record))
    body = rfc8785.dumps(record)
    return StoredRow(row.seq, hashlib.sha256(body).hexdigest(), body, *indexed_columns(record))


def test_the_hash_is_sha256_of_the_jcs_body() -> None:
    payload = make_event(1).to_payload()
    chained = chain_record(payload, 1, GENESIS_HASH)
    record = json.loads(chained.body)
    assert chained.body == rfc8785.dumps(record)
    assert record["seq"] == 1
    assert record["prev_hash"] == GENESIS_HASH == "0" * 64
    assert "hash" not in record
    assert chained.hash == hashlib.sha256(chained.body).hexdigest()
    assert {key: value for key, value in record.items() if key not in ("seq", "prev_hash")} == (
        json.loads(json.dumps(payload))
    )


def test_chaining_is_deterministic_and_sensitive_to_position() -> None:
    payload = make_event(1).to_payload()
    first = chain_record(payload, 1, GENESIS_HASH)
    assert chain_record(payload, 1, GENESIS_HASH) == first
    assert chain_record(payload, 2, GENESIS_HASH).hash != first.hash
    assert chain_record(payload, 1, "f" * 64).hash != first.hash


def test_payload_cannot_set_chain_fields() -> None:
    payload = make_event(1).to_payload() | {"hash": "f" * 64}
    with pytest.raises(AuditError) as caught:
        chain_record(payload, 1, GENESIS_HASH)
    assert caught.value.code == AUDIT_INVALID_RECORD


def test_an_odd_float_takes_the_reference_encoder_and_still_verifies() -> None:
    payload = make_event(1, latency_us=1e-7, args={"x": 1e300}).to_payload()
    chained = chain_record(payload, 1, GENESIS_HASH)
    assert chained.body == rfc8785.dumps(json.loads(chained.body))
    assert verify_chain([stored_row(chained, indexed_columns(payload))], head=chained.head).ok


def test_intact_chain_verifies() -> None:
    rows = build_chain(10)
    report = verify_chain(rows, head=head_of(rows))
    assert report.ok
    assert (report.checked, report.first_bad_seq, report.problem) == (10, None, None)
    assert report.last == head_of(rows)


def test_empty_chain_verifies_against_genesis() -> None:
    assert verify_chain([], head=GENESIS).ok
    assert verify_chain([], head=(0, GENESIS_HASH)).ok


def test_edited_body_is_caught() -> None:
    rows = build_chain(10)
    rows[6] = rewrite(rows[6], {"effect": "deny"})
    report = verify_chain(rows, head=head_of(rows))
    assert not report.ok
    assert report.first_bad_seq == 7
    assert report.checked == 6
    assert report.problem == "record 7 was edited: its hash does not match its content"


def test_edited_body_with_recomputed_hash_breaks_the_next_link() -> None:
    rows = build_chain(10)
    rows[6] = rewrite(rows[6], {"effect": "deny"}, rehash=True)
    report = verify_chain(rows, head=head_of(rows))
    assert report.first_bad_seq == 8
    assert report.problem == (
        "record 8 does not follow record 7: prev_hash mismatch (inserted or reordered)"
    )


def test_edited_last_record_with_recomputed_hash_is_caught_by_the_head() -> None:
    rows = build_chain(5)
    head = head_of(rows)
    rows[4] = rewrite(rows[4], {"effect": "deny"}, rehash=True)
    report = verify_chain(rows, head=head)
    assert report.first_bad_seq == 5
    assert report.problem == (
        "record 5 is not the record the head names: its hash differs (the chain was rewritten)"
    )
    assert verify_chain(rows).ok  # without a head, the end of the chain cannot be checked


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("effect", "deny"),
        ("decision_id", "dec-999999"),
        ("action", "read:orders"),
        ("agent_id", "other-bot"),
        ("user_sub", "mallory"),
        ("ts", "2020-01-01T00:00:00.000000Z"),
        ("kind", "approval"),
        ("run_id", None),
    ],
)
def test_edited_indexed_column_is_caught(column: str, value: Any) -> None:
    rows = build_chain(5)
    rows[2] = dataclasses.replace(rows[2], **{column: value})
    report = verify_chain(rows, head=head_of(rows))
    assert report.first_bad_seq == 3
    assert report.problem == f"column `{column}` of record 3 disagrees with its content"


def test_edited_hash_column_is_caught() -> None:
    rows = build_chain(5)
    rows[2] = dataclasses.replace(rows[2], hash="a" * 64)
    report = verify_chain(rows, head=head_of(rows))
    assert report.first_bad_seq == 3
    assert report.problem == "record 3 was edited: its hash does not match its content"


def test_deleted_middle_record_is_caught() -> None:
    rows = build_chain(10)
    del rows[4]
    report = verify_chain(rows, head=head_of(rows))
    assert report.first_bad_seq == 5
    assert report.problem == "record 5 is missing (gap between 4 and 6)"


def test_deleted_run_of_records_is_caught() -> None:
    rows = build_chain(10)
    del rows[3:6]
    report = verify_chain(rows, head=head_of(rows))
    assert report.first_bad_seq == 4
    assert report.problem == "records 4 to 6 are missing (gap between 3 and 7)"


def test_deleted_first_record_is_caught() -> None:
    rows = build_chain(3)
    report = verify_chain(rows[1:], head=head_of(rows))
    assert report.first_bad_seq == 1
    assert report.problem == "record 1 is missing (the chain starts at 2)"


def test_deleted_last_record_is_caught_by_the_head() -> None:
    rows = build_chain(42)
    head = head_of(rows)
    report = verify_chain(rows[:-1], head=head)
    assert report.first_bad_seq == 42
    assert report.checked == 41
    assert report.problem == (
        "the chain ends at 41 but the head says 42: records were removed from the end"
    )


def test_record_appended_without_moving_the_head_is_caught() -> None:
    rows = build_chain(4)
    report = verify_chain(rows, head=ChainHead(3, rows[2].hash))
    assert report.first_bad_seq == 4
    assert report.problem == (
        "the chain goes on past the head at 3 to 4: records were added without moving the head"
    )


def test_inserted_forged_record_is_caught() -> None:
    rows = build_chain(10)
    # A forger who renumbers everything after 4 and inserts a well-formed record at 5.
    payload = make_event(99).to_payload()
    forged = stored_row(chain_record(payload, 5, rows[3].hash), indexed_columns(payload))
    shifted = [dataclasses.replace(row, seq=row.seq + 1) for row in rows[4:]]
    tampered = [*rows[:4], forged, *shifted]
    report = verify_chain(tampered, head=head_of(tampered))
    assert report.first_bad_seq == 6
    assert report.problem == (
        "record 6 does not follow record 5: prev_hash mismatch (inserted or reordered)"
    )


def test_swapped_records_are_caught() -> None:
    rows = build_chain(10)
    rows[2], rows[3] = (
        dataclasses.replace(rows[3], seq=3),
        dataclasses.replace(rows[2], seq=4),
    )
    report = verify_chain(rows, head=head_of(build_chain(10)))
    assert report.first_bad_seq == 3
    assert report.problem == (
        "record 3 does not follow record 2: prev_hash mismatch (inserted or reordered)"
    )


def test_rows_out_of_order_are_caught() -> None:
    rows = build_chain(4)
    report = verify_chain([rows[0], rows[1], rows[1], rows[2]])
    assert report.first_bad_seq == 2
    assert report.problem == "record 2 comes after record 2: rows are out of order"


@pytest.mark.parametrize(
    ("body", "what"), [(b"{not json", "not JSON"), (b"[1]", "not a JSON object")]
)
def test_unreadable_body_is_caught(body: bytes, what: str) -> None:
    rows = build_chain(3)
    rows[1] = dataclasses.replace(rows[1], body=body, hash=hashlib.sha256(body).hexdigest())
    report = verify_chain(rows)
    assert report.first_bad_seq == 2
    assert report.problem == f"record 2 is unreadable: its content is {what}"


def test_verification_can_start_from_a_checkpoint() -> None:
    rows = build_chain(10)
    checkpoint = ChainHead(rows[5].seq, rows[5].hash)
    report = verify_chain(rows[6:], start=checkpoint, head=head_of(rows))
    assert report.ok
    assert report.checked == 4
    wrong_start = verify_chain(rows[6:], start=ChainHead(6, "b" * 64))
    assert wrong_start.first_bad_seq == 7


def test_verify_reads_rows_lazily() -> None:
    rows = build_chain(5)
    rows[1] = dataclasses.replace(rows[1], effect="deny")

    def stream() -> Any:
        yield from rows[:2]
        raise AssertionError("verify_chain read past the first bad record")

    assert verify_chain(stream()).first_bad_seq == 2


def test_string_bodies_verify_like_bytes() -> None:
    rows = [dataclasses.replace(row, body=bytes(row.body).decode()) for row in build_chain(3)]
    assert verify_chain(rows, head=head_of(rows)).ok


# -- chain_event: the writer's way, the same bytes as chain_record of the payload -----------

_TEXTISH = st.one_of(TEXT, st.none(), st.sampled_from([7, 2.5, 5.0, math.nan, ("a",)]))
_SEQUENCE = st.one_of(
    st.lists(JSON_VALUES, max_size=3).map(tuple),
    st.lists(JSON_VALUES, max_size=3),
    st.sampled_from(["r1", frozenset({"r1"})]),  # not a sequence: to_payload still lists them
)
_NESTED = st.one_of(st.none(), JSON_VALUES, st.dictionaries(TEXT, JSON_VALUES, max_size=3))
_EVENTS = st.builds(
    AuditEvent,
    kind=_TEXTISH, decision_id=_TEXTISH, ts=_TEXTISH, agent=_NESTED, action=_TEXTISH,
    effect=_TEXTISH, reason=_TEXTISH, trace_id=_TEXTISH, user=_NESTED, delegation=_SEQUENCE,
    run_id=_TEXTISH, resource=_TEXTISH, args=_NESTED, args_digest=_TEXTISH, rule_ids=_SEQUENCE,
    code=_TEXTISH, effective_scopes=_SEQUENCE, diagnostics=_SEQUENCE, shadow=_NESTED,
    latency_us=st.one_of(st.none(), NUMBERS, st.just(math.inf)), result_digest=_TEXTISH,
    extra=_NESTED,
)  # fmt: skip


@settings(max_examples=1000)
@given(_EVENTS, st.sampled_from([None, 1, 3]))
@example(make_event(1), 2)
@example(make_event(2, latency_us=40.0, args={"n": [1.0, {"m": -0.0}]}), None)
def test_chain_event_writes_the_bytes_of_chain_record(event: AuditEvent, shard: int | None) -> None:
    def chained(chain: Callable[[], ChainedRecord]) -> ChainedRecord | str:
        try:
            return chain()
        except AuditError as exc:
            return exc.code

    expected = chained(lambda: chain_record(event.to_payload(), 9, "ab" * 32, shard))
    assert chained(lambda: chain_event(event, 9, "ab" * 32, shard)) == expected
    assert event_columns(event) == indexed_columns(event.to_payload())


def test_chain_event_leaves_the_event_as_it_was() -> None:
    event = make_event(1, latency_us=40.0, args={"amount": 10.0, "items": [1.0, 2]})
    before = event.to_payload()
    chain_event(event, 1, GENESIS_HASH, 1)
    assert event.to_payload() == before
    assert type(event.args["amount"]) is float
    assert type(event.latency_us) is float
