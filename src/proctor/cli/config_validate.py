"""``proctor config validate [FILE]``: a whole configuration checked, every error located.

Beyond the file's shape (``load_config``): the policies it names compile, users'
scopes are action patterns, the ``scanning:`` cascade builds, ``mcp_proxy``
servers are usable, ``server.admin_keys`` are distinct with known scopes. It
opens no database and writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from proctor.cli import options
from proctor.cli.output import console, error_console, print_json
from proctor.config import DEFAULT_CONFIG_NAME, ConfigError, LoadedConfig, load_config
from proctor.errors import ErrorGroup, ProctorError
from proctor.model.actions import InvalidPattern, parse_pattern
from proctor.policy import CompiledPolicySet, load_policies
from proctor.policy.source import LocatedDocument, read_documents

# an MCP server name usable in an action (mcp/upstreams.py)
_SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class ConfigReport:
    """What ``validate_config`` found: errors (located), warnings, and what was loaded."""

    file: str
    errors: list[ProctorError] = field(default_factory=list)
    warnings: list[ProctorError] = field(default_factory=list)
    policies: CompiledPolicySet | None = None
    loaded: LoadedConfig | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, Any]:
        body: dict[str, Any] = {"file": self.file, "valid": self.valid}
        if self.policies is not None:
            body["policies"] = [
                {"name": p.name, "version": p.version} for p in self.policies.policies
            ]
            body["rules"] = len(self.policies.rules)
        if self.loaded is not None:
            settings = self.loaded.config
            body["agents"] = len(settings.agents)
            body["roles"] = len(settings.roles)
            body["users"] = len(settings.users)
            body["database"] = self.loaded.audit_location
        body["errors"] = [error.to_dict() for error in self.errors]
        body["warnings"] = [warning.to_dict() for warning in self.warnings]
        return body


def validate_config(path: str | Path) -> ConfigReport:
    """Every problem of the config at ``path`` and of what it names; raises nothing."""
    report = ConfigReport(str(path))
    try:
        loaded = load_config(path)
    except ProctorError as exc:
        report.errors.extend(_each(exc))
        return report
    report.loaded = loaded
    document = _document(loaded)
    try:
        report.policies = load_policies(
            loaded.policy_paths, timezone=ZoneInfo(loaded.config.timezone)
        )
        report.warnings.extend(report.policies.warnings)
    except ProctorError as exc:
        report.errors.extend(_each(exc))
    report.errors.extend(_users(loaded, document))
    report.errors.extend(_scanning(loaded, document))
    report.errors.extend(_mcp_servers(loaded, document))
    report.errors.extend(_admin_keys(loaded, document))
    return report


def _each(error: ProctorError) -> list[ProctorError]:
    return list(error.errors) if isinstance(error, ErrorGroup) else [error]


def _document(loaded: LoadedConfig) -> LocatedDocument:
    text = Path(loaded.file).read_text(encoding="utf-8")
    return next(iter(read_documents(text, loaded.file)), LocatedDocument(loaded.file, {}))


def _users(loaded: LoadedConfig, document: LocatedDocument) -> list[ProctorError]:
    problems: list[ProctorError] = []
    for sub, user in loaded.config.users.items():
        for index, scope in enumerate(user.scopes):
            try:
                parse_pattern(scope)
            except InvalidPattern as exc:
                problems.append(
                    ConfigError(
                        f"user `{sub}`: scope `{scope}`: {exc}",
                        code="config_invalid_value",
                        location=document.location(("users", sub, "scopes", index)),
                    )
                )
    return problems


def _scanning(loaded: LoadedConfig, document: LocatedDocument) -> list[ProctorError]:
    section = loaded.config.scanning
    if section is None:
        return []
    from proctor.sdk.scanning import build_cascade  # a judge `url` needs the HTTP client

    options = {
        name: value
        for name, value in (("presidio", section.presidio), ("judge", section.judge))
        if value is not None
    }
    try:
        build_cascade(
            section.scanners,
            fail_mode=section.fail_mode,
            budget_ms=section.budget_ms,
            options=options,
        )
    except ProctorError as exc:
        where = document.location(("scanning",))
        return [
            ConfigError(error.message, code=error.code, location=error.location or where)
            for error in _each(exc)
        ]
    return []


def _mcp_servers(loaded: LoadedConfig, document: LocatedDocument) -> list[ProctorError]:
    problems: list[ProctorError] = []
    for name, server in loaded.config.mcp_proxy.servers.items():
        where = document.location(("mcp_proxy", "servers", name), key=True)
        if not _SERVER_NAME.match(name):
            problems.append(
                ConfigError(
                    f"mcp server name `{name}` is not usable in an action: use letters, digits, "
                    "`_`, `-` and `.`",
                    code="config_invalid_value",
                    location=where,
                )
            )
        if server.command and server.url:
            problems.append(
                ConfigError(
                    f"mcp server `{name}` has both `command` and `url`: give one",
                    code="config_invalid_value",
                    location=where,
                )
            )
    return problems


def _admin_keys(loaded: LoadedConfig, document: LocatedDocument) -> list[ProctorError]:
    from proctor.server.auth import ADMIN_SCOPES

    problems: list[ProctorError] = []
    ids: set[str] = set()
    digests: set[str] = set()
    for index, key in enumerate(loaded.config.server.admin_keys):
        where = document.location(("server", "admin_keys", index))
        if key.id in ids or key.sha256 in digests:
            what = f"id `{key.id}`" if key.id in ids else "key (the same sha256)"
            problems.append(
                ConfigError(
                    f"admin key {what} is listed twice",
                    code="config_duplicate_admin_key",
                    location=where,
                )
            )
        ids.add(key.id)
        digests.add(key.sha256)
        for scope_index, scope in enumerate(key.scopes):
            if scope not in ADMIN_SCOPES:
                problems.append(
                    ConfigError(
                        f"admin key `{key.id}`: unknown scope `{scope}`",
                        code="config_invalid_value",
                        location=document.location(
                            ("server", "admin_keys", index, "scopes", scope_index)
                        ),
                        hint=f"one of {', '.join(ADMIN_SCOPES)}",
                    )
                )
    return problems


@click.group("config")
def config_group() -> None:
    """Check a proctor.yaml."""


@config_group.command("validate")
@click.argument("file", default=DEFAULT_CONFIG_NAME, type=click.Path(dir_okay=False))
@options.AS_JSON
def validate_command(file: str, as_json: bool) -> None:
    """Check FILE (default: ./proctor.yaml) and everything it names; exit 1 on an error."""
    report = validate_config(file)
    if as_json:
        print_json(report.summary())
    else:
        for error in report.errors:
            error_console.print(error.render(), markup=False)
        for warning in report.warnings:
            error_console.print(
                warning.render().replace("error[", "warning[", 1), markup=False, style="yellow"
            )
        if report.errors:
            count = len(report.errors)
            error_console.print(f"{count} error{'s' if count != 1 else ''}", style="red")
        else:
            body = report.summary()
            console.print("ok", style="green", end="")
            console.print(
                f": {file}: {len(body['policies'])} policies, {body['rules']} rules, "
                f"{body['agents']} agents, {body['roles']} roles, {body['users']} users",
                markup=False,
            )
    if report.errors:
        raise SystemExit(1)
