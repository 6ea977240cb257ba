"""Provenance of tool-call arguments: which values came only from untrusted tool output.

Per run, a ``ProvenanceLedger`` keeps the candidate values (``candidates``)
seen in trusted content (the user's task) and in untrusted content (tool
outputs), each untrusted value with the ``Source`` that first produced it. An
argument is tainted when it carries a value that is in untrusted content and
not in trusted content; ``taint_of`` says which arguments and where from.

The first source of a value is kept: the output that brought it into the run
is the one to blame, and a later output echoing it (the agent's own earlier
call, say) does not overwrite it. Memory is bounded: a ledger keeps at most
``max_values`` values of each sort, dropping the least recently seen; the
ledger map keeps at most ``max_runs`` runs, dropping the least recently used.
A run also keeps the sources (tool, call) of its outputs that held an
injection finding: its contamination, read by conditions as
``run.injection_seen`` and ``run.findings.injection``, so a policy can hold a
consequential call after a suspicious output even when no value flows from it.
It also keeps the values the injection named: the candidate values within
``NEAR_INJECTION`` characters of an injection finding's span. A tainted argument
carrying one says so (``injected`` in its taint entry: the output's tool, call,
time and score), which ``injected(args.x)`` reads: a value the user asked the
agent to read (the IBAN of a bill) is tainted, but only a value next to an
injected instruction (the attacker's IBAN planted in that bill) is injected.
Nothing here reads a clock or does I/O: the time of a source is passed in.

The ledgers fill in the run-keyed ``ProvenanceStore`` contract
(``proctor.storage.contracts``) for one process; the state database fills it
in for every gateway replica, so that they share what each run has seen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from proctor.scanners.candidates import (
    KINDS,
    MAX_CANDIDATES,
    CandidateValue,
    all_values,
    extract_values,
    values_in,
)

__all__ = [
    "KINDS",
    "CandidateValue",
    "ProvenanceLedger",
    "ProvenanceLedgers",
    "Source",
    "all_values",
    "extract_values",
    "injected_values",
    "taint_from",
    "values_in",
]

MAX_VALUES = 10_000
MAX_RUNS = 10_000
MAX_INJECTIONS = 100  # sources of injection findings kept per run (the first ones)
# Values this close to an injection finding's span (characters, either side) are ones the
# injection named: an instruction names its target within a sentence or two of the request.
# On AgentDojo, 200 takes 98.6 % of the attacker's values where they appear in flagged outputs
# (every attacker call's target) and 15 % of the outputs' other values; 300 takes them all
# but 30 % of the others, which put 16 % of the user's own calls in attacked runs under
# ``injected`` instead of 12 %.
NEAR_INJECTION = 200
_KIND_ORDER = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class Source:
    """Where an untrusted value came from: the tool, the decision id of its call, the time."""

    tool: str
    call: str
    at: str  # ISO 8601

    def to_dict(self) -> dict[str, str]:
        return {"tool": self.tool, "call": self.call, "at": self.at}


def taint_from(
    found: Mapping[str, Collection[CandidateValue]],
    trusted: Collection[CandidateValue],
    untrusted: Mapping[CandidateValue, Source],
    injected: Mapping[CandidateValue, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Taint per argument path (``found`` = ``values_in(args)``) from what a run has seen.

    An argument is tainted when one of its candidate values is in untrusted
    content and not in trusted content; when several are, the first by kind
    (``KINDS`` order) then value names the source. A tainted argument carrying
    a value an injection named (``injected``: value -> ``injection_entry``) has
    that entry under ``injected``; an injected value is untrusted even when the
    ledger has dropped its untrusted row.
    """
    injected = injected or {}
    taint: dict[str, dict[str, Any]] = {}
    for path, values in found.items():
        hits = [v for v in values if (v in untrusted or v in injected) and v not in trusted]
        if not hits:
            continue
        named = [v for v in hits if v in injected]
        value = min(named or hits, key=_rank)
        entry = injected.get(value)
        source = untrusted.get(value)
        if source is None:  # only an injection named it
            assert entry is not None
            source = Source(str(entry["tool"]), str(entry["call"]), str(entry["at"]))
        taint[path] = {
            "kind": value.kind,
            "tool": source.tool,
            "call": source.call,
            "at": source.at,
        }
        if entry is not None:
            taint[path]["injected"] = dict(entry)
    return taint


def injected_values(text: str, spans: Iterable[tuple[int, int]]) -> frozenset[CandidateValue]:
    """The candidate values that injection findings at ``spans`` of ``text`` named: those
    within ``NEAR_INJECTION`` characters of a span, each window widened to whole words.

    Overlapping windows are read once, and at most ``MAX_CANDIDATES`` values are kept
    (the first windows'), so a text full of findings costs no more than reading it.
    """
    if not isinstance(text, str) or not text:
        return frozenset()
    windows: list[tuple[int, int]] = []
    for start, end in sorted(_window(text, start, end) for start, end in spans):
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    named: set[CandidateValue] = set()
    for low, high in windows:
        named |= all_values(text[low:high])
        if len(named) >= MAX_CANDIDATES:
            return frozenset(sorted(named, key=_rank)[:MAX_CANDIDATES])
    return frozenset(named)


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    start = max(0, min(int(start), len(text)))
    end = max(start, min(int(end), len(text)))
    low = max(0, start - NEAR_INJECTION)
    high = min(len(text), end + NEAR_INJECTION)
    while low > 0 and not text[low - 1].isspace():
        low -= 1
    while high < len(text) and not text[high].isspace():
        high += 1
    return low, high


