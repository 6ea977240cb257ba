"""The ``proctor`` command: thin over the library.

Exit codes: 0 done (whatever a decision's effect), 1 a check that failed
(invalid policy, failed policy test, broken audit chain), 2 bad input or
configuration, 3 broken infrastructure (unusable database).

Each command's module is imported only when that command runs (click's lazy
loading of subcommands), so ``proctor --help`` and ``proctor check`` do not
pay for the gateway, the MCP SDK or the HTTP client.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

import click

from proctor.errors import ProctorError


class LazyCommand(NamedTuple):
    """Where a command lives, and the first paragraph of its help for ``proctor --help``."""

    module: str
    attribute: str
    summary: str

    def load(self) -> click.Command:
        command = getattr(importlib.import_module(self.module), self.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"`{self.module}.{self.attribute}` is not a click command")
        return command


# name -> command; tests/cli/test_main.py checks each summary against the command's help.
COMMANDS: Mapping[str, LazyCommand] = {
    "admin-key": LazyCommand(
        "proctor.cli.serve",
        "admin_key",
        "Print a new admin key (once) and the `server.admin_keys` entry that admits it.",
    ),
    "agent": LazyCommand(
        "proctor.cli.agent", "agent", "Register agents and manage their credentials and tiers."
    ),
    "approvals": LazyCommand(
        "proctor.cli.approvals",
        "approvals",
        "List, approve and reject calls waiting for a human approval.",
    ),
    "audit": LazyCommand("proctor.cli.audit", "audit", "Read and verify the audit trail."),
    "check": LazyCommand(
        "proctor.cli.check",
        "check",
        "Decide whether an agent may do ACTION (e.g. write:refund) now.",
    ),
    "config": LazyCommand("proctor.cli.config_validate", "config_group", "Check a proctor.yaml."),
    "db": LazyCommand("proctor.cli.db", "db", "Database schema."),
    "demo": LazyCommand(
        "proctor.cli.demo",
        "demo",
        "Run the e-commerce customer-service scenario and verify its audit trail.",
    ),
    "explain": LazyCommand(
        "proctor.cli.explain",
        "explain_command",
        "Explain one recorded decision: who, which agent, scopes, rules, limits, approvals.",
    ),
    "init": LazyCommand(
        "proctor.cli.init",
        "init_command",
        "Write a commented proctor.yaml, a starter policy and an admin key into DIRECTORY.",
    ),
    "keys": LazyCommand(
        "proctor.cli.keys", "keys", "proctor's signing keys (Ed25519, in the 0600 key file)."
    ),
    "mcp-proxy": LazyCommand(
        "proctor.cli.mcp_proxy",
        "mcp_proxy",
        "Relay an MCP server, checking every tool call: ... mcp-proxy -- COMMAND ARGS...",
    ),
    "policy": LazyCommand(
        "proctor.cli.policy",
        "policy",
        "Check policy documents, run their tests and replay recorded calls against them.",
    ),
    "scan": LazyCommand(
        "proctor.cli.scan", "scan", "Scan text from stdin for PII, secrets and prompt injection."
    ),
    "serve": LazyCommand(
        "proctor.cli.serve",
        "serve",
        "Run the gateway: the HTTP decision API over the same engine as the SDK.",
    ),
    "status": LazyCommand(
        "proctor.cli.policy_versions",
        "status",
        "List every live process on the store and the policy version each decides with.",
    ),
    "token": LazyCommand(
        "proctor.cli.token",
        "token",
        "Delegation tokens: mint dev user tokens, exchange, inspect, revoke.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported the first time they are looked up."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        lazy = self.lazy_commands.get(cmd_name)
        if command is None and lazy is not None:
            command = lazy.load()
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing needs only each command's summary: a stand-in carries it, and
        # click shortens it to the terminal's width exactly as for the real command.
        listed: dict[str, click.Command] = {
            name: self.commands.get(name) or click.Command(name, help=lazy.summary)
            for name, lazy in self.lazy_commands.items()
        }
        listed.update(self.commands)
        click.Group(self.name, commands=listed).format_commands(ctx, formatter)


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="proctor")
def cli() -> None:
    """proctor: decide and record AI agents' tool calls before the tool runs."""


def main() -> None:
    as_json = "--json" in sys.argv
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except ProctorError as exc:
        # Imported here: the storage package and rich load only when there is an error to report.
        from proctor.cli.output import report_error
        from proctor.storage.errors import StorageError

        report_error(exc, as_json=as_json)
        sys.exit(3 if isinstance(exc, StorageError) else 2)
