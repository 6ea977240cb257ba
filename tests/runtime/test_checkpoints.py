"""The checkpointer: when it signs, who leads, what it refuses, where it publishes."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from proctor.audit.checkpoint import parse_checkpoint
from proctor.audit.errors import AuditError
from proctor.audit.merkle import Frontier
from proctor.audit.note import parse_note, split_notes
from proctor.runtime.checkpoints import Checkpointer, FileWitness
from proctor.runtime.note_signers import CommandSigner, KeyFileSigner
from proctor.storage.memory import MemoryAuditStore
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from tests.audit.factories import make_event


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def signer(tmp_path: Path) -> KeyFileSigner:
    return KeyFileSigner(tmp_path / "key.pem", "test/log")


def fill(store: MemoryAuditStore, numbers: range) -> None:
    for number in numbers:
        store.append(make_event(number))


def test_due_after_n_records_or_t_seconds(signer: KeyFileSigner) -> None:
    clock, store = Clock(), MemoryAuditStore()
    maker = Checkpointer(
        store, signer, origin="test/log", clock=clock, every_records=10, every_seconds=5
    )
    assert not maker.due()
    fill(store, range(1, 4))
    assert not maker.due()
    clock.now += 5
    assert maker.due()
    assert maker.make() is not None
    fill(store, range(4, 14))
    assert maker.due()  # ten records, whatever the time
    maker.make()
    assert not maker.due()
    assert maker.make() is None  # nothing grew


def test_one_leader_at_a_time_and_a_takeover_when_it_stops(signer: KeyFileSigner) -> None:
    clock, store = Clock(), MemoryAuditStore()
    first = Checkpointer(store, signer, origin="test/log", clock=clock)
    second = Checkpointer(store, signer, origin="test/log", clock=clock)
    fill(store, range(1, 3))
    assert first.make() is not None
    fill(store, range(3, 5))
    assert second.make() is None  # the first holds the lease
    clock.now += 11
    note = second.make()
    assert note is not None
    assert parse_checkpoint(parse_note(note).text).number == 2


def test_no_checkpoint_is_signed_over_a_truncated_log(
    signer: KeyFileSigner, tmp_path: Path
) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        fill(store, range(1, 6))  # type: ignore[arg-type]
        store.flush()
        maker = Checkpointer(store, signer, origin="test/log")
        maker.make()
        maker.resign()
    with sqlite3.connect(path) as conn:  # the tail cut and the shard's head moved back with it
        conn.execute("DELETE FROM audit WHERE position > 3")
        frontier = Frontier()
        for (leaf,) in conn.execute("SELECT leaf FROM audit ORDER BY position"):
            frontier.append(leaf)
        conn.execute("UPDATE audit_shards SET size = 3, frontier = ?", (frontier.packed(),))
    with SqliteAuditStore(path) as store, pytest.raises(AuditError) as caught:
        Checkpointer(store, signer, origin="test/log").make()
    assert "the log was truncated" in caught.value.message


def test_witnesses_get_every_checkpoint_and_a_failing_one_stops_nothing(
    signer: KeyFileSigner, tmp_path: Path
) -> None:
    class Down:
        def publish(self, note: str) -> None:
            raise OSError("witness down")

    clock, store = Clock(), MemoryAuditStore()
    witness = tmp_path / "witness.txt"
    maker = Checkpointer(
        store, signer, origin="test/log", clock=clock, witnesses=[Down(), FileWitness(witness)]
    )
    for round_ in range(3):
        fill(store, range(round_ * 10 + 1, round_ * 10 + 4))
        maker.make()
    notes = list(split_notes(witness.read_text()))
    assert [parse_checkpoint(parse_note(n).text).number for n in notes] == [1, 2, 3]
    assert all(parse_note(n).verified_by(signer.verifier) for n in notes)


def test_an_external_signer_command(signer: KeyFileSigner, tmp_path: Path) -> None:
    script = tmp_path / "sign.py"
    script.write_text(
        "import base64, sys\n"
        "from cryptography.hazmat.primitives.serialization import load_pem_private_key\n"
        f"key = load_pem_private_key(open({str(signer.path)!r}, 'rb').read(), None)\n"
        "print(base64.b64encode(key.sign(sys.stdin.buffer.read())).decode())\n"
    )
    command = CommandSigner([sys.executable, str(script)], signer.verifier)
    store = MemoryAuditStore()
    fill(store, range(1, 3))
    maker = Checkpointer(store, command, origin="test/log")
    note = maker.make()
    assert note is not None
    assert parse_note(note).verified_by(signer.verifier)
    maker.signer = CommandSigner([sys.executable, "-c", "import sys; sys.exit(3)"], signer.verifier)
    with pytest.raises(AuditError) as caught:
        maker.make(even_if_unchanged=True)
    assert caught.value.code == "audit_signer_failed"
