"""Replaying a spill file into the chain once the store writes again.

A store that failed spills what it could not write (``spill.py``). When it
writes again (a probe write succeeds: the disk was freed, PostgreSQL answers)
or when it opens on a spill file left by an earlier process, its writer
replays the spill before it takes records again: every spilled record, in the
order it was spilled, is chained onto the writer's shard once. Records are
keyed by decision id, so a replay is idempotent: a record whose decision id
is in the chain already (an earlier replay was killed midway, a line repeated)
is counted and skipped, never appended twice. The claimed file
(``<spill>.replaying``) is removed only once every record in it is committed;
a replay cut short leaves it for the next replay, which resumes it.

A replayed record says so: ``extra.replayed`` holds the spill's ``code`` and
``reason`` and when it was replayed. Lines that cannot be replayed (a torn
line, a record refused on its own: a duplicate, content JCS cannot encode)
move to ``<spill>-kept.jsonl``, which nothing deletes.

The record a caller was told ``deny`` for (``audit_unavailable``: its record
could not be written) is spilled as that deny (``refused``), so the chain
says what the caller was told; the policy's own answer stays in
``extra.unrecorded``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from proctor.audit.errors import AUDIT_INVALID_RECORD, AUDIT_UNENCODABLE
from proctor.errors import ProctorError
from proctor.model.audit_event import AuditEvent
from proctor.model.decision import AUDIT_UNAVAILABLE
from proctor.storage.errors import DUPLICATE_RECORD
from proctor.storage.spill import TORN, SpillFile, append_lines, kept_path

# Refused on their own: replaying them would refuse them again.
_KEPT_CODES = frozenset((DUPLICATE_RECORD, AUDIT_UNENCODABLE, AUDIT_INVALID_RECORD, TORN))

# Commits events in one batch onto the writer's shard; returns those refused, by index.
Commit = Callable[[list[AuditEvent]], Mapping[int, ProctorError]]


@dataclass
class ReplayReport:
    replayed: int = 0  # records chained by this replay
    already: int = 0  # decision ids in the chain already: skipped
    kept: int = 0  # lines moved to the kept file

    @property
    def said(self) -> str:
        """What the replay did, for the writer's log line; empty when it did nothing."""
        if not (self.replayed or self.already or self.kept):
            return ""
        return (
            f"replayed {self.replayed} spilled records into the chain "
            f"({self.already} were in it already, {self.kept} kept aside)"
        )


# The kinds whose caller is told deny when their record cannot be written: a check is
# denied, a tool's output withheld (runtime.pipeline, runtime.outputs).
_REFUSED_AS = {"decision": "denied", "output": "withheld"}


def refused(payload: dict[str, Any], reason: str) -> dict[str, Any]:
    """A record as the deny its caller was told, the policy's answer kept aside."""
    refusal = _REFUSED_AS.get(str(payload.get("kind")))
    if refusal is None or payload.get("code") == AUDIT_UNAVAILABLE:
        return payload
    extra = payload.get("extra")
    unrecorded = {key: payload.get(key) for key in ("effect", "code", "reason")}
    return {
        **payload,
        "effect": "deny",
        "code": AUDIT_UNAVAILABLE,
        "reason": f"{refusal}: the audit store is unavailable, so no record could be written "
        f"({reason})",
        "extra": {**(extra if isinstance(extra, dict) else {}), "unrecorded": unrecorded},
    }


def spill_unwritten(
    spill: SpillFile,
    events: Sequence[AuditEvent],
    error: ProctorError,
    told_deny: Sequence[bool] | None = None,
) -> None:
    """Spill ``events`` a store could not write; those whose caller was told deny as that deny."""
    payloads = [event.to_payload() for event in events]
    if told_deny is not None:
        payloads = [
            refused(payload, error.message) if deny else payload
            for payload, deny in zip(payloads, told_deny, strict=True)
        ]
    spill.write(payloads, code=error.code, reason=error.message)
    if told_deny is not None:
        refused_ids = zip((event.decision_id for event in events), told_deny, strict=True)
        spill.note_refused(decision_id for decision_id, deny in refused_ids if deny)


