"""Rewriting the audit log behind proctor's back, caught by signed checkpoints (issue 21).

The attacker here can write the database and run proctor's own hashing code:
they rewrite the chain, the Merkle tree and the shard's head consistently, so
``proctor audit verify`` alone finds nothing. The checkpoints a witness kept,
signed with a key the database never held, catch every such rewrite through
the CLI, naming the first record and checkpoint that disagree.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor.audit.chain import GENESIS_HASH, chain_record
from proctor.audit.checkpoint import Checkpoint, ShardHead
from proctor.audit.merkle import Frontier, leaf_hash
from proctor.audit.note import sign_note
from proctor.cli.main import cli
from proctor.runtime.note_signers import KeyFileSigner
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from tests.audit.factories import make_event


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    failure = (
        "" if isinstance(result.exception, (SystemExit, type(None))) else str(result.exception)
    )
    return result.exit_code, result.output + failure


class Log:
    """A SQLite log of 12 decisions (every third a deny), checkpointed after 6 and 12."""

    def __init__(self, root: Path) -> None:
        self.db = root / "audit.db"
        self.witness = root / "witness.txt"
        self.key = root / "audit.pub"
        self.append(range(1, 7))
        self.witness.write_text(self.checkpoint() + "\n")
        self.append(range(7, 13))
        with self.witness.open("a") as file:
            file.write(self.checkpoint() + "\n")
        code, key = run("audit", "public-key")
        assert code == 0
        self.key.write_text(key)

    def append(self, numbers: range) -> None:
        with SqliteAuditStore(self.db) as store:
            for number in numbers:
                effect = "deny" if number % 3 == 0 else "allow"
                store.append(make_event(number, effect=effect))

    def checkpoint(self) -> str:
        code, note = run("audit", "checkpoint", "--db", str(self.db))
        assert code == 0, note
        return note

    def verify(self, *extra: str) -> tuple[int, dict[str, object]]:
        code, out = run("audit", "verify", "--db", str(self.db), "--json", *extra)
        return code, json.loads(out)

    def verify_witnessed(self) -> tuple[int, dict[str, object]]:
        return self.verify("--checkpoints", str(self.witness), "--key", str(self.key))


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Log:
    monkeypatch.chdir(tmp_path)  # the checkpoint key file: ./proctor-audit-key.pem
    return Log(tmp_path)


def rewrite(db: Path, change: Callable[[dict[str, object]], dict[str, object] | None]) -> None:
    """Rebuild shard 1 from its records changed by ``change`` (None drops one): chain, leaves,
    tree nodes and the shard's head, all consistent, as proctor itself would have written them."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT seq, body FROM audit WHERE shard = 1 ORDER BY position"
        ).fetchall()
        conn.execute("DELETE FROM audit WHERE shard = 1")
        conn.execute("DELETE FROM audit_nodes WHERE shard = 1")
        frontier, prev, position = Frontier(), GENESIS_HASH, 0
        for seq, body in rows:
            record = json.loads(body)
            for field in ("seq", "prev_hash", "shard"):
                record.pop(field)
            changed = change(record)
            if changed is None:
                continue
            position += 1
            chained = chain_record(changed, position, prev, 1)
            leaf = leaf_hash(chained.body)
            for level, idx, node in frontier.append(leaf):
                conn.execute("INSERT INTO audit_nodes VALUES (1, ?, ?, ?)", (level, idx, node))
            conn.execute(
                "INSERT INTO audit (seq, shard, position, decision_id, ts, kind, effect, action,"
                " user_sub, agent_id, run_id, hash, body, leaf) VALUES"
                " (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, position, changed["decision_id"], changed["ts"], changed["kind"],
                 changed["effect"], changed["action"], changed["user"]["sub"],  # type: ignore[index]
                 changed["agent"]["id"], changed["run_id"], chained.hash,  # type: ignore[index]
                 chained.body.decode(), leaf),
            )  # fmt: skip
            prev = chained.hash
        conn.execute(
            "UPDATE audit_shards SET size = ?, hash = ?, frontier = ? WHERE shard = 1",
            (frontier.size, prev, frontier.packed()),
        )


