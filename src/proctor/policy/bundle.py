"""Signed policy bundles: a set's texts, its digest and an Ed25519 signature, in one JSON file.

For air-gapped and GitOps deployments: ``proctor policy bundle build`` signs
the set with a key kept off the serving machines, and ``proctor serve
--bundle URL_OR_FILE --bundle-key PUBLIC.pem`` accepts only what that key
signed. The signature covers the canonical JSON (sorted keys, no spaces,
UTF-8) of every member but ``signature``; the digest is recomputed from the
texts (``policy.digest``). A bundle without a signature, with a signature
that does not verify, or whose digest does not match its texts is refused
with its own code, and nothing of it is used.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proctor.policy.digest import policy_set_digest
from proctor.policy.errors import PolicyError

BUNDLE_FORMAT = "proctor-policy-bundle"
BUNDLE_VERSION = 1
BUNDLE_INVALID = "bundle_invalid"
BUNDLE_UNSIGNED = "bundle_unsigned"
BUNDLE_SIGNATURE_INVALID = "bundle_signature_invalid"
BUNDLE_DIGEST_MISMATCH = "bundle_digest_mismatch"
MAX_BUNDLE_BYTES = 16 * 1024 * 1024


def build_bundle(sources: Sequence[tuple[str, str]], key: Ed25519PrivateKey) -> bytes:
    """The signed bundle of ``sources`` (``(name, text)`` pairs), as bytes to write or serve."""
    body: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "v": BUNDLE_VERSION,
        "digest": policy_set_digest(text for _, text in sources),
        "sources": [{"name": name, "text": text} for name, text in sources],
    }
    signature = key.sign(_signed_bytes(body))
    body["signature"] = {"alg": "Ed25519", "value": base64.b64encode(signature).decode("ascii")}
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")


def read_bundle(data: bytes, key: Ed25519PublicKey) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``(digest, sources)`` of a bundle ``key`` signed; ``PolicyError`` otherwise."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise PolicyError(
            f"the bundle is larger than {MAX_BUNDLE_BYTES} bytes", code=BUNDLE_INVALID
        )
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PolicyError(f"the bundle is not JSON: {exc}", code=BUNDLE_INVALID) from exc
    if not isinstance(body, dict) or body.get("format") != BUNDLE_FORMAT:
        raise PolicyError("not a proctor policy bundle", code=BUNDLE_INVALID)
    if body.get("v") != BUNDLE_VERSION:
        raise PolicyError(f"bundle version `{body.get('v')}` is not supported", code=BUNDLE_INVALID)
    signature = body.pop("signature", None)
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        raise PolicyError("the bundle is not signed", code=BUNDLE_UNSIGNED)
    try:
        key.verify(base64.b64decode(signature["value"], validate=True), _signed_bytes(body))
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise PolicyError(
            "the bundle's signature does not verify with the configured key: "
            "it was changed after signing or signed by another key",
            code=BUNDLE_SIGNATURE_INVALID,
        ) from exc
    sources = _sources(body.get("sources"))
    digest = policy_set_digest(text for _, text in sources)
    if body.get("digest") != digest:
        raise PolicyError(
            "the bundle's digest does not match its texts", code=BUNDLE_DIGEST_MISMATCH
        )
    return digest, sources


def _sources(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("text"), str)
        for item in value
    ):
        raise PolicyError(
            "the bundle's `sources` must be a list of {name, text}", code=BUNDLE_INVALID
        )
    return tuple((item["name"], item["text"]) for item in value)


def _signed_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
