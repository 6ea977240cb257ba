"""``proctor policy replay``: what new policies would have decided on the recorded calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter
from zoneinfo import ZoneInfo

import click

from proctor.cli.audit import _existing
from proctor.cli.loading import audit_location
from proctor.cli.output import console, print_json
from proctor.config import DEFAULT_CONFIG_NAME, ConfigError, load_config
from proctor.policy import CompiledPolicySet, load_policies
from proctor.policy.limits_schema import parse_duration
from proctor.runtime.policy_versions import compile_stored, texts_by_digest, version_sources
from proctor.sdk.replay import CHANGE_NAMES, UNREPRODUCIBLE, decoded, replay
from proctor.storage import open_audit_store
from proctor.storage.state import open_policy_store


@click.command("replay")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=click.Path(exists=True),
    help="New policy file or directory (repeatable).",
)
@click.option("--digest", help="A set kept in the store (a record's `extra.policy_digest`).")
@click.option("--version", "version", type=int, help="A stored policy version.")
@click.option("--since", help="Only calls newer than this (`7d`, `12h`) or an ISO time.")
@click.option("--examples", default=3, show_default=True, help="Examples per kind of change.")
@click.option("--db", help="Audit database (default: the config's, else proctor.db).")
@click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def replay_command(
    policies: tuple[str, ...],
    digest: str | None,
    version: int | None,
    since: str | None,
    examples: int,
    db: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Re-decide recorded calls under POLICY and report newly denied, allowed, needing approval."""
    compiled = _replayed_set(policies, digest, version, config, db)
    cutoff = _cutoff(since)
    store = open_audit_store(_existing(audit_location(config, db)))
    started = perf_counter()
    try:
        report = replay(decoded(store.iter_rows(), cutoff), compiled, examples=examples)
    finally:
        store.close()
    seconds = perf_counter() - started
    if as_json:
        print_json({**report.to_dict(), "since": cutoff, "seconds": round(seconds, 3)})
        return
    console.print(
        f"replayed {report.replayed} of {report.examined} recorded decisions"
        + (f" since {cutoff}" if cutoff else "")
        + f" in {seconds:.2f}s: {report.unchanged} unchanged, {report.changed} would change"
    )
    for (before, after), count in sorted(report.changes.items()):
        console.print(f"[bold]{CHANGE_NAMES[after]}[/]: {count} (were {before})")
        for call in report.examples.get((before, after), []):
            args = " ".join(f"{k}={v}" for k, v in call.args.items())
            console.print(
                f"  {call.ts} {call.user or '-'} via {call.agent}: {call.action} {args} -> ",
                end="",
                markup=False,
            )
            console.print(call.reason, markup=False)
    if report.not_replayed:
        skipped = ", ".join(f"{code}: {n}" for code, n in sorted(report.not_replayed.items()))
        console.print(f"not replayed (decided before the policies): {skipped}", markup=False)
    if report.incomplete:
        console.print(
            f"{report.incomplete} call(s) could not be fully evaluated "
            "(a condition needed a value that is not recorded, e.g. `context.*`)"
        )
    for name, count in sorted(report.unreproducible.items()):
        console.print(
            f"{count} call(s) not compared: their outcome depends on {UNREPRODUCIBLE[name]}, "
            "which the record does not hold",
            markup=False,
        )
    console.print("limits, run ceilings and approvals are not replayed: they depend on state")


def _replayed_set(
    policies: tuple[str, ...],
    digest: str | None,
    version: int | None,
    config: str | None,
    db: str | None,
) -> CompiledPolicySet:
    """The set to replay: files, or one kept in the store by digest or version."""
    if sum((bool(policies), digest is not None, version is not None)) != 1:
        raise click.UsageError("give one of --policy, --digest or --version")
    zone = _timezone(config)
    if policies:
        return load_policies(policies, timezone=zone)
    store = open_policy_store(audit_location(config, db))
    try:
        sources = (
            texts_by_digest(store, digest)
            if digest is not None
            else version_sources(store, version or 0).sources
        )
    finally:
        store.close()
    return compile_stored(sources, zone or ZoneInfo("UTC"))


def _timezone(config: str | None) -> ZoneInfo | None:
    """The config's time zone (the one the recorded calls were decided in), when there is one."""
    if config is None and not Path(DEFAULT_CONFIG_NAME).is_file():
        return None
    return ZoneInfo(load_config(config or DEFAULT_CONFIG_NAME).config.timezone)


def _cutoff(since: str | None) -> str | None:
    if since is None:
        return None
    seconds = parse_duration(since)
    if seconds is not None:
        moment = datetime.now(UTC) - timedelta(seconds=seconds)
    else:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError(
                f"`--since {since}` is neither a duration like `7d` nor an ISO time",
                code="invalid_time",
            ) from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