class ProvenanceLedger:
    """The trusted and untrusted values of one run. Safe to share between threads."""

    __slots__ = ("_injected", "_injections", "_lock", "_trusted", "_untrusted", "max_values")

    def __init__(self, max_values: int = MAX_VALUES) -> None:
        self.max_values = max_values
        self._lock = threading.Lock()
        self._trusted: OrderedDict[CandidateValue, None] = OrderedDict()
        self._untrusted: OrderedDict[CandidateValue, Source] = OrderedDict()
        self._injections: dict[str, dict[str, Any]] = {}
        self._injected: OrderedDict[CandidateValue, dict[str, Any]] = OrderedDict()

    def add_injection(
        self, source: Source, score: float, values: Iterable[CandidateValue] = ()
    ) -> None:
        """An output of this run from ``source`` held an injection finding (run contamination)
        that named ``values`` (``injected_values``); a value keeps the first output naming it."""
        entry = injection_entry(source, score)
        with self._lock:
            if source.call not in self._injections and len(self._injections) < MAX_INJECTIONS:
                self._injections[source.call] = entry
            for value in _ordered(values):
                if value not in self._injected:
                    self._injected[value] = entry
            _trim(self._injected, self.max_values)

    def injections(self) -> tuple[dict[str, Any], ...]:
        with self._lock:
            return tuple(dict(entry) for entry in self._injections.values())

    def add_trusted(self, content: Any) -> None:
        """Values in ``content`` (the user's task text, or any tree of strings) are never taint."""
        values = all_values(content)
        if not values:
            return
        with self._lock:
            for value in _ordered(values):
                self._trusted[value] = None
                self._trusted.move_to_end(value)
            _trim(self._trusted, self.max_values)

    def add_untrusted(self, content: Any, source: Source) -> None:
        """Values in ``content`` (a tool output) came from ``source`` unless seen before."""
        values = all_values(content)
        if not values:
            return
        with self._lock:
            untrusted = self._untrusted
            for value in _ordered(values):
                if value in untrusted:
                    untrusted.move_to_end(value)  # seen again: kept longer, first source kept
                else:
                    untrusted[value] = source
            _trim(untrusted, self.max_values)

    def taint_of(self, args: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Argument path -> ``{"kind", "tool", "call", "at"}`` (see ``taint_from``)."""
        if not self._untrusted and not self._injected:
            return {}
        found = values_in(args)
        if not found:
            return {}
        with self._lock:
            return taint_from(found, self._trusted, self._untrusted, self._injected)

    def source_of(self, value: CandidateValue) -> Source | None:
        """The untrusted source of ``value``, or None when it is trusted or never seen."""
        with self._lock:
            if value in self._trusted:
                return None
            return self._untrusted.get(value)

    def sizes(self) -> tuple[int, int]:
        """How many (trusted, untrusted) values the ledger holds."""
        with self._lock:
            return len(self._trusted), len(self._untrusted)


class ProvenanceLedgers:
    """Run id -> ledger, at most ``max_runs`` of them (least recently used dropped).

    The ``ProvenanceStore`` of one process: what a run has seen is not shared
    with other processes (a state database's store is).
    """

    __slots__ = ("_ledgers", "_lock", "max_runs", "max_values")

    def __init__(self, max_runs: int = MAX_RUNS, max_values: int = MAX_VALUES) -> None:
        self.max_runs = max_runs
        self.max_values = max_values
        self._lock = threading.Lock()
        self._ledgers: OrderedDict[str, ProvenanceLedger] = OrderedDict()

    def for_run(self, run_id: str) -> ProvenanceLedger:
        """The ledger of ``run_id``, created when the run has none."""
        with self._lock:
            ledger = self._ledgers.get(run_id)
            if ledger is None:
                ledger = self._ledgers[run_id] = ProvenanceLedger(self.max_values)
                _trim(self._ledgers, self.max_runs)
            else:
                self._ledgers.move_to_end(run_id)
            return ledger

    def get(self, run_id: str) -> ProvenanceLedger | None:
        """The ledger of ``run_id`` when it has one."""
        with self._lock:
            ledger = self._ledgers.get(run_id)
            if ledger is not None:
                self._ledgers.move_to_end(run_id)
            return ledger

    def remember_trusted(self, run_id: str, content: Any) -> None:
        self.for_run(run_id).add_trusted(content)

    def remember_untrusted(self, run_id: str, content: Any, source: Source) -> None:
        self.for_run(run_id).add_untrusted(content, source)

    def taint_of(self, run_id: str, args: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        ledger = self.get(run_id)
        return ledger.taint_of(args) if ledger is not None else {}

    def remember_injection(
        self, run_id: str, source: Source, score: float, values: Iterable[CandidateValue] = ()
    ) -> None:
        self.for_run(run_id).add_injection(source, score, values)

    def injections(self, run_id: str) -> tuple[dict[str, Any], ...]:
        ledger = self.get(run_id)
        return ledger.injections() if ledger is not None else ()

    def close(self) -> None:
        """Nothing to release: the ledgers live in memory."""

    def discard(self, run_id: str) -> None:
        """Forget run ``run_id`` (it ended)."""
        with self._lock:
            self._ledgers.pop(run_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._ledgers)


def injection_entry(source: Source, score: float) -> dict[str, Any]:
    """One source of run contamination as conditions read it (``run.findings.injection``)."""
    return {**source.to_dict(), "score": round(float(score), 3)}


def _rank(value: CandidateValue) -> tuple[int, str]:
    return _KIND_ORDER.get(value.kind, len(KINDS)), value.value


def _ordered(values: Iterable[CandidateValue]) -> list[CandidateValue]:
    # A stable order, so which values a full ledger drops does not depend on hashing.
    return sorted(values, key=_rank)


def _trim(entries: OrderedDict[Any, Any], limit: int) -> None:
    while len(entries) > limit:
        entries.popitem(last=False)
