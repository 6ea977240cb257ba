"""Checkpoints as C2SP signed notes, read by a parser written here from the specs.

c2sp.org/signed-note: text (UTF-8 lines ending in newlines), a blank line, then
signature lines ``— <name> <base64(key id (4 bytes) || signature)>``; an
Ed25519 key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || key).
c2sp.org/tlog-checkpoint: the text's first three lines are the origin, the
tree size in decimal and the base64 root hash; extension lines may follow.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from proctor.audit.checkpoint import Checkpoint, ShardHead, parse_checkpoint
from proctor.audit.errors import AuditError
from proctor.audit.note import NoteVerifier, parse_note, sign_note, split_notes
from proctor.runtime.note_signers import KeyFileSigner


def spec_parse(note: str) -> tuple[list[str], list[tuple[str, bytes, bytes]]]:
    """(text lines, [(key name, key id, signature)]) per the two specs, asserting the format."""
    text, sep, sigs = note.rpartition("\n\n")
    assert sep
    assert text
    assert sigs.endswith("\n")
    lines = (text + "\n").split("\n")[:-1]
    signatures = []
    for line in sigs[:-1].split("\n"):
        assert line.startswith("\u2014 ")
        name, encoded = line[2:].split(" ")
        raw = base64.b64decode(encoded, validate=True)
        signatures.append((name, raw[:4], raw[4:]))
    return lines, signatures


@pytest.fixture
def signer(tmp_path: Path) -> KeyFileSigner:
    return KeyFileSigner(tmp_path / "key.pem", "example.org/audit")


def make(signer: KeyFileSigner) -> str:
    heads = (ShardHead(1, 5, b"\x01" * 32), ShardHead(2, 3, b"\x02" * 32))
    checkpoint = Checkpoint("example.org/audit", 7, "2026-12-07T08:00:00.000000Z", heads)
    return sign_note(checkpoint.text(), signer).encode()


def test_a_checkpoint_is_a_c2sp_signed_note(signer: KeyFileSigner) -> None:
    note = make(signer)
    lines, signatures = spec_parse(note)
    origin, size, root = lines[:3]
    assert (origin, size) == ("example.org/audit", "8")
    assert len(base64.b64decode(root, validate=True)) == 32
    assert all(lines[3:])  # extension lines are non-empty
    [(name, key_id, signature)] = signatures
    assert name == origin
    public = signer.public_key
    assert key_id == hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    text = "\n".join(lines) + "\n"
    Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())


def test_parse_and_verify_round_trip(signer: KeyFileSigner) -> None:
    note = parse_note(make(signer))
    assert note.verified_by(signer.verifier)
    checkpoint = parse_checkpoint(note.text)
    assert (checkpoint.number, checkpoint.size) == (7, 8)
    again = NoteVerifier.parse(str(signer.verifier))
    assert again == signer.verifier


def test_a_changed_text_or_another_key_fails(signer: KeyFileSigner, tmp_path: Path) -> None:
    note = make(signer)
    forged = parse_note(note.replace("\n8\n", "\n9\n"))
    assert not forged.verified_by(signer.verifier)
    other = KeyFileSigner(tmp_path / "other.pem", "example.org/audit")
    assert not parse_note(note).verified_by(other.verifier)


@pytest.mark.parametrize(
    "broken",
    [
        "no blank line\n\u2014 a AAAA\n",
        "text\n\nnot a signature\n",
        "text\n\n\u2014 a !!!\n",
        "text\n\n\u2014 a AAAAAAA=",
    ],
)
def test_malformed_notes_are_refused_with_a_code(broken: str) -> None:
    with pytest.raises(AuditError) as caught:
        parse_note(broken)
    assert caught.value.code == "audit_bad_note"


def test_a_checkpoint_whose_root_disagrees_with_its_shards_is_refused(
    signer: KeyFileSigner,
) -> None:
    text = parse_note(make(signer)).text
    lines = text.split("\n")
    lines[2] = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(AuditError):
        parse_checkpoint("\n".join(lines))


def test_a_witness_file_splits_into_its_notes(signer: KeyFileSigner) -> None:
    one, two = make(signer), make(signer)
    assert list(split_notes(one + "\n" + two + "\n")) == [one, two]


def test_the_key_file_is_private(signer: KeyFileSigner) -> None:
    assert signer.path.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in repr(signer)
