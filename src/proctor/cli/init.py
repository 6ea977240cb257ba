"""``proctor init``: a commented ``proctor.yaml``, a starter policy and an admin key.

The admin key is printed once, on stdout and alone (``KEY=$(proctor init DIR)``
keeps it out of the terminal); only its SHA-256 goes into the config. What was
written and the next three commands go to stderr. Existing files are never
overwritten.
"""

from __future__ import annotations

import hashlib
import secrets
import shlex
import sys
from pathlib import Path

import click

from proctor.cli.output import error_console, print_json
from proctor.cli.serve import ADMIN_KEY_PREFIX
from proctor.config import DEFAULT_CONFIG_NAME
from proctor.errors import ProctorError

PLACEMENTS = ("sdk", "gateway", "mcp")
STARTER_POLICY = "policies/starter.yaml"

_CONFIG = """\
# proctor.yaml, written by `proctor init --for {placement}`. Paths are relative to this file.
# Check it with `proctor config validate`; every key is in docs/ (policies.md, gateway.md...).

# Policy files and directories: every `*.yaml` in them is loaded.
policies:
  - policies/

# Time zone of conditions such as `time.hour >= 9` (an IANA name).
timezone: UTC

# A role grants scopes (action patterns); an agent acts within its role's scopes
# and the user's, whichever is narrower.
roles:
  assistant:
    description: reads anything; writes wait for a person (see the starter policy)
    scopes: ["read:*", "write:*"]

agents:
  - id: assistant
    role: assistant
    tier: verified      # unverified < verified < trusted < privileged
default_agent: assistant

# Local users and their scopes (with an IdP, users come from its tokens: docs/identity.md).
users:
  me:
    scopes: ["read:*", "write:*"]

# The audit trail (hash-chained), counters, runs and approvals: a SQLite file,
# or postgresql://... (PROCTOR_DATABASE_URL or --db override it).
storage:
  audit: proctor.db

# `proctor serve`: who may call the gateway. Only a key's SHA-256 is kept here;
# the key was printed once by `proctor init` (`proctor admin-key` makes more).
server:
  admin_keys:
    - id: admin
      sha256: {digest}
      scopes: [admin]
{mcp_section}"""

_MCP_SECTION = """
# `proctor mcp-proxy`: name each server you put behind the proxy, and give its tools
# actions of your own (else `call:NAME/TOOL`). The name must match `--name`.
# mcp_proxy:
#   servers:
#     git:
#       command: [uvx, mcp-server-git]
#       tools: {git_reset: "delete:repo"}
"""

_POLICY = """\
# The starter policy, in the shape of the MeshGuard example (name, version, rules with
# action, effect, conditions, reason): deny by default, reads allowed, writes held for
# a person's approval, deletes refused. docs/policies.md has the whole grammar.
name: starter
version: 1
default: deny           # a call no rule allows is denied (also the default when absent)
rules:
  - id: reads
    action: "read:*"
    effect: allow
  - id: writes-need-approval
    action: "write:*"
    effect: require_approval
    reason: "Writes wait for a person's approval"
    # conditions:                             # a rule can depend on arguments and time:
    #   - "time.hour >= 9 AND time.hour <= 17"  # business hours only
  - id: no-deletes
    action: "delete:*"
    effect: deny
    reason: "Agents cannot delete resources"
"""


def next_commands(placement: str, directory: Path) -> list[str]:
    """What to run next, from where ``init`` was run."""
    config = shlex.quote(str(directory / DEFAULT_CONFIG_NAME))
    validate = f"proctor config validate {config}"
    if placement == "gateway":
        return [
            validate,
            f"proctor serve --config {config}      # 127.0.0.1:8700",
            'curl -s 127.0.0.1:8700/v1/check -H "Authorization: Bearer $KEY" '
            "-H 'Content-Type: application/json' "
            '-d \'{"action": "read:orders", "agent": "assistant", "user": "me"}\'',
        ]
    if placement == "mcp":
        absolute = shlex.quote(str((directory / DEFAULT_CONFIG_NAME).resolve()))
        return [
            validate,
            f"proctor mcp-proxy --config {absolute} --name time -- uvx mcp-server-time",
            f"proctor audit tail --follow --config {config}",
        ]
    return [
        validate,
        f"proctor check --config {config} --user me read:orders      # allow",
        f"proctor check --config {config} --user me write:orders     # require_approval",
    ]


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--for",
    "placement",
    type=click.Choice(PLACEMENTS),
    default="sdk",
    show_default=True,
    help="Where proctor will run: in-process SDK, the gateway, or the MCP proxy.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the key, files and commands as JSON.")
def init_command(directory: Path, placement: str, as_json: bool) -> None:
    """Write a commented proctor.yaml, a starter policy and an admin key into DIRECTORY."""
    files = {
        directory / DEFAULT_CONFIG_NAME: None,
        directory / STARTER_POLICY: _POLICY,
    }
    present = [str(path) for path in files if path.exists()]
    if present:
        raise ProctorError(
            f"`{present[0]}` exists already; proctor init never overwrites a file",
            code="init_file_exists",
            hint="choose another directory, or move the file away",
        )
    key = ADMIN_KEY_PREFIX + secrets.token_urlsafe(32)
    digest = hashlib.sha256(key.encode()).hexdigest()
    files[directory / DEFAULT_CONFIG_NAME] = _CONFIG.format(
        placement=placement,
        digest=digest,
        mcp_section=_MCP_SECTION if placement == "mcp" else "",
    )
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as handle:  # "x": a file that appeared meanwhile
                handle.write(text or "")
    except OSError as exc:
        raise ProctorError(
            f"cannot write into `{directory}`: {exc.strerror or exc}", code="init_write_failed"
        ) from exc
    commands = next_commands(placement, directory)
    if as_json:
        print_json(
            {
                "admin_key": key,
                "admin_key_sha256": digest,
                "files": [str(path) for path in files],
                "next": commands,
            }
        )
        return
    sys.stdout.write(key + "\n")
    sys.stdout.flush()
    written = ", ".join(str(path) for path in files)
    error_console.print(f"wrote {written}", markup=False)
    error_console.print(
        "the admin key (printed on stdout) is shown once; only its SHA-256 is in the "
        "config: keep it as a secret (KEY=$(proctor init ...) keeps it out of the terminal)",
        markup=False,
    )
    error_console.print("next:", markup=False)
    for command in commands:
        error_console.print(f"  {command}", markup=False, soft_wrap=True)
