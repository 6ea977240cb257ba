"""``proctor agent``: agents created from the command line, their credentials and tiers.

Each command is the runtime's ``AgentAdmin`` (the gateway's ``/v1/admin/agents``
routes are the same service), so it answers, refuses and records exactly as
its HTTP twin does: ``agent_change`` and ``tier_change`` records naming who
acted (``--as``, by default the operating-system account) and the CLI as the
credential. Agents from the config file are listed too but change only by
editing the config. API keys are printed once and stored as digests; a public
key (a JWK file) lets the agent prove itself with a signed client assertion.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from proctor.cli import options
from proctor.cli.identity_loading import identity_runtime
from proctor.cli.operator import cli_credential, operator
from proctor.cli.output import json_always, print_json
from proctor.errors import ProctorError
from proctor.model.tiers import TIER_NAMES
from proctor.runtime.agents import INVALID_PUBLIC_KEY, Actor, AgentAdmin

_DB = click.option("--db", help="Database of the agents (default: the config's audit file).")
_BY = click.option(
    "--as", "by", help="Who makes the change (recorded; default: your account name)."
)
_T = TypeVar("_T")


@click.group()
def agent() -> None:
    """Register agents and manage their credentials and tiers."""


def _with_admin(config: str | None, db: str | None, act: Callable[[AgentAdmin], _T]) -> _T:
    runtime = identity_runtime(config, db)
    try:
        return act(AgentAdmin(runtime))
    finally:
        runtime.close()


def _actor(by: str | None) -> Actor:
    return Actor(by if by is not None else operator(), cli_credential())


@agent.command()
@click.argument("agent_id")
@click.option("--role", help="Role (defined under `roles` in the config).")
@click.option("--tier", type=click.Choice(TIER_NAMES), default="unverified", show_default=True)
@click.option("--owner", help="Team or person responsible for the agent.")
@click.option("--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="The agent's public JWK (JSON file) for signed client assertions.",
)
@click.option("--no-api-key", is_flag=True, help="Do not issue an API key.")
@_BY
@options.CONFIG
@_DB
@json_always
def create(
    agent_id: str,
    role: str | None,
    tier: str,
    owner: str | None,
    tags: tuple[str, ...],
    public_key: str | None,
    no_api_key: bool,
    by: str | None,
    config: str | None,
    db: str | None,
) -> None:
    """Register AGENT_ID; prints its API key once (it is stored hashed)."""
    jwk = _read_jwk(public_key) if public_key is not None else None
    body = _with_admin(
        config,
        db,
        lambda admin: admin.create(
            agent_id,
            _actor(by),
            role=role,
            tier=tier,
            owner=owner,
            tags=tags,
            api_key=not no_api_key,
            public_key=jwk,
        ),
    )
    if "api_key" in body:
        body["note"] = "the API key is shown once; store it as a secret"
    print_json(body)


@agent.command("list")
@options.CONFIG
@_DB
@json_always
def list_agents(config: str | None, db: str | None) -> None:
    """Agents from the config and from the store."""
    print_json(_with_admin(config, db, lambda admin: admin.list()))


@agent.command()
@click.argument("agent_id")
@options.CONFIG
@_DB
@json_always
def show(agent_id: str, config: str | None, db: str | None) -> None:
    """One agent and its live credentials (ids only, never secrets)."""
    print_json(_with_admin(config, db, lambda admin: admin.show(agent_id)))


def _credential_change(
    name: str, summary: str, change: Callable[[AgentAdmin, str, Actor], dict[str, Any]]
) -> click.Command:
    """A command that changes AGENT_ID's credentials, recorded as made ``--as`` someone."""

    @agent.command(name, help=summary)
    @click.argument("agent_id")
    @_BY
    @options.CONFIG
    @_DB
    @json_always
    def command(agent_id: str, by: str | None, config: str | None, db: str | None) -> None:
        print_json(_with_admin(config, db, lambda admin: change(admin, agent_id, _actor(by))))

    return command


rotate = _credential_change(
    "rotate",
    "Issue a new API key and revoke the old ones; prints the new key once.",
    AgentAdmin.rotate,
)
revoke = _credential_change(
    "revoke",
    "Revoke the agent and all its credentials: no new tokens, no checks as it.",
    AgentAdmin.revoke,
)


@agent.command("set-tier")
@click.argument("agent_id")
@click.argument("tier", type=click.Choice(TIER_NAMES))
@click.option("--as", "changed_by", required=True, help="Who makes the change (recorded).")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@options.CONFIG
@_DB
@json_always
def set_tier(
    agent_id: str, tier: str, changed_by: str, reason: str, config: str | None, db: str | None
) -> None:
    """Change an agent's tier; recorded as a `tier_change` audit event."""
    actor = Actor(changed_by, cli_credential())
    print_json(
        _with_admin(config, db, lambda admin: admin.set_tier(agent_id, tier, actor, reason=reason))
    )


def _read_jwk(path: str) -> Any:
    """The JSON in ``path``; whether it is a usable public JWK is the service's to judge."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProctorError(
            f"cannot read the public key `{path}`: {exc}", code=INVALID_PUBLIC_KEY
        ) from exc
