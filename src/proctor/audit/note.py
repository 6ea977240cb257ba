"""Signed notes (C2SP ``signed-note``) with Ed25519 signatures.

A note is UTF-8 text ending in a newline, then a blank line, then one line per
signature: ``— <key name> <base64(key id || signature)>``, where the em dash is
U+2014, base64 is RFC 4648 §4 (padded), the signature is Ed25519 over the text
(every byte up to and including its last newline) and the key id is the first
four bytes of ``SHA-256(key name || 0x0A || 0x01 || public key)``. A verifier
key is written ``<name>+<key id in hex>+<base64(0x01 || public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from proctor.audit.errors import AUDIT_BAD_NOTE, AuditError

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "
MAX_NOTE_BYTES = 1 << 20


class NoteSigner(Protocol):
    """Signs note text: ``name`` is the key name, ``public_key`` its 32 raw bytes."""

    name: str
    public_key: bytes

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        ...


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The C2SP verifier key string of ``public_key`` under ``name``."""
    encoded = base64.b64encode(ED25519 + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A public key that checks notes signed under ``name``."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @classmethod
    def parse(cls, text: str) -> NoteVerifier:
        """A verifier key string (``name+hexid+base64``)."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or not parts[0]:
            raise AuditError(
                f"`{text.strip()[:80]}` is not a verifier key (name+keyid+base64)",
                code=AUDIT_BAD_NOTE,
            )
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AuditError("the verifier key is not base64", code=AUDIT_BAD_NOTE) from exc
        if len(raw) != 33 or raw[:1] != ED25519:
            raise AuditError("the verifier key is not an Ed25519 key", code=AUDIT_BAD_NOTE)
        verifier = cls(name, raw[1:])
        if verifier.key_id.hex() != hex_id.lower():
            raise AuditError(
                "the verifier key's id does not match its name and key", code=AUDIT_BAD_NOTE
            )
        return verifier

    def __str__(self) -> str:
        return verifier_key(self.name, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class SignedNote:
    text: str
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        lines = [self.text, "\n"]
        for sig in self.signatures:
            encoded = base64.b64encode(sig.key_id + sig.signature).decode("ascii")
            lines.append(f"{SIGNATURE_PREFIX}{sig.name} {encoded}\n")
        return "".join(lines)

    def verified_by(self, verifier: NoteVerifier) -> bool:
        """Whether a signature of ``verifier``'s name and key id checks out."""
        return any(
            sig.name == verifier.name
            and sig.key_id == verifier.key_id
            and verifier.verify(self.text.encode(), sig.signature)
            for sig in self.signatures
        )


def sign_note(text: str, signer: NoteSigner) -> SignedNote:
    _check_text(text)
    signature = signer.sign(text.encode())
    if len(signature) != 64:
        raise AuditError("the signer returned a signature that is not Ed25519", code=AUDIT_BAD_NOTE)
    mine = Signature(signer.name, key_id(signer.name, signer.public_key), signature)
    if not NoteVerifier(signer.name, signer.public_key).verify(text.encode(), signature):
        raise AuditError("the signer's signature does not verify", code=AUDIT_BAD_NOTE)
    return SignedNote(text, (mine,))


def parse_note(encoded: str) -> SignedNote:
    """One signed note; raises ``AuditError`` (``audit_bad_note``) when malformed."""
    if len(encoded.encode()) > MAX_NOTE_BYTES:
        raise AuditError("the note is larger than 1 MiB", code=AUDIT_BAD_NOTE)
    split = encoded.rfind("\n\n")
    if split < 0:
        raise AuditError("the note has no blank line before its signatures", code=AUDIT_BAD_NOTE)
    text, block = encoded[: split + 1], encoded[split + 2 :]
    _check_text(text)
    if not block.endswith("\n"):
        raise AuditError("the note's last signature line has no newline", code=AUDIT_BAD_NOTE)
    signatures = tuple(_signature(line) for line in block[:-1].split("\n"))
    if not signatures:
        raise AuditError("the note has no signature", code=AUDIT_BAD_NOTE)
    return SignedNote(text, signatures)


def split_notes(stream: str) -> Iterator[str]:
    """The notes of a witness file: each note's text, blank line, signatures, one after another."""
    lines = stream.splitlines(keepends=True)
    current: list[str] = []
    in_signatures = False
    for line in lines:
        if in_signatures and not line.startswith(SIGNATURE_PREFIX):
            yield "".join(current)
            current, in_signatures = [], False
            if line == "\n":
                continue  # a blank line between notes
        current.append(line)
        if line == "\n" and current[:-1]:
            in_signatures = True
    if current:
        yield "".join(current)


def _signature(line: str) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise AuditError(f"`{line[:80]}` is not a signature line", code=AUDIT_BAD_NOTE)
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
    if not name or " " in name or "+" in name:
        raise AuditError(f"`{line[:80]}` names no valid key", code=AUDIT_BAD_NOTE)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuditError(f"`{line[:80]}` is not base64", code=AUDIT_BAD_NOTE) from exc
    if len(raw) < 5:
        raise AuditError(f"`{line[:80]}` is too short for a signature", code=AUDIT_BAD_NOTE)
    return Signature(name, raw[:4], raw[4:])


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise AuditError(
            "note text must be non-empty lines, each ending in a newline", code=AUDIT_BAD_NOTE
        )
    if any(ch < " " and ch != "\n" for ch in text):
        raise AuditError("note text holds a control character", code=AUDIT_BAD_NOTE)
