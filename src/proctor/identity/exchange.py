"""OAuth 2.0 Token Exchange (RFC 8693): a user's token for a short-lived delegation token.

The request is §2.1, the response §2.2.1 and the errors §2.2.2. The subject
token is either the user's IdP token or a delegation token proctor issued
(agent-to-agent delegation: ``act`` nests, §4.1). The issued scope is the
subject's scopes ∩ the actor's role scopes ∩ the requested scopes (§2.1
``scope``, RFC 6749 §3.3); asking for anything outside that intersection is
``invalid_scope``, never a silently narrowed or widened token. The expiry is
the configured lifetime, never past the subject token's, so it only shrinks
along a chain; the chain depth is bounded. A token exchanged from a delegation
token names it and its ancestors (``parent_jtis``): revoking any token of a
chain refuses everything exchanged from it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from proctor.identity.defaults import DEFAULT_TTL
from proctor.identity.delegation import (
    CARRIED_USER_CLAIMS,
    Delegation,
    DelegationVerifier,
    sign_delegation,
)
from proctor.identity.errors import (
    INVALID_REQUEST,
    INVALID_SCOPE,
    INVALID_TARGET,
    TOKEN_CHAIN_TOO_DEEP,
    TOKEN_RUN_MISMATCH,
    TOKEN_UNKNOWN_ACTOR,
    UNSUPPORTED_GRANT_TYPE,
    ExchangeError,
    TokenRejected,
)
from proctor.identity.keys import SigningKey
from proctor.identity.scopes import ScopeSet, effective_scopes
from proctor.identity.user_tokens import UserTokenVerifier
from proctor.model.actions import InvalidPattern
from proctor.model.request import Agent

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
# §3 token type identifiers
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
# proctor's own identifier for an agent API key presented as ``actor_token``
API_KEY_TOKEN_TYPE = "urn:proctor:token-type:api-key"
SUBJECT_TOKEN_TYPES = frozenset({ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE})
# scopes one request may name (an exchange's `scope`, a check's user): scope sets compare
# their wildcard patterns pairwise, and 5,000 of them kept a core busy for a minute
MAX_SCOPES = 100
MAX_RUN_ID = 200
ACTOR_TOKEN_TYPES = frozenset({JWT_TOKEN_TYPE, API_KEY_TOKEN_TYPE})

ActorAuthenticator = Callable[[str, str, float], str]


@dataclass(frozen=True, slots=True)
class TokenExchangeRequest:
    """The §2.1 request parameters (``run_id`` is proctor's extension)."""

    subject_token: str
    subject_token_type: str = ACCESS_TOKEN_TYPE
    actor_token: str | None = None
    actor_token_type: str | None = None
    scope: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    resource: tuple[str, ...] = ()
    requested_token_type: str | None = None
    grant_type: str = GRANT_TYPE
    run_id: str | None = None

    @classmethod
    def from_form(cls, form: Mapping[str, str | Sequence[str]]) -> TokenExchangeRequest:
        """Read an ``application/x-www-form-urlencoded`` body (§2.1); checks with ``validate``."""

        def one(name: str) -> str | None:
            value = form.get(name)
            if value is None or isinstance(value, str):
                return value
            if len(value) != 1:
                raise ExchangeError(INVALID_REQUEST, f"`{name}` must be given once")
            return value[0]

        def many(name: str) -> tuple[str, ...]:
            value = form.get(name)
            if value is None:
                return ()
            return (value,) if isinstance(value, str) else tuple(value)

        request = cls(
            subject_token=one("subject_token") or "",
            subject_token_type=one("subject_token_type") or "",
            actor_token=one("actor_token"),
            actor_token_type=one("actor_token_type"),
            scope=tuple(part for item in many("scope") for part in item.split()),
            audience=many("audience"),
            resource=many("resource"),
            requested_token_type=one("requested_token_type"),
            grant_type=one("grant_type") or "",
            run_id=one("run_id"),
        )
        request.validate()
        return request

    def validate(self) -> None:
        """The §2.1 rules: required parameters, and ``actor_token_type`` with ``actor_token``."""
        if self.grant_type != GRANT_TYPE:
            raise ExchangeError(
                UNSUPPORTED_GRANT_TYPE, f"grant type `{self.grant_type}` is not token exchange"
            )
        if not self.subject_token:
            raise ExchangeError(INVALID_REQUEST, "`subject_token` is required")
        if self.subject_token_type not in SUBJECT_TOKEN_TYPES:
            raise ExchangeError(
                INVALID_REQUEST, f"subject token type `{self.subject_token_type}` is not supported"
            )
        if (self.actor_token is None) != (self.actor_token_type is None):
            raise ExchangeError(
                INVALID_REQUEST, "`actor_token` and `actor_token_type` go together (§2.1)"
            )
        if self.actor_token_type is not None and self.actor_token_type not in ACTOR_TOKEN_TYPES:
            raise ExchangeError(
                INVALID_REQUEST, f"actor token type `{self.actor_token_type}` is not supported"
            )
        if self.run_id is not None and not (
            0 < len(self.run_id) <= MAX_RUN_ID and self.run_id.isprintable()
        ):  # as a check's `run_id`: the token's run is read and recorded as one
            raise ExchangeError(
                INVALID_REQUEST, f"`run_id` has 1 to {MAX_RUN_ID} printable characters"
            )
        if self.requested_token_type not in (None, ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE):
            raise ExchangeError(
                INVALID_REQUEST,
                f"requested token type `{self.requested_token_type}` cannot be issued",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenExchangeResponse:
    """The §2.2.1 response, its fields in the order of the wire."""

    access_token: str
    issued_token_type: str = ACCESS_TOKEN_TYPE
    token_type: str = "Bearer"
    expires_in: int
    scope: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class IssuedDelegation:
    """An exchange's result: the §2.2.1 response and the delegation it carries."""

    response: TokenExchangeResponse
    delegation: Delegation


@dataclass(frozen=True, slots=True)
class _Subject:
    """The verified subject token: the user, the scopes to narrow, and any prior delegation."""

    user: str
    scopes: ScopeSet
    expires_at: int
    claims: dict[str, Any]
    actors: tuple[str, ...] = ()  # earlier agents, when the subject is a delegation token
    run_id: str | None = None
    lineage: tuple[str, ...] = ()  # the subject delegation's jti and its parents'


class TokenExchanger:
    """Issues delegation tokens (the token endpoint's logic, without HTTP)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        signing_key: Callable[[], SigningKey],
        users: UserTokenVerifier,
        delegations: DelegationVerifier,
        agents: Callable[[str], Agent | None],
        role_scopes: Callable[[str | None], ScopeSet | None],
        new_jti: Callable[[], str],
        authenticate_actor: ActorAuthenticator | None = None,
        audiences: Collection[str] = (),
        ttl: int = DEFAULT_TTL,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._signing_key = signing_key
        self._users = users
        self._delegations = delegations
        self._agents = agents
        self._role_scopes = role_scopes
        self._new_jti = new_jti
        self._authenticate_actor = authenticate_actor
        self._audiences = frozenset(audiences) | {audience}
        self.ttl = ttl

    def exchange(
        self, request: TokenExchangeRequest, *, actor: str | None = None, now: float
    ) -> IssuedDelegation:
        """Verify the subject and the actor, narrow the scopes, sign; ``ExchangeError`` if not."""
        request.validate()
        agent = self._actor(request, actor, now)
        subject = self._subject(request, now)
        actors = (agent.id, *subject.actors)
        if len(actors) > self._delegations.max_depth:
            raise ExchangeError(
                INVALID_REQUEST,
                f"the delegation chain would be {len(actors)} agents deep, "
                f"more than the allowed {self._delegations.max_depth}",
                code=TOKEN_CHAIN_TOO_DEEP,
            )
        if subject.run_id is not None and request.run_id not in (None, subject.run_id):
            # a token bound to a run delegates within it: another run has other ceilings
            raise ExchangeError(
                INVALID_REQUEST,
                f"the subject token is bound to run `{subject.run_id}`, not `{request.run_id}`",
                code=TOKEN_RUN_MISMATCH,
            )
        granted = self._scopes(subject.scopes, agent, request.scope)
        audience = self._audience(request)
        expires_at = min(int(now) + self.ttl, subject.expires_at)
        if expires_at <= now:
            raise ExchangeError(INVALID_REQUEST, "the subject token expires now")
        delegation = Delegation(
            issuer=self.issuer,
            subject=subject.user,
            actors=actors,
            scopes=granted,
            audience=(audience,),
            expires_at=expires_at,
            issued_at=int(now),
            jti=self._new_jti(),
            tier=agent.tier.value,
            role=agent.role,
            run_id=request.run_id or subject.run_id,
            user_claims=subject.claims,
            parents=subject.lineage,
        )
        token = sign_delegation(delegation, self._signing_key())
        response = TokenExchangeResponse(
            access_token=token,
            expires_in=expires_at - int(now),
            scope=" ".join(granted.to_strings()),
            issued_token_type=request.requested_token_type or ACCESS_TOKEN_TYPE,
        )
        return IssuedDelegation(response, delegation)

    def _actor(self, request: TokenExchangeRequest, actor: str | None, now: float) -> Agent:
        """The acting agent: authenticated by ``actor_token``, or named by a trusted caller."""
        agent_id = actor
        if request.actor_token is not None and request.actor_token_type is not None:
            if self._authenticate_actor is None:
                raise ExchangeError(INVALID_REQUEST, "actor tokens are not accepted here")
            try:
                proven = self._authenticate_actor(
                    request.actor_token, request.actor_token_type, now
                )
            except TokenRejected as exc:
                raise ExchangeError.from_rejection(exc, "actor_token") from exc
            if agent_id is not None and agent_id != proven:
                raise ExchangeError(
                    INVALID_REQUEST,
                    f"the actor token is for `{proven}`, not `{agent_id}`",
                    code="token_actor_mismatch",
                )
            agent_id = proven
        if agent_id is None:
            raise ExchangeError(INVALID_REQUEST, "no actor: pass an `actor_token` or an agent id")
        agent = self._agents(agent_id)
        if agent is None:
            raise ExchangeError(
                INVALID_REQUEST,
                f"agent `{agent_id}` is not registered (or is revoked)",
                code=TOKEN_UNKNOWN_ACTOR,
            )
        return agent

    def _subject(self, request: TokenExchangeRequest, now: float) -> _Subject:
        """What the subject token gives: a user's token, or a delegation to delegate further."""
        token = request.subject_token
        try:
            if self._delegations.peek_issuer(token):
                held = self._delegations.verify(token, now)
                return _Subject(
                    held.subject,
                    held.scopes,
                    held.expires_at,
                    dict(held.user_claims),
                    actors=held.actors,
                    run_id=held.run_id,
                    lineage=held.lineage,
                )
            verified = self._users.verify(token, now)
        except TokenRejected as exc:
            raise ExchangeError.from_rejection(exc, "subject_token") from exc
        try:
            scopes = ScopeSet.parse(verified.user.scopes)
        except InvalidPattern as exc:  # mapped scopes are checked; kept as a guard
            raise ExchangeError(INVALID_REQUEST, f"the user's scopes are invalid: {exc}") from exc
        claims = {
            name: verified.claims[name] for name in CARRIED_USER_CLAIMS if name in verified.claims
        }
        claims["iss"] = verified.issuer
        return _Subject(verified.user.sub, scopes, verified.expires_at, claims)

    def _scopes(self, base: ScopeSet, agent: Agent, requested: tuple[str, ...]) -> ScopeSet:
        allowed = effective_scopes(base, self._role_scopes(agent.role))
        if requested:
            if len(requested) > MAX_SCOPES:
                raise ExchangeError(
                    INVALID_SCOPE, f"request at most {MAX_SCOPES} scopes, not {len(requested)}"
                )
            try:
                wanted = ScopeSet.parse(requested)
            except InvalidPattern as exc:
                raise ExchangeError(INVALID_SCOPE, f"a requested scope is invalid: {exc}") from exc
            beyond = [str(p) for p in wanted.patterns if not allowed.covers(p)]
            if beyond:
                raise ExchangeError(
                    INVALID_SCOPE,
                    f"requested scope `{' '.join(beyond)}` is outside what the user and the "
                    f"role of agent `{agent.id}` both grant ({allowed})",
                    details={"beyond": beyond, "allowed": list(allowed.to_strings())},
                )
            allowed = allowed.intersect(wanted)
        if allowed.is_empty:
            raise ExchangeError(
                INVALID_SCOPE,
                f"the user and the role of agent `{agent.id}` share no scope: nothing to delegate",
            )
        return allowed

    def _audience(self, request: TokenExchangeRequest) -> str:
        targets = (*request.audience, *request.resource)
        if not targets:
            return self.audience
        if len(targets) > 1:
            raise ExchangeError(INVALID_TARGET, "one `audience` or `resource` per exchange")
        if targets[0] not in self._audiences:
            raise ExchangeError(
                INVALID_TARGET, f"proctor does not issue tokens for audience `{targets[0]}`"
            )
        return targets[0]
