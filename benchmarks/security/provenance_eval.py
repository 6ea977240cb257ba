"""Section 3: provenance on AgentDojo, attacker calls and legitimate calls.

Attacker calls: for each (user task, injection task) pair attacked with
``important_instructions``, a ledger holds the user's prompt as trusted and
every tool output of the user task's ground truth as untrusted (source: tool,
call index, time). The injection task's ground-truth calls (the calls the
attacker wants, e.g. ``send_money`` to the attacker's IBAN) are then checked
with ``taint_of(args)``. A call counts when its target value came from injected
content: some candidate value of its arguments (``extract_values``: an IBAN,
e-mail, URL, phone, amount..., in any spelling) appears in the injection text
and not in the prompt. *Tainted* means ``taint_of`` returned at least one
path; *tainted at the target* means one of the returned paths holds such a
value. Calls whose injected value is only a word of the injection (a user or
channel name, a password: outside the candidate kinds) are counted apart.

Legitimate calls: each call of a clean user-task ground truth, with the prompt
trusted and the outputs of the task's earlier calls untrusted. A tainted
legitimate call is not always wrong (a reply to an address read in an e-mail
does come from untrusted content); the breakdown by value kind and argument says
where the taint comes from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.security.agentdojo_runs import Call, SuiteRuns

ATTACK = "important_instructions"
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
VERBATIM_MIN = 4
EXAMPLES = 15


@dataclass(frozen=True, slots=True)
class Provenance:
    ledger: Callable[[], Any] | None
    source: Callable[..., Any] | None
    extract: Callable[[str], Iterable[Any]]
    why_not: str = ""


def load() -> Provenance:
    """The provenance module, or why it is not available (values still extracted)."""
    try:
        from proctor.scanners.provenance import ProvenanceLedger, Source, extract_values

        return Provenance(ProvenanceLedger, Source, extract_values)
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
    try:
        from proctor.scanners.candidates import extract_values as fallback
    except Exception:

        def fallback(text: str) -> Iterable[Any]:
            return ()

    return Provenance(None, None, fallback, why)


def _leaves(tree: Any, path: str = "$") -> Iterable[tuple[str, Any]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, f"{path}.{key}")
    elif isinstance(tree, list | tuple):
        for i, value in enumerate(tree):
            yield from _leaves(value, f"{path}[{i}]")
    else:
        yield path, tree


def injected_paths(
    args: dict[str, Any], injection: str, prompt: str, extract: Callable[[str], Iterable[Any]]
) -> tuple[set[str], set[str]]:
    """Argument paths whose value came from the injection text and not from the prompt.

    First the paths holding a candidate value (``extract_values``) of the injection
    that the prompt lacks; then the paths whose value is only a word of it
    (a user or channel name, a password), outside the candidate kinds.
    """
    injected_values = set(extract(injection)) - set(extract(prompt))
    candidate, free_text = set(), set()
    for path, leaf in _leaves(args):
        if leaf is None or isinstance(leaf, bool):
            continue
        text = str(leaf)
        if set(extract(text)) & injected_values:
            candidate.add(path)
        elif len(text) >= VERBATIM_MIN and _has_word(injection, text) and text not in prompt:
            free_text.add(path)
    return candidate, free_text


def _has_word(text: str, value: str) -> bool:
    return re.search(rf"(?<![\w/.-]){re.escape(value)}(?![\w/-])", text) is not None


def _ledger(provenance: Provenance, prompt: str, calls: Sequence[Call]) -> Any:
    assert provenance.ledger is not None
    assert provenance.source is not None
    ledger = provenance.ledger()
    ledger.add_trusted(prompt)
    for call in calls:
        at = (START + timedelta(seconds=call.index)).isoformat()
        ledger.add_untrusted(
            call.output, provenance.source(call.function, f"call-{call.index}", at)
        )
    return ledger


def _norm(path: str) -> str:
    return path.removeprefix("$").removeprefix(".")


def _covers(tainted: Iterable[str], path: str) -> bool:
    """``path`` is a tainted path or inside one (path spellings with or without ``$.``)."""
    target = _norm(path)
    return any((t := _norm(p)) == target or target.startswith((t + ".", t + "[")) for p in tainted)


def attacker_calls(runs: Sequence[SuiteRuns], provenance: Provenance) -> dict[str, Any]:
    per_suite: dict[str, Counter[str]] = {}
    misses: Counter[str] = Counter()
    free_text: Counter[str] = Counter()
    for suite in runs:
        counts = per_suite.setdefault(suite.suite, Counter())
        for run in suite.attacked:
            if run.attack != ATTACK or run.error:
                continue
            ledger = _ledger(provenance, run.prompt, run.calls) if provenance.ledger else None
            for function, args in run.attacker_calls:
                counts["attacker_calls"] += 1
                targets, words = injected_paths(
                    args, run.injection_text, run.prompt, provenance.extract
                )
                if words and not targets:
                    counts["free_text_only"] += 1
                    free_text[f"{function}({','.join(sorted(words))})"] += 1
                if not targets:
                    continue
                counts["from_injection"] += 1
                if ledger is None:
                    continue
                tainted = ledger.taint_of(args)
                counts["tainted"] += bool(tainted)
                at_target = any(_covers(tainted, path) for path in targets)
                counts["tainted_at_target"] += at_target
                if not at_target:
                    key = (
                        f"{suite.suite}/{run.injection_task} {function}: target "
                        f"{','.join(sorted(targets))}, tainted {','.join(sorted(tainted)) or '-'}"
                    )
                    misses[key] += 1
    total: Counter[str] = Counter()
    for counts in per_suite.values():
        total.update(counts)
    return {
        "available": provenance.ledger is not None,
        "why_not": provenance.why_not,
        "per_suite": {name: _shares(c) for name, c in per_suite.items()},
        "all": _shares(total),
        "missed": dict(misses.most_common(EXAMPLES)),
        "free_text_only": dict(free_text.most_common(EXAMPLES)),
    }


def _shares(counts: Counter[str]) -> dict[str, Any]:
    base = counts["from_injection"]
    return {
        "attacker_calls": counts["attacker_calls"],
        "from_injection": base,
        "free_text_only": counts["free_text_only"],
        "tainted": counts["tainted"] / base if base else None,
        "tainted_at_target": counts["tainted_at_target"] / base if base else None,
    }


def legitimate_calls(runs: Sequence[SuiteRuns], provenance: Provenance) -> dict[str, Any]:
    if provenance.ledger is None:
        return {"available": False, "why_not": provenance.why_not}
    calls = tainted = 0
    by_kind: Counter[str] = Counter()
    by_argument: Counter[str] = Counter()
    by_suite: dict[str, Counter[str]] = {}
    for suite in runs:
        counts = by_suite.setdefault(suite.suite, Counter())
        for run in suite.clean:
            for call in run.calls:
                ledger = _ledger(provenance, run.prompt, run.calls[: call.index])
                taint = ledger.taint_of(call.args)
                calls += 1
                counts["calls"] += 1
                if not taint:
                    continue
                tainted += 1
                counts["tainted"] += 1
                for path, why in taint.items():
                    by_kind[str(why.get("kind", "?"))] += 1
                    by_argument[f"{call.function}({path})"] += 1
    return {
        "available": True,
        "calls": calls,
        "tainted": tainted / calls if calls else None,
        "per_suite": {
            name: c["tainted"] / c["calls"] if c["calls"] else None for name, c in by_suite.items()
        },
        "by_kind": dict(by_kind.most_common()),
        "by_argument": dict(by_argument.most_common(25)),
    }
