"""Errors of the identity package: rejected tokens and refused token exchanges.

A rejected token is never an exception to the caller of ``Runtime.check``: the
runtime turns ``TokenRejected`` into a deny whose ``code`` is the rejection's.
``ExchangeError`` carries its RFC 8693 §2.2.2 wire form (``error``,
``error_description``, ``status_code``).
"""

from __future__ import annotations

from typing import Any

from proctor.errors import ProctorError

# Why a token was rejected: stable codes, shown in decisions and audit records.
TOKEN_MALFORMED = "token_malformed"
TOKEN_ALG_NOT_ALLOWED = "token_alg_not_allowed"
TOKEN_UNKNOWN_KID = "token_unknown_kid"
TOKEN_BAD_SIGNATURE = "token_bad_signature"
TOKEN_EXPIRED = "token_expired"
TOKEN_NOT_YET_VALID = "token_not_yet_valid"
TOKEN_ISSUED_IN_FUTURE = "token_issued_in_future"
TOKEN_WRONG_AUDIENCE = "token_wrong_audience"
TOKEN_WRONG_ISSUER = "token_wrong_issuer"
TOKEN_MISSING_CLAIM = "token_missing_claim"
TOKEN_REVOKED = "token_revoked"
TOKEN_CHAIN_TOO_DEEP = "token_chain_too_deep"
TOKEN_SCOPE_ESCALATION = "token_scope_escalation"
TOKEN_DEV_REFUSED = "token_dev_refused"
TOKEN_ACTOR_MISMATCH = "token_actor_mismatch"
TOKEN_UNKNOWN_ACTOR = "token_unknown_actor"
# a token bound to one run, used (or exchanged) for another: the code a check gives too
TOKEN_RUN_MISMATCH = "run_mismatch"
# a token was given, but the config has no `identity:` section to verify it with
TOKEN_NOT_CONFIGURED = "token_not_configured"
JWKS_UNAVAILABLE = "jwks_unavailable"

# RFC 6749 §5.2 / RFC 8693 §2.2.2 error values.
INVALID_REQUEST = "invalid_request"
INVALID_CLIENT = "invalid_client"
INVALID_GRANT = "invalid_grant"
INVALID_SCOPE = "invalid_scope"
INVALID_TARGET = "invalid_target"
UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"


class IdentityError(ProctorError):
    """Broken identity configuration or infrastructure (a key file, a JWKS)."""

    code = "identity_error"


class TokenRejected(IdentityError):
    """A token failed verification; ``code`` says which check it failed."""

    code = TOKEN_MALFORMED


class ExchangeError(IdentityError):
    """A refused token exchange (RFC 8693 §2.2.2): ``error`` is the OAuth error value.

    ``code`` is proctor's finer reason (a ``token_*`` code when the subject or
    actor token was rejected); ``error`` is what goes on the wire.
    """

    code = INVALID_REQUEST

    def __init__(
        self,
        error: str,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.error = error
        super().__init__(message, code=code or error, details=details)

    @property
    def status_code(self) -> int:
        """401 for a failed client authentication (RFC 6749 §5.2), else 400."""
        return 401 if self.error == INVALID_CLIENT else 400

    def to_response(self) -> dict[str, str]:
        """The §2.2.2 error body: ``error`` and ``error_description``."""
        return {"error": self.error, "error_description": self.message}

    @classmethod
    def from_rejection(cls, rejected: TokenRejected, which: str) -> ExchangeError:
        """RFC 8693 §2.2.2: an invalid subject or actor token is ``invalid_request``.

        The finer reason (``token_expired``, ``token_wrong_audience``...) stays in ``code``.
        """
        return cls(
            INVALID_REQUEST, f"the `{which}` was rejected: {rejected.message}", code=rejected.code
        )
