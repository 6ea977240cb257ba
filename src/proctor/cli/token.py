"""``proctor token``: dev user tokens, RFC 8693 exchange, inspect, revoke."""

from __future__ import annotations

import sys
from typing import Any

import click

from proctor.cli import options
from proctor.cli.identity_loading import identity_runtime, identity_service, parse_duration
from proctor.cli.output import error_console, json_always, print_json
from proctor.identity.credentials import API_KEY_PREFIX
from proctor.identity.errors import ExchangeError, TokenRejected
from proctor.identity.exchange import (
    API_KEY_TOKEN_TYPE,
    JWT_TOKEN_TYPE,
    TokenExchangeRequest,
)
from proctor.identity.jose import split_token

_DB = click.option("--db", help="Audit database (default: the config's).")


@click.group()
def token() -> None:
    """Delegation tokens: mint dev user tokens, exchange, inspect, revoke."""


@token.command()
@click.option("--sub", required=True, help="The user's subject id.")
@click.option("--scope", "scopes", multiple=True, help="A scope the user holds (repeatable).")
@click.option("--ttl", default="1h", show_default=True, help="Lifetime: 90s, 10m, 1h, 2d.")
@click.option("--claim", "claims", multiple=True, help="Extra claim KEY=VALUE (repeatable).")
@options.CONFIG
@click.option("--json", "as_json", is_flag=True, help="Print the token in a JSON object.")
def user(
    sub: str,
    scopes: tuple[str, ...],
    ttl: str,
    claims: tuple[str, ...],
    config: str | None,
    as_json: bool,
) -> None:
    """Print a DEV user token signed with the local dev key (iss urn:proctor:dev, kid dev).

    Runtimes accept it only with `identity.allow_dev_tokens: true`; never in production.
    """
    service = identity_service(config)
    extra: dict[str, Any] = {}
    for pair in claims:
        key, _, value = pair.partition("=")
        extra[key] = value
    words = tuple(word for scope in scopes for word in scope.split())
    minted = service.mint_dev_user_token(sub, words, ttl=parse_duration(ttl), claims=extra)
    service.store.close()
    if not service.settings.allow_dev_tokens:
        error_console.print(
            "warning: this config refuses dev tokens (`identity.allow_dev_tokens` is false)",
            markup=False,
        )
    if as_json:
        print_json({"token": minted})
    else:
        sys.stdout.write(minted + "\n")


@token.command()
@click.option("--subject-token", required=True, help="The user's token (or a delegation token).")
@click.option("--agent", "agent_id", help="The acting agent's id (trusted local caller).")
@click.option("--actor-token", help="The agent's API key or signed client assertion.")
@click.option("--scope", "scopes", multiple=True, help="A scope to request (repeatable).")
@click.option("--audience", help="Audience of the issued token (default: proctor's).")
@click.option("--run-id", help="Bind the token to a run.")
@options.CONFIG
@_DB
@json_always
def exchange(
    subject_token: str,
    agent_id: str | None,
    actor_token: str | None,
    scopes: tuple[str, ...],
    audience: str | None,
    run_id: str | None,
    config: str | None,
    db: str | None,
) -> None:
    """RFC 8693 token exchange: print the §2.2 JSON response (or the §2.2.2 error)."""
    if (agent_id is None) == (actor_token is None):
        raise click.UsageError("give exactly one of --agent and --actor-token")
    actor_type = None
    if actor_token is not None:
        api_key = actor_token.startswith(API_KEY_PREFIX)
        actor_type = API_KEY_TOKEN_TYPE if api_key else JWT_TOKEN_TYPE
    request = TokenExchangeRequest(
        subject_token=subject_token,
        actor_token=actor_token,
        actor_token_type=actor_type,
        scope=tuple(word for scope in scopes for word in scope.split()),
        audience=(audience,) if audience else (),
        run_id=run_id,
    )
    runtime = identity_runtime(config, db)
    try:
        issued = runtime.exchange(request, actor=agent_id)
    except ExchangeError as refused:
        print_json({**refused.to_response(), "code": refused.code})
        raise SystemExit(1) from None
    finally:
        runtime.close()
    print_json(issued.response.to_dict())


@token.command()
@click.argument("value")
@options.CONFIG
@json_always
def inspect(value: str, config: str | None) -> None:
    """Verify a token: print its claims and delegation chain, or the coded reason it fails."""
    service = identity_service(config)
    try:
        now = service.now()
        try:
            if service.delegations.peek_issuer(value):
                held = service.delegations.verify(value, now)
                _, claims = split_token(value)
                print_json(
                    {
                        "valid": True,
                        "kind": "delegation",
                        "user": held.subject,
                        "chain": [held.subject, *reversed(held.actors)],
                        "scopes": list(held.scopes.to_strings()),
                        "claims": claims,
                    }
                )
                return
            verified = service.users.verify(value, now)
        except TokenRejected as rejected:
            print_json({"valid": False, "code": rejected.code, "reason": rejected.message})
            raise SystemExit(1) from None
        print_json(
            {
                "valid": True,
                "kind": "user",
                "user": verified.user.sub,
                "issuer": verified.issuer,
                "scopes": list(verified.user.scopes),
                "claims": dict(verified.claims),
            }
        )
    finally:
        service.store.close()


@token.command()
@click.argument("value", required=False)
@click.option("--jti", help="Revoke by token id instead of by token.")
@click.option("--reason", default="revoked from the command line", show_default=True)
@options.CONFIG
@_DB
@json_always
def revoke(
    value: str | None, jti: str | None, reason: str, config: str | None, db: str | None
) -> None:
    """Revoke a delegation token (by the token, or by --jti): every check refuses it."""
    if (value is None) == (jti is None):
        raise click.UsageError("give a token or --jti, not both")
    service = identity_service(config, db)
    try:
        now = int(service.now())
        expires_at = now + service.settings.delegation_ttl_seconds + 60
        if value is not None:
            try:
                _, claims = split_token(value)
            except TokenRejected as rejected:
                raise click.UsageError(rejected.message) from None
            jti = claims.get("jti") if isinstance(claims.get("jti"), str) else None
            if jti is None:
                raise click.UsageError("the token has no `jti`")
            exp = claims.get("exp")
            if isinstance(exp, int):
                expires_at = exp + 60
        assert jti is not None
        service.revoke(jti, expires_at, reason)
    finally:
        service.store.close()
    print_json({"revoked": jti, "until": expires_at, "reason": reason})
