"""Which user an agent's check is for, when the agent's API key names one in the body.

An agent key proves the agent, not the user: the ``user`` it sends is an
assertion. So the assertion may narrow a user, never widen one:

* a user in the config's ``users:`` keeps its configured scopes and claims;
  asserted ``scopes`` are intersected with them (asserted claims are dropped,
  unless the agent may assert users, and then configured claims still win);
* a user the config does not know gets no scopes (every scoped action is
  denied, audited), unless the agent is configured with
  ``may_assert_users: true``, which trusts it to speak for its users;
* with ``identity.require_user_tokens: true`` an agent key names no user at
  all: a user comes only from a delegation token (``/oauth2/token``).

Admin keys with ``check`` are trusted PEPs and assert users as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from proctor.config import LoadedConfig
from proctor.identity.scopes import ScopeSet
from proctor.model.actions import InvalidPattern
from proctor.model.request import User
from proctor.server.bodies import CheckBody, UserBody
from proctor.server.errors import ApiError

USER_TOKEN_REQUIRED = "user_token_required"


@dataclass(frozen=True, slots=True)
class UserAssertions:
    users: Mapping[str, User]
    assertors: frozenset[str] = frozenset()  # agents with `may_assert_users: true`
    require_tokens: bool = False

    @classmethod
    def of(cls, users: Mapping[str, User], config: LoadedConfig | None) -> UserAssertions:
        if config is None:
            return cls(users)
        settings = config.config
        return cls(
            users,
            frozenset(spec.id for spec in settings.agents if spec.may_assert_users),
            settings.identity is not None and settings.identity.require_user_tokens,
        )

    def bound(self, agent_id: str, body: CheckBody) -> CheckBody:
        """``body`` with its user as far as ``agent_id``'s key may assert it."""
        asserted = body.user
        if asserted is None:
            return body
        if self.require_tokens:
            raise ApiError(
                403,
                "this gateway takes a user only from a delegation token: exchange the "
                "user's token at `/oauth2/token` and send no `user`",
                code=USER_TOKEN_REQUIRED,
            )
        if isinstance(asserted, str):
            return body  # the runtime resolves a name: configured, or a user with no scopes
        scopes = _parsed(asserted.scopes)
        trusted = agent_id in self.assertors
        configured = self.users.get(asserted.sub)
        if configured is None:
            if trusted:
                return body
            return _with(body, UserBody(sub=asserted.sub, scopes=[], claims={}))
        granted = _parsed(list(configured.scopes))
        assert granted is not None
        if scopes is not None:
            granted = granted.intersect(scopes)
        claims = {**asserted.claims, **configured.claims} if trusted else dict(configured.claims)
        narrowed = UserBody(sub=asserted.sub, scopes=list(granted.to_strings()), claims=claims)
        return _with(body, narrowed)


def _parsed(scopes: list[str] | None) -> ScopeSet | None:
    if scopes is None:
        return None
    try:
        return ScopeSet.parse(scopes)
    except InvalidPattern as exc:
        raise ApiError(
            400, f"the body does not fit at `user.scopes`: {exc}", code="invalid_body"
        ) from exc


def _with(body: CheckBody, user: UserBody) -> CheckBody:
    return body.model_copy(update={"user": user})
