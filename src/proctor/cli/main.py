"""The ``proctor`` command: thin over the library.

Exit codes: 0 done (whatever a decision's effect), 1 a check that failed
(invalid policy, failed policy test, broken audit chain), 2 bad input or
configuration, 3 broken infrastructure (unusable database).
"""

from __future__ import annotations

import sys

import click

from proctor.cli.agent import agent
from proctor.cli.approvals import approvals
from proctor.cli.audit import audit
from proctor.cli.check import check
from proctor.cli.config_validate import config_group
from proctor.cli.db import db
from proctor.cli.demo import demo
from proctor.cli.explain import explain_command
from proctor.cli.init import init_command
from proctor.cli.keys import keys
from proctor.cli.mcp_proxy import mcp_proxy
from proctor.cli.output import report_error
from proctor.cli.policy import policy
from proctor.cli.scan import scan
from proctor.cli.serve import admin_key, serve
from proctor.cli.token import token
from proctor.errors import ProctorError
from proctor.storage.errors import StorageError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="proctor")
def cli() -> None:
    """proctor: decide and record AI agents' tool calls before the tool runs."""


cli.add_command(check)
cli.add_command(policy)
cli.add_command(audit)
cli.add_command(demo)
cli.add_command(token)
cli.add_command(keys)
cli.add_command(agent)
cli.add_command(approvals)
cli.add_command(explain_command)
cli.add_command(serve)
cli.add_command(admin_key)
cli.add_command(db)
cli.add_command(scan)
cli.add_command(mcp_proxy)
cli.add_command(init_command)
cli.add_command(config_group)


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
    except StorageError as exc:
        report_error(exc, as_json=as_json)
        sys.exit(3)
    except ProctorError as exc:
        report_error(exc, as_json=as_json)
        sys.exit(2)
