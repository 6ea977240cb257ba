"""``proctor audit export`` and ``proctor audit stream``: the audit for a SIEM.

``export`` writes the records once (JSONL or OCSF); ``stream`` delivers them
to a webhook or a file at least once, resuming from a cursor file.
"""

from __future__ import annotations

import signal
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Literal

import click
import orjson

from proctor.cli.loading import audit_location
from proctor.cli.output import console, error_console
from proctor.errors import ProctorError
from proctor.export.ocsf import to_ocsf
from proctor.export.records import DEFAULT_BATCH, iter_records, parse_range, record_of
from proctor.export.sinks import open_sink
from proctor.export.stream import AuditStream, Cursor
from proctor.storage import open_audit_store

_formats = click.Choice(["jsonl", "ocsf"])


@click.command("export")
@click.option("--format", "form", type=_formats, default="jsonl", show_default=True)
@click.option("--since", help="First time to include: ISO 8601, or back from now (15m, 2h, 7d).")
@click.option("--until", help="Time to stop before: ISO 8601, or back from now.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File (default: stdout).")
@click.option("--db", help="Audit database (default: the config's, else proctor.db).")
@click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
def export_command(
    form: Literal["jsonl", "ocsf"],
    since: str | None,
    until: str | None,
    output: str | None,
    db: str | None,
    config: str | None,
) -> None:
    """Write audit records, one JSON object a line, in seq order."""
    now = datetime.now(UTC)
    lower, upper = parse_range(since, until, now)
    store = open_audit_store(existing(audit_location(config, db)))
    product = product_version()
    count = 0
    try:
        with _open_output(output) as out:
            for row in iter_records(store, since=lower, until=upper):
                record = record_of(row)
                body = to_ocsf(record, product_version=product) if form == "ocsf" else record
                out.write(orjson.dumps(body) + b"\n")
                count += 1
    finally:
        store.close()
    if output is not None:
        console.print(f"{count} records written to {output}", markup=False)


@click.command("stream")
@click.option("--sink", required=True, help="`webhook:URL` or `file:PATH`.")
@click.option("--cursor", type=click.Path(dir_okay=False), help="Resume file (last seq sent).")
@click.option("--format", "form", type=_formats, default="jsonl", show_default=True)
@click.option("--batch", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--once", is_flag=True, help="Deliver what is recorded now, then exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--timeout", default=10.0, show_default=True, help="Webhook timeout (seconds).")
@click.option("--db", help="Audit database (default: the config's, else proctor.db).")
@click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
def stream_command(
    sink: str,
    cursor: str | None,
    form: Literal["jsonl", "ocsf"],
    batch: int,
    once: bool,
    interval: float,
    timeout: float,
    db: str | None,
    config: str | None,
) -> None:
    """Deliver records to a sink at least once; the cursor moves only on acknowledgement."""
    target = open_sink(sink, timeout=timeout)
    position = Cursor(cursor)
    store = open_audit_store(existing(audit_location(config, db)))
    stream = AuditStream(
        store, target, position, form=form, batch=batch, product_version=product_version()
    )
    previous = signal.signal(signal.SIGTERM, lambda *_: stream.stop())
    try:
        if once:
            stream.drain()
        else:
            stream.follow(interval)
    except KeyboardInterrupt:
        stream.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
        target.close()
        store.close()
    stats = stream.stats
    error_console.print(
        f"{stats.delivered} records in {stats.batches} batches delivered "
        f"({stats.retries} retries); cursor at seq {position.seq}",
        markup=False,
    )


class _open_output:
    """stdout, or the file (created or truncated)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if self.path is None:
            return sys.stdout.buffer
        self.handle = Path(self.path).open("wb")
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()
        else:
            sys.stdout.buffer.flush()


def existing(location: str) -> str:
    if location in (":memory:", "memory") or "://" in location or Path(location).exists():
        return location
    raise ProctorError(f"no audit database at `{location}`", code="storage_not_found")


def product_version() -> str:
    try:
        return version("proctor")
    except PackageNotFoundError:
        return "0"
