"""``proctor policy push|versions|activate|diff|show``: policy sets kept in the store.

Each command is the runtime's ``PolicyVersions`` service, as the gateway's
reload and activate routes are, so it refuses and records as they do: a
``policy_change`` record naming who acted (``--as``, by default the
operating-system account) with the CLI as the credential. Every process on
the store that decides with the store's versions follows the active one
within its poll interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import click

from proctor.cli import options
from proctor.cli.loading import DEFAULT_DB, audit_location, database_override
from proctor.cli.operator import cli_credential, operator
from proctor.cli.output import console, print_json
from proctor.config import DEFAULT_CONFIG_NAME, ConfigError, LoadedConfig, load_config
from proctor.policy import load_policies
from proctor.runtime import build_runtime
from proctor.runtime.policy_versions import (
    PolicyVersions,
    diff_versions,
    status_report,
    texts_by_digest,
    version_sources,
)
from proctor.storage.contracts import PolicyStore
from proctor.storage.state import open_policy_store

_DB = click.option("--db", help="Database (default: PROCTOR_DATABASE_URL, the config's).")
_T = TypeVar("_T")


def _loaded(config: str | None) -> LoadedConfig | None:
    if config is None and not Path(DEFAULT_CONFIG_NAME).is_file():
        return None
    return load_config(config or DEFAULT_CONFIG_NAME)


def _with_store(config: str | None, db: str | None, act: Callable[[PolicyStore], _T]) -> _T:
    store = open_policy_store(audit_location(config, db))
    try:
        return act(store)
    finally:
        store.close()


def _with_versions(
    config: str | None, db: str | None, by: str | None, act: Callable[[PolicyVersions], _T]
) -> _T:
    loaded = _loaded(config)
    location = database_override(db)
    runtime = (
        build_runtime(loaded, audit=location)
        if loaded is not None
        else build_runtime(audit=location or DEFAULT_DB)
    )
    store = open_policy_store(location or (loaded.audit_location if loaded else DEFAULT_DB))
    try:
        return act(PolicyVersions(runtime, store))
    finally:
        store.close()
        runtime.close()


def _by(by: str | None) -> str:
    return by if by is not None else operator()


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--message", "-m", default="", help="What changed (kept with the version).")
@click.option("--allow-empty", is_flag=True, help="Push a set of no policies (denies every call).")
@click.option("--as", "by", help="Who pushes (recorded; default: your account name).")
@options.CONFIG
@_DB
@options.AS_JSON
def push(
    paths: tuple[str, ...],
    message: str,
    allow_empty: bool,
    by: str | None,
    config: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Compile PATHS (default: the config's policies) and make them the active version."""
    loaded = _loaded(config)
    targets: list[str | Path] = list(paths) or (list(loaded.policy_paths) if loaded else [])
    if not targets:
        raise ConfigError("no policy given: pass PATHS or `--config FILE`", code="no_policy_given")
    zone = ZoneInfo(loaded.config.timezone) if loaded is not None else None
    compiled = load_policies(targets, timezone=zone)  # every error, nothing stored
    answer = _with_versions(
        config,
        db,
        by,
        lambda versions: versions.push(
            compiled,
            by=_by(by),
            credential=cli_credential(),
            message=message,
            allow_empty=allow_empty,
        ),
    )
    if as_json:
        print_json(answer)
    elif answer["created"]:
        console.print(f"version {answer['version']} active: {answer['digest']}", markup=False)
    else:
        console.print(f"unchanged: version {answer['version']} is already this set", markup=False)


@click.command()
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@options.CONFIG
@_DB
@options.AS_JSON
def versions(limit: int, config: str | None, db: str | None, as_json: bool) -> None:
    """List the stored policy versions, newest first; the active one is marked."""

    def read(store: PolicyStore) -> tuple[int | None, list[dict[str, object]]]:
        active = store.active()
        return (active.version if active else None), [v.to_dict() for v in store.versions(limit)]

    active, listed = _with_store(config, db, read)
    if as_json:
        print_json({"active": active, "versions": listed})
        return
    for item in listed:
        mark = "*" if item["version"] == active else " "
        created = _when(float(str(item["created_at"])))
        console.print(
            f"{mark} {item['version']:>4}  {created}  {item['created_by']}  {item['digest']}"
            f"  {item['message']}",
            markup=False,
        )


@click.command()
@click.argument("version", type=int)
@click.option("--as", "by", help="Who activates (recorded; default: your account name).")
@options.CONFIG
@_DB
@options.AS_JSON
def activate(
    version: int, by: str | None, config: str | None, db: str | None, as_json: bool
) -> None:
    """Make stored VERSION the active one again (a rollback)."""
    answer = _with_versions(
        config,
        db,
        by,
        lambda versions: versions.activate(version, by=_by(by), credential=cli_credential()),
    )
    if as_json:
        print_json(answer)
    else:
        console.print(f"version {version} active: {answer['digest']}", markup=False)


@click.command()
@click.argument("first", type=int)
@click.argument("second", type=int)
@options.CONFIG
@_DB
@options.AS_JSON
def diff(first: int, second: int, config: str | None, db: str | None, as_json: bool) -> None:
    """Show what changed from version FIRST to version SECOND (a unified diff)."""
    text = _with_store(config, db, lambda store: diff_versions(store, first, second))
    if as_json:
        print_json({"from": first, "to": second, "diff": text})
        return
    click.echo(text or f"versions {first} and {second} hold the same texts", nl=not text)


@click.command()
@click.option("--digest", help="The set a decision record names (`extra.policy_digest`).")
@click.option("--version", "version", type=int, help="A stored version (default: the active).")
@options.CONFIG
@_DB
@options.AS_JSON
def show(
    digest: str | None, version: int | None, config: str | None, db: str | None, as_json: bool
) -> None:
    """Print the policy texts of a digest or a version (default: the active version)."""

    def read(store: PolicyStore) -> tuple[str, tuple[tuple[str, str], ...]]:
        if digest is not None:
            return digest, texts_by_digest(store, digest)
        if version is not None:
            found = version_sources(store, version)
            return found.digest, found.sources
        active = store.active()
        if active is None:
            raise ConfigError("no policy version has been pushed", code="policy_version_unknown")
        return active.digest, active.sources

    found_digest, sources = _with_store(config, db, read)
    if as_json:
        print_json(
            {"digest": found_digest, "sources": [{"name": n, "text": t} for n, t in sources]}
        )
        return
    for name, text in sources:
        click.echo(f"# {name}")
        click.echo(text, nl=not text.endswith("\n"))


@click.command("status")
@click.option("--live", default=10.0, show_default=True, help="Seconds a heartbeat counts as live.")
@options.CONFIG
@_DB
@options.AS_JSON
def status(live: float, config: str | None, db: str | None, as_json: bool) -> None:
    """List every live process on the store and the policy version each decides with."""
    report = _with_store(
        config, db, lambda store: status_report(store, time.time(), live_seconds=live)
    )
    if as_json:
        print_json(report)
        return
    active = report["active"]
    console.print(
        f"active: version {active['version']} {active['digest']}" if active else "active: none",
        markup=False,
    )
    for process in report["processes"]:
        version = process["policy_version"]
        shown = version if version is not None else "-"
        console.print(
            f"{process['role']:<8} {process['id']}  version {shown}"
            f"  {process['state']}  heartbeat {process['heartbeat_age_seconds']:.1f}s ago"
            f"  lag {process['lag_seconds']:.1f}s",
            markup=False,
        )
