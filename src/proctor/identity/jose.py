"""JWS signing and verification over PyJWT (with ``cryptography``): no hand-rolled crypto.

Only asymmetric algorithms are accepted (RS256, ES256, EdDSA); ``none`` and
the HMAC family are refused before any key is looked at, which closes the
algorithm-confusion hole (an HS256 token "signed" with a public key). PyJWT
checks the signature only; the registered claims (RFC 7519 §4.1) are checked
here against an injected time, so each failure has its own code.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping
from typing import Any

import jwt
from jwt.api_jwk import PyJWK

from proctor.identity.defaults import ASYMMETRIC_ALGORITHMS as ASYMMETRIC_ALGORITHMS
from proctor.identity.errors import (
    TOKEN_ALG_NOT_ALLOWED,
    TOKEN_BAD_SIGNATURE,
    TOKEN_EXPIRED,
    TOKEN_ISSUED_IN_FUTURE,
    TOKEN_MALFORMED,
    TOKEN_MISSING_CLAIM,
    TOKEN_NOT_YET_VALID,
    TOKEN_WRONG_AUDIENCE,
    TokenRejected,
)

# the JWK key type each algorithm needs (RFC 7518 §6, RFC 8037 §2)
KEY_TYPES = {"RS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}
MAX_TOKEN_LENGTH = 16_384
MAX_NUMERIC_DATE = 2**53  # seconds: past any real `exp`, and exact as a float

_jws = jwt.PyJWS()


def split_token(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified header and payload of a compact JWS; ``token_malformed`` when it is not one.

    Only for routing (which issuer, which key); nothing read here is trusted.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRejected("the token is empty, too long or not a string", code=TOKEN_MALFORMED)
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise TokenRejected(
            "the token is not a compact JWS (three dot-separated parts)", code=TOKEN_MALFORMED
        )
    header = _json_part(parts[0], "header")
    payload = _json_part(parts[1], "payload")
    return header, payload


def _json_part(part: str, name: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw, parse_constant=_not_json)
    except (binascii.Error, ValueError, RecursionError) as exc:  # arrays nested 5,000 deep
        raise TokenRejected(
            f"the token's {name} is not base64url-encoded JSON", code=TOKEN_MALFORMED
        ) from exc
    if not isinstance(value, dict):
        raise TokenRejected(f"the token's {name} is not a JSON object", code=TOKEN_MALFORMED)
    return value


def _not_json(constant: str) -> Any:
    """``NaN`` and ``Infinity``, which Python's reader takes and RFC 8259 does not."""
    raise ValueError(f"`{constant}` is not a JSON value")


def require_algorithm(header: Mapping[str, Any], allowed: Collection[str]) -> str:
    """The header's ``alg`` when it is one of ``allowed`` (all asymmetric).

    Headers that change how the token is read (``crit``, RFC 7515 §4.1.11, and
    ``b64``, RFC 7797) are refused: the payload must be the plain JWT claims.
    """
    if "crit" in header or "b64" in header:
        raise TokenRejected("the token has `crit` or `b64` headers", code=TOKEN_MALFORMED)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed or alg not in ASYMMETRIC_ALGORITHMS:
        raise TokenRejected(
            f"algorithm `{alg}` is not accepted (accepted: {', '.join(sorted(allowed))})",
            code=TOKEN_ALG_NOT_ALLOWED,
        )
    return alg


def verify_signature(token: str, key: PyJWK, alg: str) -> None:
    """Check the JWS signature of ``token`` with ``key`` (whose type must fit ``alg``)."""
    if KEY_TYPES[alg] != key.key_type:
        raise TokenRejected(
            f"key type `{key.key_type}` does not fit algorithm `{alg}`", code=TOKEN_BAD_SIGNATURE
        )
    try:
        _jws.decode_complete(token, key.key, algorithms=[alg])
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected(
            "the token's signature does not verify", code=TOKEN_BAD_SIGNATURE
        ) from exc
    except (jwt.InvalidTokenError, jwt.PyJWKError, ValueError, TypeError) as exc:
        raise TokenRejected(
            f"the token cannot be verified: {str(exc).lower()}", code=TOKEN_MALFORMED
        ) from exc


def check_times(claims: Mapping[str, Any], now: float, leeway: float) -> int:
    """RFC 7519 §4.1.4-6: ``exp`` (required), ``nbf`` and ``iat``; returns ``exp``."""
    exp = _numeric(claims, "exp", required=True)
    assert exp is not None
    if now > exp + leeway:
        raise TokenRejected("the token has expired", code=TOKEN_EXPIRED)
    nbf = _numeric(claims, "nbf", required=False)
    if nbf is not None and now + leeway < nbf:
        raise TokenRejected(
            "the token is not valid yet (`nbf` is in the future)", code=TOKEN_NOT_YET_VALID
        )
    iat = _numeric(claims, "iat", required=False)
    if iat is not None and now + leeway < iat:
        raise TokenRejected(
            "the token was issued in the future (`iat`)", code=TOKEN_ISSUED_IN_FUTURE
        )
    return int(exp)


def _numeric(claims: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise TokenRejected(f"the token has no `{name}` claim", code=TOKEN_MISSING_CLAIM)
        return None
    # a NaN compares false with every time (never expired); an infinity has no `int`,
    # an integer of 400 digits no `float`: a time past 2**53 seconds is no time
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not -MAX_NUMERIC_DATE <= value <= MAX_NUMERIC_DATE
    ):
        raise TokenRejected(f"the `{name}` claim is not a number", code=TOKEN_MALFORMED)
    return float(value)


def check_audience(claims: Mapping[str, Any], accepted: Collection[str]) -> None:
    """RFC 7519 §4.1.3: some ``aud`` value must be one this verifier accepts."""
    aud = claims.get("aud")
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(value, str) and value in accepted for value in values):
        raise TokenRejected(
            f"the token's audience `{aud}` is not accepted here", code=TOKEN_WRONG_AUDIENCE
        )


def require_string(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise TokenRejected(f"the token has no `{name}` claim", code=TOKEN_MISSING_CLAIM)
    return value


def sign(claims: Mapping[str, Any], private_key: Any, *, kid: str, alg: str = "EdDSA") -> str:
    """A compact JWS over ``claims`` (``typ`` JWT)."""
    return jwt.encode(dict(claims), private_key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})