def deny_to_allow(record: dict[str, object]) -> dict[str, object]:
    return {**record, "effect": "allow"}


def test_an_untouched_log_verifies_against_its_checkpoints(log: Log) -> None:
    code, report = log.verify_witnessed()
    assert (code, report["ok"], report["checked"]) == (0, True, 12)


def test_a_consistently_rewritten_chain_is_caught(log: Log) -> None:
    rewrite(log.db, deny_to_allow)
    assert log.verify()[0] == 0  # the chain alone is consistent: the old gap
    code, report = log.verify_witnessed()
    assert code == 1
    assert (report["first_bad_seq"], report["checkpoint"]) == (1, 1)
    assert "records 1 to 6 of the log disagree with signed checkpoint 1" in str(report["problem"])


def test_a_rewrite_after_the_first_checkpoint_names_the_second(log: Log) -> None:
    rewrite(log.db, lambda r: deny_to_allow(r) if r["decision_id"] == "dec-000009" else r)
    code, report = log.verify_witnessed()
    assert (code, report["first_bad_seq"], report["checkpoint"]) == (1, 7, 2)
    code, out = run("audit", "verify", "--db", str(log.db), "--checkpoints", str(log.witness),
                    "--key", str(log.key))  # fmt: skip
    assert code == 1
    assert "broken at record 7" in out


def test_a_truncated_tail_with_the_head_moved_back_is_caught(log: Log) -> None:
    rewrite(log.db, lambda r: None if r["decision_id"] >= "dec-000010" else r)  # type: ignore[operator]
    assert log.verify()[0] == 0
    code, report = log.verify_witnessed()
    assert (code, report["first_bad_seq"], report["checkpoint"]) == (1, 10, 2)
    assert "records 10 to 12 were removed" in str(report["problem"])


def forged_checkpoint(log: Log, number: int, size: int) -> str:
    """A checkpoint signed with the real key over another tree: a split view, a fork."""
    signer = KeyFileSigner(Path("proctor-audit-key.pem"), "proctor/audit", create=False)
    heads = (ShardHead(1, size, hashlib.sha256(b"another history").digest()),)
    checkpoint = Checkpoint("proctor/audit", number, "2026-12-07T09:00:00.000000Z", heads)
    return sign_note(checkpoint.text(), signer).encode()


def test_a_forked_log_is_caught(log: Log) -> None:
    with log.witness.open("a") as file:
        file.write(forged_checkpoint(log, 3, 12) + "\n")
    code, report = log.verify_witnessed()
    assert (code, report["checkpoint"]) == (1, 3)
    assert (
        (report["problem"])
        == "checkpoints 2 and 3 give shard 1 at size 12 different roots: the log forked"
    )


def test_a_deleted_checkpoint_range_is_caught(log: Log) -> None:
    with sqlite3.connect(log.db) as conn:
        conn.execute("DELETE FROM audit_checkpoints WHERE number = 1")
    code, report = log.verify_witnessed()
    assert (code, report["checkpoint"]) == (1, 1)
    assert report["problem"] == "signed checkpoint 1 is missing from the database: deleted"


def test_a_gap_in_the_witness_file_is_caught(log: Log) -> None:
    notes = log.witness.read_text()
    log.witness.write_text(notes + forged_checkpoint(log, 5, 12) + "\n")
    code, report = log.verify_witnessed()
    assert code == 1
    assert report["problem"] == "checkpoints 3 to 4 are missing: a range of checkpoints was deleted"


def test_a_checkpoint_signed_by_another_key_is_refused(log: Log, tmp_path: Path) -> None:
    other = KeyFileSigner(tmp_path / "other.pem", "proctor/audit")
    heads = (ShardHead(1, 12, hashlib.sha256(b"x").digest()),)
    note = sign_note(Checkpoint("proctor/audit", 3, "2026-12-07T09:00:00Z", heads).text(), other)
    with log.witness.open("a") as file:
        file.write(note.encode() + "\n")
    code, report = log.verify_witnessed()
    assert code == 1
    assert "is not signed by the key `proctor/audit`" in str(report["problem"])


