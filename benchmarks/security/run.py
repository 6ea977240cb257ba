"""``make bench-security``: proctor's content scanners measured on public and generated data.

    .venv/bin/python -m benchmarks.security            # everything (a few minutes)
    .venv/bin/python -m benchmarks.security --quick    # one suite, a few tasks

Sections (each runs with what is installed and says "not available" otherwise):

1. prompt injection in AgentDojo tool outputs, replayed offline
   (``agentdojo_runs``), stage 1 and stage 1+2, per suite and held-out suites;
2. the benign trigger-word corpus (``benign_corpus``), and benign texts by
   format (``format_corpus``: tables, CSV, JSON, logs, code, e-mails...), and the
   classifier's leave-one-corpus-out matrix (``corpus_matrix``);
3. provenance on AgentDojo: attacker calls and legitimate calls (``provenance_eval``),
   and run contamination (``contamination_eval``);
4. PII precision and recall per type on a Faker corpus (``pii_corpus``), phones in
   twelve locales and cards by issuer (``phone_corpus``);
5. latency of the cascade on 2 KB texts on one core, and memory (``latency``).

Results: one table on the terminal, ``benchmarks/results/security.json`` and
``security.md``. Exit status 0; with ``--strict`` 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmarks.security import (
    agentdojo_runs,
    benign_corpus,
    contamination_eval,
    corpus_matrix,
    format_corpus,
    injection_eval,
    latency,
    phone_corpus,
    pii_corpus,
    pii_eval,
    provenance_eval,
    stages,
)
from benchmarks.security.targets import (
    FAIL,
    Row,
    at_least,
    at_most,
    info,
    markdown,
    missing,
    print_table,
)

RESULTS = Path(__file__).resolve().parent.parent / "results"
RECALL, CLEAN, BENIGN, PROVENANCE, PII = 0.95, 0.02, 0.03, 0.95, 0.95
PHONE_RECALL, PHONE_PRECISION, CARD = 0.95, 0.98, 0.98
HELD_ATTACKER, HELD_LEGITIMATE = 0.98, 0.10
FORMAT_FLAGGED, ALL_FLAGGED = 0.01, 0.005
HELD_OUT_CORPUS = 0.85
P50_MS, P99_MS, MEMORY_MB = 2.0, 10.0, 150.0
STAGE_SETS = {"stage 1": False, "stage 1+2": True}


class Bench:
    """Runs the sections in order, collecting target rows, notes and raw results."""

    def __init__(self, options: argparse.Namespace, log: Callable[[str], None]) -> None:
        self.options = options
        self.log = log
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.details: list[str] = []  # lines under the results table (breakdowns)
        self.results: dict[str, Any] = {}
        self.runs: list[agentdojo_runs.SuiteRuns] = []
        self.texts: list[str] = []  # the generated corpora, reused by the latency section
        self.loaded = {
            name: stages.cascade(("injection",), with_classifier=model)
            for name, model in STAGE_SETS.items()
        }

    def section(self, key: str, title: str, body: Callable[[], None]) -> None:
        started = time.perf_counter()
        self.log(f"{title}")
        try:
            body()
        except Exception as exc:  # one broken section must not hide the others
            self.rows.append(missing(title, "section failed", "", f"{type(exc).__name__}: {exc}"))
            self.results[key] = {"error": f"{type(exc).__name__}: {exc}"}
        self.results.setdefault(key, {})["seconds"] = round(time.perf_counter() - started, 1)

    # 1. injection in AgentDojo tool outputs
    def agentdojo(self) -> None:
        o = self.options
        suites = agentdojo_runs.load_suites(o.suites, o.benchmark_version)
        for name, suite in suites.items():
            self.log(f"  replaying {name}")
            self.runs.append(
                agentdojo_runs.collect(
                    name,
                    suite,
                    attacks=o.attacks,
                    user_tasks=o.user_tasks,
                    injection_tasks=o.injection_tasks,
                )
            )
        out: dict[str, Any] = {"runs": injection_eval.run_counts(self.runs)}
        for stage, loaded in self.loaded.items():
            if loaded.cascade is None:
                for group in ("all suites", "held-out banking+slack"):
                    self.rows.append(
                        missing(
                            "1 injection",
                            f"{stage} recall, {group}",
                            ">= 95 %",
                            loaded.why_not[:120],
                        )
                    )
                out[stage] = {"available": False, "why_not": loaded.why_not}
                continue
            flagged = stages.injection_flagger(loaded.cascade)
            scores = injection_eval.score_suites(self.runs, flagged)
            out[stage] = {
                "available": True,
                "source": loaded.source,
                "scores": scores,
                "errors": injection_eval.errors(self.runs, flagged, loaded.cascade),
            }
            for group, label in (("all", "all suites"), ("held_out", "held-out banking+slack")):
                if group not in scores:
                    continue
                recall = scores[group]["recall"]
                metric = f"{stage} recall, {label}"
                # the recall target is for detection as shipped (both stages); patterns
                # alone are shown beside it, not held to it
                self.rows.append(
                    at_least("1 injection", metric, recall, RECALL)
                    if STAGE_SETS[stage]
                    else info("1 injection", metric, recall, note="patterns alone, for comparison")
                )
                self.rows.append(
                    at_most(
                        "1 injection",
                        f"{stage} clean outputs flagged, {label}",
                        scores[group]["clean_flagged"],
                        CLEAN,
                    )
                )
            self.rows += _breakdown(stage, scores)
        self.results["injection"] = out

    # 2. benign trigger-word corpus
    def benign(self) -> None:
        corpus = benign_corpus.generate(self.options.benign_size)
        self.texts += [item.text for item in corpus[:200]]
        out: dict[str, Any] = {"texts": len(corpus), "seed": benign_corpus.DEFAULT_SEED}
        for stage, loaded in self.loaded.items():
            if loaded.cascade is None:
                self.rows.append(
                    missing("2 benign", f"{stage} texts flagged", "<= 3 %", loaded.why_not[:120])
                )
                continue
            flagged = stages.injection_flagger(loaded.cascade)
            hits = [item for item in corpus if flagged(item.text)]
            by_category = Counter(item.category for item in hits)
            sentences: Counter[str] = Counter()
            only_together: list[dict[str, Any]] = []
            for item in hits:
                alone = [
                    template
                    for template, sentence in zip(item.templates, item.sentences, strict=True)
                    if flagged(sentence)
                ]
                sentences.update(alone)
                if not alone:
                    only_together.append(
                        {
                            "text": item.text,
                            "rules": stages.injection_rules(loaded.cascade, item.text),
                        }
                    )
            out[stage] = {
                "flagged": len(hits) / len(corpus),
                "by_category": {
                    c: by_category[c] / sum(1 for i in corpus if i.category == c)
                    for c in benign_corpus.CATEGORIES
                },
                "flagging_templates": dict(sentences.most_common(10)),
                "flagged_with_no_sentence_flagged_alone": len(only_together),
                "examples_flagged_with_no_sentence_flagged_alone": only_together[:8],
            }
            self.rows.append(
                at_most(
                    "2 benign",
                    f"{stage} texts flagged ({len(corpus):,})",
                    len(hits) / len(corpus),
                    BENIGN,
                )
            )
        self.results["benign"] = out

    # 2b. benign texts by format
    def formats(self) -> None:
        corpus, sources = format_corpus.generate(self.options.format_size)
        loaded = self.loaded["stage 1+2"]
        if loaded.cascade is None:
            self.rows.append(missing("2b formats", "texts flagged", "<= 1 %", loaded.why_not))
            return
        flagged = stages.injection_flagger(loaded.cascade)
        out: dict[str, Any] = {"seed": format_corpus.DEFAULT_SEED, "per_format": {}}
        total = hits = 0
        for name, texts in corpus.items():
            caught = [text for text in texts if flagged(text)]
            total += len(texts)
            hits += len(caught)
            out["per_format"][name] = {
                "texts": len(texts),
                "flagged": len(caught) / len(texts) if texts else None,
                "sources": sources.get(name, {}),
                "examples": [
                    {"text": text[:300], "rules": stages.injection_rules(loaded.cascade, text)}
                    for text in caught[:5]
                ],
            }
            self.rows.append(
                at_most(
                    "2b formats",
                    f"{name} flagged ({len(texts)})",
                    len(caught) / len(texts) if texts else None,
                    FORMAT_FLAGGED,
                    note=", ".join(f"{k} {v}" for k, v in sources.get(name, {}).items()),
                )
            )
        self.rows.append(
            at_most("2b formats", f"all formats flagged ({total:,})", hits / total, ALL_FLAGGED)
        )
        self.results["formats"] = out

    # 2c. leave one corpus out (the classifier retrained without each corpus in turn)
    def corpora(self) -> None:
        if self.options.skip_corpus_matrix:
            self.rows.append(missing("2c corpora", "held-out recall", ">= 85 %", "skipped"))
            return
        if self.options.corpus_matrix:  # written by the training script's --loco
            result = json.loads(self.options.corpus_matrix.read_text())
            read_from = f"matrix read from {self.options.corpus_matrix.name}, not retrained"
            self.rows.append(info("2c corpora", read_from, None))
        else:
            result = corpus_matrix.matrix(small=self.options.quick)
        for name in corpus_matrix.corpora(result):
            entry, size = result[name], result["corpora"][name]
            held, n = entry["held_out"], entry["held_out"]["n"]
            note = f"{size['attacks']:,} attacks; threshold {entry['held_out_threshold']}"
            self.rows += [
                at_least(
                    "2c corpora",
                    f"{name} held out, classifier alone: recall ({n:,})",
                    held["recall"],
                    HELD_OUT_CORPUS,
                    note=note,
                ),
                at_least(
                    "2c corpora",
                    f"{name} held out, cascade (rules + classifier): recall ({n:,})",
                    held.get("cascade"),
                    HELD_OUT_CORPUS,
                    note="stage 1's rules or the held-out model",
                ),
                info(
                    "2c corpora",
                    f"  {name} in corpus, classifier alone / cascade: recall "
                    f"({entry['in_corpus']['n']:,})",
                    entry["in_corpus"]["recall"],
                    note=f"cascade {_percent(entry['in_corpus'].get('cascade'))}; trained on all"
                    " corpora, validation split",
                ),
                info(
                    "2c corpora",
                    f"  {name}, rules alone: recall",
                    result.get("rules_alone", {}).get(name, {}).get("recall"),
                    note="stage 1, never trained",
                ),
            ]
        self.results["corpora"] = result

    # 3. provenance
    def provenance(self) -> None:
        loaded = provenance_eval.load()
        if not self.runs:
            self.rows.append(
                missing("3 provenance", "attacker calls tainted", ">= 95 %", "no AgentDojo runs")
            )
            return
        attacker = provenance_eval.attacker_calls(self.runs, loaded)
        legitimate = provenance_eval.legitimate_calls(self.runs, loaded)
        self.results["provenance"] = {"attacker": attacker, "legitimate": legitimate}
        if not attacker["available"]:
            self.rows.append(
                missing("3 provenance", "attacker calls tainted", ">= 95 %", loaded.why_not[:120])
            )
            return
        total = attacker["all"]
        note = (
            f"{total['from_injection']} of {total['attacker_calls']} calls carry an injected value"
        )
        self.rows.append(
            at_least(
                "3 provenance",
                "attacker calls tainted at the target",
                total["tainted_at_target"],
                PROVENANCE,
                note,
            )
        )
        for name, entry in attacker["per_suite"].items():
            self.rows.append(
                info(
                    "3 provenance",
                    f"  {name}: attacker calls tainted at the target",
                    entry["tainted_at_target"],
                )
            )
        kinds = ", ".join(f"{k} {v}" for k, v in list(legitimate["by_kind"].items())[:5])
        self.rows.append(
            info(
                "3 provenance",
                f"legitimate calls tainted ({legitimate['calls']})",
                legitimate["tainted"],
                note=f"by kind: {kinds}",
            )
        )

    # 3b. run contamination
    def contamination(self) -> None:
        loaded = self.loaded["stage 1+2"]
        if not self.runs or loaded.cascade is None:
            why = "no AgentDojo runs" if not self.runs else loaded.why_not[:120]
            self.rows.append(missing("3b contamination", "attacker calls held", ">= 98 %", why))
            return
        out = contamination_eval.evaluate(self.runs, stages.injection_findings(loaded.cascade))
        patterns = self.loaded["stage 1"].cascade
        if patterns is not None:
            out["attacker_stage_1"] = contamination_eval.attacker_held(
                self.runs, stages.injection_findings(patterns)
            )
        self.results["contamination"] = out
        self.contamination_rows(out)

    def contamination_rows(self, out: dict[str, Any]) -> None:
        rule, old = contamination_eval.RULE, contamination_eval.TAINT_RULE
        attacker, legitimate = out["attacker"], out["legitimate_consequential"]
        section = "3b contamination"
        self.rows.append(
            at_least(
                section,
                f"attacker calls held by {rule} ({attacker['calls']})",
                attacker["held"],
                HELD_ATTACKER,
                _parts(attacker),
            )
        )
        self.rows.append(
            at_most(
                section,
                f"legitimate consequential calls held by {rule} ({legitimate['calls']})",
                legitimate["held"],
                HELD_LEGITIMATE,
                note=_parts(legitimate),
            )
        )
        self.rows.append(
            info(section, f"  attacker calls held by {old}", attacker["held_by_taint_rule"])
        )
        self.rows.append(
            info(
                section,
                f"  legitimate consequential calls held by {old}",
                legitimate["held_by_taint_rule"],
                note="every value read from a tool output, e.g. the IBAN of the bill to pay",
            )
        )
        attacked = out["legitimate_in_attacked_runs"]
        for name, label in (("seen", "run.injection_seen"), ("injected", "injected(args)")):
            self.rows.append(
                info(
                    section,
                    f"  the user tasks' consequential calls in attacked runs ({attacked['calls']})"
                    f" held by {label}",
                    attacked[name],
                )
            )
        weak = out.get("attacker_stage_1")
        if weak is not None:
            for name, label in (
                ("held", rule),
                ("held_by_taint_rule", old),
                ("tainted_beyond_email", "tainted by a value other than an e-mail"),
            ):
                self.rows.append(
                    info(
                        section,
                        f"  stage 1 only (no classifier): attacker calls held by {label}",
                        weak[name],
                    )
                )
        self.rows.append(
            info(
                section,
                "  legitimate consequential calls tainted by a value other than an e-mail",
                legitimate["tainted_beyond_email"],
            )
        )
        held = round(legitimate["held_by_taint_rule"] * legitimate["calls"])
        seen = round(legitimate["seen"] * legitimate["calls"])
        self.details += [
            f"3b: the {held} legitimate consequential calls of {legitimate['calls']} held by {old}"
            f" ({seen} of them by run.injection_seen), by argument (suite/task call(argument):"
            " value kind from tool):",
            *(
                f"- {key}" + (f" (x{n})" if n > 1 else "")
                for key, n in out["legitimate_held_by_taint_rule"].items()
            ),
        ]

    # 4. PII
    def pii(self) -> None:
        corpus, dropped = pii_corpus.generate(
            per_type=self.options.pii_per_type,
            per_national_id=self.options.pii_per_national_id,
            negatives=self.options.pii_negatives,
        )
        self.texts += [item.text for item in corpus[::10]]
        cascade = stages.cascade(("pii",)).cascade
        assert cascade is not None
        out = pii_eval.evaluate(corpus, cascade)
        out["dropped_invalid_values"] = dropped
        self.results["pii"] = out
        for kind, entry in out["per_type"].items():
            name = kind.removeprefix("pii.")
            self.rows.append(at_least("4 pii", f"{name} precision", entry["precision"], PII))
            self.rows.append(
                at_least("4 pii", f"{name} recall ({entry['gold']})", entry["recall"], PII)
            )

    # 4b. phones by locale and cards by issuer
    def phones(self) -> None:
        corpus = phone_corpus.generate()
        cascade = stages.cascade(("pii",)).cascade
        assert cascade is not None
        out = pii_eval.evaluate(corpus, cascade)
        out["per_locale"] = pii_eval.recall_by_subtype(corpus, cascade)
        self.results["phones"] = out
        targets = {"pii.phone": (PHONE_RECALL, PHONE_PRECISION), "pii.payment_card": (CARD, CARD)}
        for kind, (recall, precision) in targets.items():
            entry = out["per_type"][kind]
            name = kind.removeprefix("pii.")
            self.rows.append(
                at_least("4b phones", f"{name} precision", entry["precision"], precision)
            )
            self.rows.append(
                at_least("4b phones", f"{name} recall ({entry['gold']})", entry["recall"], recall)
            )
        for subtype, recall in out["per_locale"].items():
            self.rows.append(info("4b phones", f"  recall, {subtype}", recall))

    # 5. latency and memory
    def latency(self) -> None:
        sources = [
            call.output for suite in self.runs for _, call in agentdojo_runs.outputs(suite.clean)
        ]
        sources += [
            call.output
            for suite in self.runs
            for run, call in agentdojo_runs.outputs(suite.attacked[:50])
            if call.index in run.injected
        ]
        sources += self.texts
        samples = latency.texts(sources, self.options.latency_texts)
        out: dict[str, Any] = {}
        sets = {
            "cascade (pii, secrets, injection)": (stages.BASE, False),
            "cascade + classifier": (stages.BASE, True),
            "stage 1 alone": (("injection",), False),
            "stage 1 + classifier": (("injection",), True),
        }
        loaded = {}
        for label, (names, model) in sets.items():
            attempt = stages.cascade(names, with_classifier=model)
            if attempt.cascade is not None:
                loaded[label] = attempt.cascade
                continue
            out[label] = {"available": False, "why_not": attempt.why_not}
            if label.startswith("cascade"):
                self.rows.append(
                    missing("5 latency", f"{label} p50", "<= 2 ms", attempt.why_not[:120])
                )
        measured = latency.measure(loaded, samples, self.options.latency_rounds)
        for label, timing in measured.items():
            out[label] = timing
            if label.startswith("cascade"):
                load = f"load average {timing['load_average_1m']:.1f}"
                speed = f"reference loop {timing['reference_ms']:.2f} ms"
                cpu_p50, cpu_p99 = timing["cpu_p50_ms"], timing["cpu_p99_ms"]
                self.rows.append(
                    at_most(
                        "5 latency",
                        f"{label} p50",
                        timing["p50_ms"],
                        P50_MS,
                        "ms",
                        f"cpu time {cpu_p50:.2f} ms; {load}; {speed}",
                    )
                )
                self.rows.append(
                    at_most(
                        "5 latency",
                        f"{label} p99",
                        timing["p99_ms"],
                        P99_MS,
                        "ms",
                        f"cpu time {cpu_p99:.2f} ms",
                    )
                )
            else:
                self.rows.append(
                    info(
                        "5 latency",
                        f"{label} p50 / p99",
                        timing["p50_ms"],
                        "ms",
                        note=(
                            f"p99 {timing['p99_ms']:.2f} ms; cpu p50 {timing['cpu_p50_ms']:.2f},"
                            f" p99 {timing['cpu_p99_ms']:.2f} ms"
                        ),
                    )
                )
        memory = latency.memory()
        out["memory"] = memory
        if memory.get("available"):
            stages_loaded = ", ".join(memory["stages"])
            self.rows.append(
                at_most(
                    "5 latency",
                    "memory of the loaded scanners (RSS delta)",
                    memory["delta_mb"],
                    MEMORY_MB,
                    "MB",
                    stages_loaded,
                )
            )
        else:
            self.rows.append(
                missing(
                    "5 latency",
                    "memory of the loaded scanners",
                    "<= 150 MB",
                    memory.get("why_not", ""),
                )
            )
        self.results["latency"] = out


def _breakdown(stage: str, scores: dict[str, dict[str, Any]]) -> list[Row]:
    """Per suite and per attack, reported without a verdict (the verdict is on the totals)."""
    rows = []
    for name, entry in scores.items():
        if name in ("all", "held_out"):
            continue
        clean = entry["clean_flagged"]
        note = f"clean flagged {clean * 100:.1f} % of {entry['clean']}" if entry["clean"] else ""
        label = name.replace("attack:", "attack ")
        rows.append(info("1 injection", f"  {stage} recall, {label}", entry["recall"], note=note))
    return rows


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.security", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="one suite, few tasks, small corpora")
    parser.add_argument("--suites", nargs="+", default=list(agentdojo_runs.SUITES))
    parser.add_argument("--attacks", nargs="+", default=list(agentdojo_runs.ATTACKS))
    parser.add_argument("--benchmark-version", default=agentdojo_runs.BENCHMARK_VERSION)
    parser.add_argument("--user-tasks", type=int, default=None, help="first N user tasks per suite")
    parser.add_argument("--injection-tasks", type=int, default=None)
    parser.add_argument("--benign-size", type=int, default=benign_corpus.DEFAULT_SIZE)
    parser.add_argument("--format-size", type=int, default=format_corpus.PER_FORMAT)
    parser.add_argument("--pii-per-type", type=int, default=pii_corpus.PER_TYPE)
    parser.add_argument("--pii-per-national-id", type=int, default=pii_corpus.PER_NATIONAL_ID)
    parser.add_argument("--pii-negatives", type=int, default=pii_corpus.NEGATIVES)
    parser.add_argument("--latency-texts", type=int, default=latency.TEXTS)
    parser.add_argument("--latency-rounds", type=int, default=latency.ROUNDS)
    parser.add_argument(
        "--skip-corpus-matrix", action="store_true", help="skip 2c (retrains eight models)"
    )
    parser.add_argument(
        "--corpus-matrix",
        type=Path,
        help="2c from this file (scripts/train_injection_classifier.py --loco FILE), no retraining",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "security.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args(argv)
    if options.quick:
        options.suites = ["banking"]
        options.user_tasks = options.user_tasks or 3
        options.injection_tasks = options.injection_tasks or 2
        options.benign_size = min(options.benign_size, 100)
        options.format_size = min(options.format_size, 40)
        options.pii_per_type = min(options.pii_per_type, 15)
        options.pii_per_national_id = min(options.pii_per_national_id, 5)
        options.pii_negatives = min(options.pii_negatives, 100)
        options.latency_texts = min(options.latency_texts, 20)
        options.latency_rounds = min(options.latency_rounds, 2)
    return options


PARTS = (("injected", "injected"), ("seen", "injection seen"), ("tainted", "tainted"))


def _parts(shares: dict[str, Any]) -> str:
    """Which part of the rule held how many: injected, seen, and tainted for comparison."""
    return ", ".join(
        f"{name} {shares[key] * 100:.1f} %" for key, name in PARTS if shares[key] is not None
    )


NOTES = (
    "1: AgentDojo {version} replayed offline, no model: each user task's ground-truth calls run"
    " clean and with each injection task's goal placed by each attack in the vectors the task"
    " sees; an output is injected when it shows a vector (canary run) and differs from the clean"
    " run's output of the same call."
    " Flagged = an injection finding with score >= {flag}.",
    "1: the stage 2 classifier is trained on workspace and travel only; banking and slack are"
    " held out.",
    "2: {benign} generated texts (emails, IT tickets, release notes, recipes, HR notices), seed"
    " {seed}, full of words attacks use; none from BIPIA, NotInject or presidio-research.",
    "2b: at least {formats} benign texts per format from files installed here (Debian docs,"
    " changelogs, logs, dpkg status; PyPI packages' code and data) and generated records,"
    " e-mails, answers and advisories, seed {format_seed}; flagged as in section 1. Only the"
    " files whose path hashes to the bench half (format_files.part_of); the classifier trains"
    " on the other half, with another seed.",
    "2c: the classifier retrained without each positive corpus in turn (same benign data,"
    " same threshold calibration), recall on the corpus left out; in corpus = a model trained"
    " on all corpora, on the corpus's validation split. Each for the classifier alone and for"
    " the cascade a policy sees (stage 1's rules OR the classifier; the rules are never"
    " retrained). Tensor Trust and WASP (no licence / CC BY-NC) and the jailbreaks are"
    " measured here only; the shipped model learns from the other four.",
    "3: attacker calls = injection tasks' ground-truth calls after the user task ran with the"
    " important_instructions attack; counted when a candidate value of the arguments is in the"
    " injection text and not in the prompt.",
    "3b: each run replayed through the runtime's ContentGuard: prompt trusted, earlier outputs"
    " untrusted, an output with an injection finding (patterns + classifier, score >= 0.5)"
    " contaminates the run (run.injection_seen) and names the values within 200 characters of"
    " the finding (injected(args)); held = injected(args) OR run.injection_seen. Attacker calls"
    " after the user task ran with important_instructions; legitimate = clean ground-truth calls"
    " that send, write, share, delete, pay or book. The earlier rule, tainted(args) OR"
    " run.injection_seen, is reported beside it.",
    "4: Faker values (several locales, seed {pii_seed}) checked by the reference validators, in"
    " template sentences, plus look-alike negatives; a finding counts at score >= {flag},"
    " matched by span overlap.",
    "4b: Faker phone numbers of 12 locales as each writes them (kept when phonenumbers says"
    " valid in the locale's region), 15 % with an extension, 15 % with a doubled space; cards of"
    " 10 issuers with spaces, dashes or dots; negatives: dates, times, versions, order numbers,"
    " amounts; counted at score >= {flag}.",
    "5: 2,048-character mixes of tool outputs, benign and PII texts; one core; the scanner sets"
    " take turns a round each; wall clock (CPU time of the thread in the note); reference loop ="
    " sum(range(10,000)) timed between rounds, ~0.2 ms on a quiet 2.5 GHz core; memory = RSS"
    " growth of a fresh interpreter loading the scanners.",
)


def run(options: argparse.Namespace, log: Callable[[str], None] = print) -> Bench:
    bench = Bench(options, log)
    bench.section("injection", "1 injection in AgentDojo tool outputs", bench.agentdojo)
    bench.section("benign", "2 benign trigger-word corpus", bench.benign)
    bench.section("formats", "2b benign texts by format", bench.formats)
    bench.section("corpora", "2c leave one corpus out", bench.corpora)
    bench.section("provenance", "3 provenance on AgentDojo", bench.provenance)
    bench.section("contamination", "3b run contamination on AgentDojo", bench.contamination)
    bench.section("pii", "4 PII per type", bench.pii)
    bench.section("phones", "4b phones by locale, cards by issuer", bench.phones)
    bench.section("latency", "5 latency and memory", bench.latency)
    bench.notes = [
        n.format(
            version=options.benchmark_version,
            flag=stages.FLAG_SCORE,
            benign=options.benign_size,
            seed=benign_corpus.DEFAULT_SEED,
            formats=options.format_size,
            format_seed=format_corpus.DEFAULT_SEED,
            pii_seed=pii_corpus.DEFAULT_SEED,
        )
        for n in NOTES
    ]
    return bench


def main(argv: Sequence[str] | None = None) -> int:
    options = _parse(argv)
    started = time.perf_counter()
    bench = run(options)
    elapsed = time.perf_counter() - started
    print_table(bench.rows, [*bench.notes, f"bench took {elapsed:.0f} s"])
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "packages": {p: _version(p) for p in ("proctor", "agentdojo", "faker", "scikit-learn")},
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()},
        "seconds": round(elapsed, 1),
        "targets": [row.to_dict() for row in bench.rows],
        "notes": bench.notes,
        "details": bench.details,
        "sections": bench.results,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    heading = (
        f"Security bench, {document['generated_at']} (`make bench-security`; method in"
        " docs/security-bench.md)\n\n"
    )
    details = "\n".join(bench.details)
    table = markdown(bench.rows) + (f"\n{details}\n" if details else "")
    options.output.with_suffix(".md").write_text(heading + table)
    print(f"results: {options.output} and {options.output.with_suffix('.md').name}")
    return 1 if options.strict and any(r.status == FAIL for r in bench.rows) else 0


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"
