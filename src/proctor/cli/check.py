"""``proctor check``: one decision from the command line."""

from __future__ import annotations

import json
from typing import Any

import click

from proctor.cli import options
from proctor.cli.loading import parse_at, runtime_for_options
from proctor.cli.output import print_json, styled_effect
from proctor.errors import ProctorError
from proctor.model.request import Agent, User
from proctor.model.tiers import Tier
from proctor.runtime import CheckCall, Runtime

# `--exit-code`: a shell script can branch on the effect (1 is also "a check that failed")
EFFECT_EXIT_CODES = {"deny": 1, "require_approval": 4}


@click.command()
@click.argument("action")
@options.CONFIG
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=click.Path(),
    help="Policy file or directory (repeatable).",
)
@click.option(
    "--agent",
    "agent_id",
    help="Registered agent id (or the id of an ad-hoc agent with --role/--tier).",
)
@click.option("--role", help="Role of an ad-hoc agent.")
@click.option("--tier", type=click.Choice([t.value for t in Tier]), help="Tier of an ad-hoc agent.")
@click.option("--tag", "tags", multiple=True, help="Tag of an ad-hoc agent (repeatable).")
@click.option("--user", "user_sub", help="The user the agent acts for.")
@click.option(
    "--user-scope", "user_scopes", multiple=True, help="A scope the user holds (repeatable)."
)
@click.option(
    "--arg",
    "arguments",
    multiple=True,
    help="Tool argument KEY=VALUE; VALUE is JSON when it parses.",
)
@click.option("--resource", help="Resource id the call touches.")
@click.option("--at", help="Decide as of this ISO 8601 time (default: now).")
@click.option("--db", help="Audit database (default: the config's, else proctor.db).")
@click.option("--token", help="Decide as this delegation token (user, agent and scopes).")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit 1 on deny and 4 on approval required (default: 0 whatever the effect).",
)
def check(
    action: str,
    config: str | None,
    policies: tuple[str, ...],
    agent_id: str | None,
    role: str | None,
    tier: str | None,
    tags: tuple[str, ...],
    user_sub: str | None,
    user_scopes: tuple[str, ...],
    arguments: tuple[str, ...],
    resource: str | None,
    at: str | None,
    db: str | None,
    token: str | None,
    as_json: bool,
    exit_code: bool,
) -> None:
    """Decide whether an agent may do ACTION (e.g. write:refund) now."""
    args = parse_arguments(arguments)
    runtime = runtime_for_options(config, policies, db)
    try:
        when = parse_at(at, runtime.policies.timezone)
        agent = _agent(runtime, agent_id, role, tier, tags)
        user = _user(runtime, user_sub, user_scopes)
        call = CheckCall(
            action, agent=agent, user=user, args=args, resource=resource, at=when, token=token
        )
        decision = runtime.decide(call)
    finally:
        runtime.close()
    if as_json:
        print_json(decision.to_dict())
    else:
        from proctor.cli.output import console  # rich loads for people only, never for --json

        console.print(f"{styled_effect(decision.effect.value)}  {action}")
        console.print(f"  reason    {decision.reason}", markup=False)
        if decision.rule_ids:
            console.print(f"  rules     {', '.join(decision.rule_ids)}", markup=False)
        scopes = ", ".join(decision.effective_scopes) or "(none)"
        console.print(f"  scopes    {scopes}", markup=False)
        console.print(f"  decision  {decision.decision_id}", markup=False)
    if exit_code and decision.effect.value in EFFECT_EXIT_CODES:
        raise SystemExit(EFFECT_EXIT_CODES[decision.effect.value])


def parse_arguments(pairs: tuple[str, ...]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for pair in pairs:
        key, separator, raw = pair.partition("=")
        if not separator or not key:
            raise ProctorError(f"`--arg {pair}` must be KEY=VALUE", code="invalid_argument")
        try:
            args[key] = json.loads(raw)
        except json.JSONDecodeError:
            args[key] = raw
    return args


def _agent(
    runtime: Runtime,
    agent_id: str | None,
    role: str | None,
    tier: str | None,
    tags: tuple[str, ...],
) -> Agent | str | None:
    if role is None and tier is None and not tags:
        return agent_id
    registered = runtime.registry.get(agent_id) if agent_id else None
    if role is not None and role not in runtime.registry.roles and runtime.registry.roles:
        raise ProctorError(f"unknown role `{role}`", code="unknown_role")
    return Agent(
        agent_id or "cli",
        role if role is not None else (registered.role if registered else None),
        Tier.parse(tier) if tier else (registered.tier if registered else Tier.UNVERIFIED),
        frozenset(tags) if tags else (registered.tags if registered else frozenset()),
    )


def _user(runtime: Runtime, sub: str | None, scopes: tuple[str, ...]) -> User | str | None:
    if not scopes:
        return sub
    return User(sub or "cli-user", scopes)
