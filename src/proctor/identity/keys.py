"""proctor's own signing keys (Ed25519): the active key, older keys kept for overlap, the JWKS.

Rotation adds a new active key and retires the old one; a retired key stays
in the JWKS (and keeps verifying) for ``overlap`` seconds, longer than any
token it signed can live, then drops out. The dev key signs ``proctor token
user`` test tokens only; it is never part of the published JWKS.
The document form (``to_document``) holds private keys: it is written to a
0600 key file and never to logs or the audit trail.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.api_jwk import PyJWK

from proctor.identity.errors import IdentityError

KEY_DOCUMENT_VERSION = 1
DEV_KEY_ID = "dev"
DEV_ISSUER = "urn:proctor:dev"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(public: Ed25519PublicKey, kid: str) -> dict[str, str]:
    """The RFC 8037 OKP JWK of ``public``."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64(raw),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    }


def thumbprint(public: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the key id."""
    jwk = public_jwk(public, "")
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One Ed25519 key: its id, when it was made and, once rotated out, when it was retired."""

    kid: str
    private: Ed25519PrivateKey
    created_at: int
    retired_at: int | None = None

    @classmethod
    def generate(cls, now: int, *, kid: str | None = None) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        return cls(kid or thumbprint(private.public_key())[:16], private, now)

    def public_jwk(self) -> dict[str, str]:
        return public_jwk(self.private.public_key(), self.kid)

    def verifier(self) -> PyJWK:
        return PyJWK(self.public_jwk())

    def to_dict(self) -> dict[str, Any]:
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {
            "kid": self.kid,
            "created_at": self.created_at,
            "retired_at": self.retired_at,
            "private_key_pem": pem.decode("ascii"),
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> SigningKey:
        try:
            private = serialization.load_pem_private_key(
                str(value["private_key_pem"]).encode("ascii"), password=None
            )
            if not isinstance(private, Ed25519PrivateKey):
                raise TypeError("not an Ed25519 key")
            retired = value.get("retired_at")
            return cls(
                str(value["kid"]),
                private,
                int(value["created_at"]),
                None if retired is None else int(retired),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IdentityError(
                f"a key in the key file is unreadable: {exc}", code="key_file_invalid"
            ) from exc

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(kid={self.kid!r}, created_at={self.created_at})"


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The signing keys, newest first: the first unretired one signs; the others verify."""

    keys: tuple[SigningKey, ...]
    dev_key: SigningKey | None = None
    overlap: int = 86_400

    @property
    def active(self) -> SigningKey:
        for key in self.keys:
            if key.retired_at is None:
                return key
        raise IdentityError("the key file has no active signing key", code="no_signing_key")

    def verifying(self, now: float) -> dict[str, SigningKey]:
        """Keys that verify at ``now``: the active one and those retired within ``overlap``."""
        return {
            key.kid: key
            for key in self.keys
            if key.retired_at is None or now <= key.retired_at + self.overlap
        }

    def jwks(self, now: float) -> dict[str, Any]:
        """The public JWKS document (RFC 7517 §5) to publish; no private parts, no dev key."""
        return {"keys": [key.public_jwk() for key in self.verifying(now).values()]}

    def rotate(self, now: int, *, kid: str | None = None) -> KeyRing:
        """A new active key; the old active key is retired now and dropped after the overlap."""
        fresh = SigningKey.generate(now, kid=kid)
        kept = tuple(
            key if key.retired_at is not None else replace(key, retired_at=now)
            for key in self.keys
            if key.retired_at is None or now <= key.retired_at + self.overlap
        )
        return replace(self, keys=(fresh, *kept))

    def with_dev_key(self, now: int) -> KeyRing:
        if self.dev_key is not None:
            return self
        return replace(self, dev_key=SigningKey.generate(now, kid=DEV_KEY_ID))

    def to_document(self) -> dict[str, Any]:
        return {
            "version": KEY_DOCUMENT_VERSION,
            "signing_keys": [key.to_dict() for key in self.keys],
            "dev_key": None if self.dev_key is None else self.dev_key.to_dict(),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any], *, overlap: int = 86_400) -> KeyRing:
        if document.get("version") != KEY_DOCUMENT_VERSION:
            raise IdentityError(
                f"the key file has version `{document.get('version')}`, "
                f"expected {KEY_DOCUMENT_VERSION}",
                code="key_file_invalid",
            )
        keys = tuple(SigningKey.from_dict(item) for item in document.get("signing_keys") or ())
        dev = document.get("dev_key")
        return cls(keys, None if dev is None else SigningKey.from_dict(dev), overlap)

    @classmethod
    def generate(cls, now: int, *, overlap: int = 86_400) -> KeyRing:
        return cls((SigningKey.generate(now),), None, overlap)

    def __repr__(self) -> str:
        return f"KeyRing(kids={[key.kid for key in self.keys]})"
