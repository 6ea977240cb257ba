"""Conventions every command keeps: `--json` where data is printed, one name for the actor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from proctor.cli.main import cli

# commands that print no data of their own: a narrative, a server, or records in `--format`
WITHOUT_DATA = {"demo", "serve", "mcp-proxy", "audit export", "audit stream"}


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    context = click.Context(group)
    for name in group.list_commands(context):  # loads each lazily registered command
        command = group.get_command(context, name)
        assert command is not None, name
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _commands(command, f"{path} ")
        else:
            yield path, command


def _options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", ())}


def test_every_command_that_prints_data_takes_json() -> None:
    missing = [
        path
        for path, command in _commands(cli)
        if path not in WITHOUT_DATA and "--json" not in _options(command)
    ]
    assert missing == []


def test_the_acting_person_has_one_flag_name() -> None:
    by = [path for path, command in _commands(cli) if "--by" in _options(command)]
    named = sorted(path for path, command in _commands(cli) if "--as" in _options(command))
    assert by == []
    assert named == [
        "agent create",
        "agent revoke",
        "agent rotate",
        "agent set-tier",
        "approvals approve",
        "approvals reject",
        "policy activate",
        "policy push",
    ]


def test_json_is_accepted_where_json_is_all_there_is(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["admin-key", "--id", "ops", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["config_entry"]["id"] == "ops"
    migrated = CliRunner().invoke(cli, ["db", "migrate", "--db", str(tmp_path / "x.db"), "--json"])
    assert json.loads(migrated.output)["database"] == "sqlite"
