"""The ``identity:`` section of ``proctor.yaml`` (checked with pydantic, like the rest)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from proctor.identity.defaults import ASYMMETRIC_ALGORITHMS, DEFAULT_MAX_DEPTH, DEFAULT_TTL
from proctor.model.actions import require_patterns

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IssuerConfig(_Strict):
    """A trusted IdP: its ``iss``, accepted audiences, where its JWKS is, and claim mapping.

    ``jwks_url`` must be https; plain http is accepted only for loopback hosts
    (``localhost``, ``127.0.0.1``, ``::1``), for tests and local IdPs.
    """

    issuer: str = Field(min_length=1)
    audiences: list[str] = Field(min_length=1)
    jwks_file: str | None = None
    jwks_url: str | None = None
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256", "EdDSA"])
    scope_claims: list[str] = Field(default_factory=lambda: ["scope", "scp"])
    group_claims: list[str] = Field(default_factory=lambda: ["groups", "roles"])
    group_scopes: dict[str, list[str]] = Field(default_factory=dict)
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    jwks_min_refresh_seconds: float = Field(default=30.0, ge=0)

    @field_validator("algorithms")
    @classmethod
    def _algorithms(cls, value: list[str]) -> list[str]:
        for alg in value:
            if alg not in ASYMMETRIC_ALGORITHMS:
                allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
                raise ValueError(f"algorithm `{alg}` is not accepted (use {allowed})")
        return value

    @field_validator("group_scopes")
    @classmethod
    def _scopes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for scopes in value.values():
            require_patterns(scopes)
        return value

    @field_validator("jwks_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme == "https" or (
            parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS
        ):
            return value
        raise ValueError(f"`{value}` must be an https URL (plain http only for loopback hosts)")

    @model_validator(mode="after")
    def _one_source(self) -> IssuerConfig:
        if (self.jwks_file is None) == (self.jwks_url is None):
            raise ValueError("give exactly one of `jwks_file` and `jwks_url`")
        return self


class IdentityConfig(_Strict):
    """proctor as a token issuer and verifier.

    ``issuer`` and ``audience`` are the ``iss`` and default ``aud`` of the
    delegation tokens proctor issues (and the ``aud`` of agents' client
    assertions); ``audiences`` are further audiences it may issue for.
    """

    issuer: str = "urn:proctor"
    audience: str = "proctor"
    audiences: list[str] = Field(default_factory=list)
    key_file: str = "proctor-keys.json"
    delegation_ttl_seconds: int = Field(default=DEFAULT_TTL, gt=0, le=86_400)
    max_chain_depth: int = Field(default=DEFAULT_MAX_DEPTH, ge=1, le=10)
    leeway_seconds: float = Field(default=30.0, ge=0, le=600)
    key_overlap_seconds: int = Field(default=86_400, ge=0)
    revocation_refresh_seconds: float = Field(default=5.0, ge=0)
    allow_dev_tokens: bool = False
    # agent keys name no user: a user comes only from a delegation token
    require_user_tokens: bool = False
    dev_audience: str = "proctor"
    issuers: list[IssuerConfig] = Field(default_factory=list)