def test_verify_proof_needs_only_the_proof_and_the_public_key(log: Log, tmp_path: Path) -> None:
    proof = tmp_path / "proof.json"
    code, out = run("audit", "prove", "dec-000003", "--db", str(log.db), "--output", str(proof))
    assert code == 0, out
    log.db.unlink()  # offline: no database
    assert run("audit", "verify-proof", str(proof), "--key", str(log.key))[0] == 0
    document = json.loads(proof.read_text())
    document["body"] = document["body"].replace('"effect":"deny"', '"effect":"allow"')
    proof.write_text(json.dumps(document))
    code, out = run("audit", "verify-proof", str(proof), "--key", str(log.key), "--json")
    assert code == 1
    assert json.loads(out)["problem"] == (
        "the record is not in shard 1 at checkpoint 2: the record or its audit path was changed"
    )


def test_a_proof_from_a_rewritten_log_fails_offline(log: Log, tmp_path: Path) -> None:
    rewrite(log.db, deny_to_allow)
    proof = tmp_path / "proof.json"
    assert run("audit", "prove", "dec-000003", "--db", str(log.db), "--output", str(proof))[0] == 0
    assert run("audit", "verify-proof", str(proof), "--key", str(log.key))[0] == 1


def test_consistency_proofs_between_checkpoints(log: Log, tmp_path: Path) -> None:
    proof = tmp_path / "consistency.json"
    assert (
        run("audit", "consistency", "1", "2", "--db", str(log.db), "--output", str(proof))[0] == 0
    )
    assert run("audit", "verify-proof", str(proof), "--key", str(log.key))[0] == 0


def test_the_checkpointer_refuses_to_sign_over_a_rewritten_log(log: Log) -> None:
    rewrite(log.db, deny_to_allow)
    log.append(range(13, 15))
    code, out = run("audit", "checkpoint", "--db", str(log.db))
    assert code != 0
    assert "was rewritten, no checkpoint is signed over it" in out


def test_verify_opens_the_file_read_only(log: Log) -> None:
    before = hashlib.sha256(log.db.read_bytes()).hexdigest()
    assert log.verify_witnessed()[0] == 0
    assert hashlib.sha256(log.db.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: [d],
        lambda d: {**d, "leaf_index": -1},
        lambda d: {**d, "leaf_index": "0"},
        lambda d: {**d, "tree_size": 2**80},
        lambda d: {**d, "audit_path": "AAAA"},
        lambda d: {**d, "audit_path": ["not base64!"]},
        lambda d: {**d, "audit_path": ["AAAA"] * 65},
        lambda d: {**d, "body": ["a list"]},
        lambda d: {**d, "decision_id": 7},
        lambda d: {**d, "decision_id": "dec-000004"},  # another record's id
        lambda d: {**d, "checkpoint": d["checkpoint"].replace("\n12\n", "\n13\n")},
        lambda d: {**d, "v": 2},
    ],
)
def test_a_malformed_or_edited_proof_fails_cleanly(
    log: Log, tmp_path: Path, edit: Callable[[dict[str, object]], object]
) -> None:
    proof = tmp_path / "proof.json"
    assert run("audit", "prove", "dec-000003", "--db", str(log.db), "--output", str(proof))[0] == 0
    proof.write_text(json.dumps(edit(json.loads(proof.read_text()))))
    code, out = run("audit", "verify-proof", str(proof), "--key", str(log.key), "--json")
    assert code == 1, out
    assert json.loads(out)["ok"] is False


def test_a_proof_that_is_not_json_is_a_coded_error(log: Log, tmp_path: Path) -> None:
    proof = tmp_path / "proof.json"
    proof.write_text("not json")
    result = CliRunner().invoke(cli, ["audit", "verify-proof", str(proof), "--key", str(log.key)])
    assert result.exit_code != 0
    assert getattr(result.exception, "code", None) == "invalid_proof"
