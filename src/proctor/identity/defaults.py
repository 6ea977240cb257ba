"""Defaults and accepted values the ``identity:`` settings share with the token code.

Kept apart from ``jose``, ``delegation`` and ``exchange`` so that validating a
``proctor.yaml`` does not import PyJWT and ``cryptography``.
"""

from __future__ import annotations

# the only signature algorithms accepted (RFC 7518 §3.1, RFC 8037 §3.1); never `none` or HMAC
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
# how deep agent-to-agent delegation may nest (RFC 8693 §4.1 `act`)
DEFAULT_MAX_DEPTH = 3
# lifetime of an issued delegation token, in seconds
DEFAULT_TTL = 600