class ProbeSchedule:
    """When a failed store next probes its database: 50 ms after the failure, then
    twice as long after each failed probe, up to 1 s; never for a damaged store."""

    FIRST, LAST = 0.05, 1.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._wait = self.FIRST
        self.at = 0.0

    def failed(self) -> None:
        self._wait = self.FIRST
        self.at = self._clock() + self._wait

    def again(self) -> None:
        self._wait = min(self._wait * 2, self.LAST)
        self.at = self._clock() + self._wait

    def never(self) -> None:
        self.at = float("inf")

    def due(self) -> bool:
        return self._clock() >= self.at


def replay_spill(
    spill: SpillFile,
    commit: Commit,
    *,
    batch_size: int,
    resume: Callable[[], None],
    now: Callable[[], float] = time.time,
) -> ReplayReport | None:
    """Replay everything ``spill`` holds, then call ``resume`` once nothing is left.

    Returns None when another process holds the replay (``resume`` is called: that
    process replays the file). Raises what ``commit`` raises (a store still failing):
    the claimed file stays for the next replay.
    """
    report = ReplayReport()
    with spill.replay_lock() as held:
        if not held:  # another process replays the file
            resume()
            return None
        while True:
            claimed, memory = spill.claim()
            if claimed is None and not memory:
                if spill.settle(resume):
                    break
                continue
            lines = _read_lines(claimed) if claimed is not None else iter(())
            try:
                kept = _replay_lines(
                    itertools.chain(lines, memory), commit, batch_size, report, now()
                )
            except BaseException:
                spill.unclaim(memory)
                raise
            report.kept += len(kept)
            if spill.path is not None and kept:
                try:
                    append_lines(kept_path(spill.path), kept)
                except OSError:
                    spill.unclaim(memory)
                    raise
            if claimed is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(claimed)
    spill.replayed += report.replayed
    return report


def _read_lines(path: str) -> Iterator[str]:
    """The file's lines, read as they are replayed (a spill can be large)."""
    with open(path, "rb") as file:
        for raw in file:
            yield raw.decode("utf-8", errors="replace")


def _replay_lines(
    lines: Iterable[str], commit: Commit, batch_size: int, report: ReplayReport, at: float
) -> list[str]:
    """Commit the records of ``lines`` in order; returns the lines kept instead."""
    kept: list[str] = []
    seen: set[str] = set()
    events: list[AuditEvent] = []
    sources: list[str] = []
    when = datetime.fromtimestamp(at, UTC).isoformat(timespec="microseconds")
    when = when.replace("+00:00", "Z")
    for line in lines:
        if not line.strip():
            continue
        event = _event_of(line, when)
        if event is None:
            kept.append(line if line.endswith("\n") else line + "\n")
            continue
        if event.decision_id in seen:
            report.already += 1
            continue
        seen.add(event.decision_id)
        events.append(event)
        sources.append(line)
        if len(events) >= batch_size:
            _commit(events, sources, commit, report, kept)
            events, sources = [], []
    if events:
        _commit(events, sources, commit, report, kept)
    return kept


def _commit(
    events: list[AuditEvent],
    sources: list[str],
    commit: Commit,
    report: ReplayReport,
    kept: list[str],
) -> None:
    rejected = commit(events)
    for index, problem in rejected.items():
        if problem.code == DUPLICATE_RECORD:
            report.already += 1
        else:
            kept.append(sources[index] if sources[index].endswith("\n") else sources[index] + "\n")
    report.replayed += len(events) - len(rejected)


def _event_of(line: str, when: str) -> AuditEvent | None:
    """The spilled record of ``line``, marked replayed; None for a line that is not one."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    record, spilled = entry.get("record"), entry.get("spill")
    if not isinstance(record, dict) or not isinstance(spilled, dict):
        return None
    code = spilled.get("code")
    if code in _KEPT_CODES:
        return None
    try:
        event = AuditEvent.from_payload(record)
    except (ValueError, KeyError, TypeError):
        return None
    if not event.decision_id or type(event.decision_id) is not str:
        return None
    marker = {"code": code, "reason": spilled.get("reason"), "at": when}
    extra = event.extra if isinstance(event.extra, dict) else {}
    return replace(event, extra={**extra, "replayed": marker})
