"""Who is calling: an admin key, an agent's API key, or a delegation token.

Every request but ``/healthz``, ``/readyz`` and the JWKS carries
``Authorization: Bearer <credential>``:

* an **admin key** listed (as its SHA-256) under ``server.admin_keys``, with
  scopes: ``admin`` (everything), ``check`` (decide for any agent: a trusted
  PEP such as an API gateway), ``audit:read``, ``agents:write``,
  ``policies:write``, ``approvals:write``;
* an **agent API key** (``pk_...``, ``proctor agent create``): the agent may
  check its own calls and exchange tokens as itself;
* a **delegation token** (from ``POST /oauth2/token``): checks run as its
  user and agent, with its scopes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from starlette.requests import Request

from proctor.config import AdminKeyConfig
from proctor.identity.credentials import API_KEY_PREFIX
from proctor.identity.errors import IdentityError
from proctor.runtime import Runtime
from proctor.server.errors import ApiError

ADMIN = "admin"
CHECK_ANY = "check"
AUDIT_READ = "audit:read"
AGENTS_WRITE = "agents:write"
POLICIES_WRITE = "policies:write"
APPROVALS_WRITE = "approvals:write"
ADMIN_SCOPES = (ADMIN, CHECK_ANY, AUDIT_READ, AGENTS_WRITE, POLICIES_WRITE, APPROVALS_WRITE)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="proctor"'}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller.

    ``kind`` is ``admin``, ``agent`` (API key) or ``delegation`` (token);
    ``agent_id`` is set for the last two, ``token`` for a delegation, and
    ``run_id`` for a delegation issued for one run, ``delegators`` for one
    whose agent acts for other agents (its ``act`` chain after the first).
    """

    kind: str
    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    agent_id: str | None = None
    token: str | None = None
    run_id: str | None = None
    delegators: tuple[str, ...] = ()

    def holds(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes


class Authenticator:
    def __init__(self, runtime: Runtime, admin_keys: list[AdminKeyConfig]) -> None:
        self._runtime = runtime
        self._admins = [(key.id, key.sha256, frozenset(key.scopes)) for key in admin_keys]

    def authenticate(self, request: Request) -> Principal:
        values = request.headers.getlist("authorization")
        if len(values) > 1:
            raise duplicate_credentials()
        return self.bearer(values[0] if values else None)

    def bearer(self, header: str | None) -> Principal:
        """The caller an ``Authorization`` header's value names (401 when it names none)."""
        if not header:
            raise ApiError(
                401,
                "authentication required: send `Authorization: Bearer <credential>`",
                code="unauthenticated",
                headers=_CHALLENGE,
            )
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise ApiError(
                401,
                "use the bearer scheme: `Authorization: Bearer <credential>`",
                code="unauthenticated",
                headers=_CHALLENGE,
            )
        return self.principal(credential)

    def principal(self, credential: str) -> Principal:
        digest = hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()
        found: Principal | None = None
        for key_id, expected, scopes in self._admins:  # every entry compared: no early exit
            if hmac.compare_digest(digest, expected):
                found = Principal("admin", key_id, scopes)
        if found is not None:
            return found
        identity = self._runtime.identity
        if identity is None:
            raise _rejected("the credential is not a known admin key")
        if credential.startswith(API_KEY_PREFIX):
            try:
                agent_id = identity.credentials.api_key(credential)
            except IdentityError as exc:
                raise _rejected(exc.message) from exc
            if identity.agent(agent_id) is None:
                raise _rejected(f"agent `{agent_id}` is not registered (or revoked)")
            return Principal("agent", agent_id, agent_id=agent_id)
        try:
            delegation = identity.verify(credential)
        except IdentityError as exc:
            raise _rejected(exc.message, exc.code) from exc
        return Principal(
            "delegation",
            delegation.subject,
            agent_id=delegation.actor,
            token=credential,
            run_id=delegation.run_id,
            delegators=delegation.actors[1:],
        )


def require(principal: Principal, scope: str) -> None:
    """403 unless an admin key holds ``scope`` (agents hold no admin scope)."""
    if principal.kind != "admin" or not principal.holds(scope):
        raise ApiError(
            403,
            f"this route needs an admin credential with scope `{scope}`",
            code="insufficient_scope",
            details={"required_scope": scope},
        )


def duplicate_credentials() -> ApiError:
    """Two ``Authorization`` headers: a proxy in front may have read the other one
    (RFC 6750 §3.1: more than one way of sending a token is ``invalid_request``)."""
    return ApiError(
        400,
        "send one `Authorization` header, not several",
        code="duplicate_credentials",
        headers=_CHALLENGE,
    )


def _rejected(message: str, code: str = "invalid_credential") -> ApiError:
    return ApiError(401, message, code=code, headers=_CHALLENGE)
