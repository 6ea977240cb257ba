"""The benchmark results as rich tables (terminal) and as markdown (for the README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ENGINES = ("proctor", "cedarpy", "regopy")


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def latency_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for size, entry in results["sizes"].items():
        for engine in ENGINES:
            latency = entry["latency"].get(engine)
            if latency is None:
                continue
            if engine == "proctor":
                check = entry["cross_check"]["proctor_vs_reference"]
                agreement = f"{check['agreed']:,}/{check['pool']:,} vs reference"
            else:
                check = entry["cross_check"][engine]
                agreement = f"{check['agreed']:,}/{check['pool']:,} vs proctor"
                if check["time_bounded"]:
                    agreement += " (time-bounded)"
            samples = f"{latency['samples']:,} ({latency['rounds']}×{latency['per_round']:,})"
            if latency["time_bounded"]:
                samples += " time-bounded"
            rows.append(
                [
                    f"{int(size):,}",
                    engine,
                    _num(entry["compile_s"][engine], 2),
                    _num(latency["p50_us"], 2),
                    _num(latency["p99_us"], 2),
                    _num(latency["throughput_per_s"], 0),
                    samples,
                    agreement,
                ]
            )
    return rows


LATENCY_HEADERS = [
    "rules",
    "engine",
    "compile s",
    "p50 µs",
    "p99 µs",
    "decisions/s",
    "timed calls",
    "cross-check",
]
POOL_HEADERS = [
    "rules",
    "requests",
    "no rule's action matches",
    "candidate rules (mean/max)",
    "allowed",
    "denied by a rule",
    "denied by default",
    "a condition false",
    "cedarpy batch decisions/s",
]
FULL_HEADERS = [
    "durability",
    "threads",
    "checks",
    "issued/s",
    "durable/s (incl. flush)",
    "p50 µs",
    "p99 µs",
    "rows / expected",
    "lost",
    "verify",
]
TARGET_HEADERS = ["target", "value", "threshold", "result"]


def pool_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for size, entry in results["sizes"].items():
        pool = entry["pool"]
        batch = entry.get("cedarpy_batch", {}).get("decisions_per_s")
        rows.append(
            [
                f"{int(size):,}",
                f"{pool['requests']:,}",
                f"{pool['no_candidate']:,}",
                f"{pool['candidates_mean']:.2f} / {pool['candidates_max']}",
                f"{pool['allowed']:,}",
                f"{pool['denied_by_rule']:,}",
                f"{pool['denied_by_default']:,}",
                f"{pool['condition_false']:,}",
                _num(batch, 0),
            ]
        )
    return rows


def full_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key in ("batched", "sync"):
        run = results.get("full_check", {}).get(key)
        if run is None:
            continue
        verify = "ok" if run["verify_ok"] else f"BROKEN: {run['verify_problem']}"
        rows.append(
            [
                key,
                str(run["threads"]),
                f"{run['checks']:,}" + (" (time-bounded)" if run["time_bounded"] else ""),
                _num(run["checks_per_s_issued"], 0),
                _num(run["checks_per_s_durable"], 0),
                _num(run["p50_us"], 1),
                _num(run["p99_us"], 1),
                f"{run['rows']:,} / {run['expected_rows']:,}",
                str(run["lost"]),
                f"{verify} ({run['verify_checked']:,})",
            ]
        )
    return rows


def _threshold(value: float) -> str:
    return _num(value, 0 if float(value).is_integer() else 2)


def target_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for target in results["targets"]:
        value = target["value"]
        shown = "n/a" if value is None else f"{_num(value, 2)} {target['unit']}"
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[target["passed"]]
        rows.append(
            [
                target["target"],
                shown,
                "none (reported)"
                if target["threshold"] is None
                else f"{target['comparison']} {_threshold(target['threshold'])} {target['unit']}",
                verdict,
            ]
        )
    return rows


def ratio_rows(results: dict[str, Any]) -> list[list[str]]:
    names = {
        "cedarpy_over_proctor_p50_at_1000": "p50: cedarpy / proctor at 1,000 rules",
        "regopy_over_proctor_p50_at_1000": "p50: regopy / proctor at 1,000 rules",
        "proctor_over_cedarpy_throughput_at_1000": "decisions/s: proctor / cedarpy at 1,000",
        "proctor_over_regopy_throughput_at_1000": "decisions/s: proctor / regopy at 1,000",
        "proctor_p50_10000_over_10": "proctor p50 at 10,000 / at 10 rules",
        "proctor_p50_per_candidate_10000_over_10": (
            "same, per candidate rule (10,000 vs 10 rules)"
        ),
    }
    for size in results["sizes"]:
        names[f"proctor_over_indexed_p50_at_{size}"] = (
            f"p50: proctor / the indexed floor at {int(size):,} rules, paired rounds"
        )
    return [[names.get(key, key), f"{value:,.2f}×"] for key, value in results["ratios"].items()]


FLOOR_HEADERS = [
    "rules",
    "proctor p50 µs",
    "indexed floor p50 µs",
    "proctor ÷ floor (median of rounds)",
    "rounds' ratios",
    "proctor's rounds, µs",
]


def floor_rows(results: dict[str, Any]) -> list[list[str]]:
    """Proctor's engine timed round by round beside a bare indexed evaluator (indexed.py)."""
    rows = []
    for size, entry in results["sizes"].items():
        floor = entry.get("indexed_floor")
        if not floor:
            continue
        low, high = floor["ratio_spread"]
        fast, slow = floor["proctor_spread_us"]
        rows.append(
            [
                f"{int(size):,}",
                _num(floor["proctor_p50_us"], 2),
                _num(floor["indexed_p50_us"], 2),
                f"{floor['proctor_over_indexed_p50']:.2f}× ({floor['rounds']} rounds)",
                f"{low:.2f}-{high:.2f}×",
                f"{fast:.2f}-{slow:.2f}",
            ]
        )
    return rows


def hotspot_rows(spots: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            spot["function"],
            f"{spot['calls']:,}",
            f"{spot['own_us_per_decision']:.3f}",
            f"{spot['cumulative_us_per_decision']:.3f}",
            f"{spot['own_share'] * 100:.1f}%",
        ]
        for spot in spots
    ]


HOTSPOT_HEADERS = [
    "function (file:line:name)",
    "calls",
    "own µs/op",
    "cum µs/op",
    "own",
]


def print_report(results: dict[str, Any], console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    def table(title: str, headers: list[str], rows: list[list[str]], *, style: bool = False) -> Any:
        out = Table(title=title, title_justify="left")
        for index, header in enumerate(headers):
            out.add_column(header, justify="left" if index < 2 else "right", overflow="fold")
        for row in rows:
            if style and row[-1] in ("PASS", "FAIL"):
                colour = "green" if row[-1] == "PASS" else "bold red"
                row = [*row[:-1], f"[{colour}]{row[-1]}[/]"]
            out.add_row(*row)
        return out

    machine = results["machine"]
    console.print(
        f"[bold]proctor benchmark[/]  {machine['date']}  {machine['cpu_count']} CPUs "
        f"({machine['cpu_model']})  Python {machine['python']}  "
        f"cedarpy {machine['libraries']['cedarpy']}  regopy {machine['libraries']['regopy']}  "
        f"timer overhead {results['timer_overhead_ns']:.0f} ns"
    )
    for engine, path in results["fast_paths"].items():
        console.print(f"  [bold]{engine}[/] fast path: {escape(path)}", highlight=False)
    console.print(table("Request pools (reference semantics)", POOL_HEADERS, pool_rows(results)))
    console.print(
        table("Per-decision latency (medians over rounds)", LATENCY_HEADERS, latency_rows(results))
    )
    if floor_rows(results):
        console.print(
            table(
                "proctor's engine beside the indexed floor (benchmarks/indexed.py), same rounds",
                FLOOR_HEADERS,
                floor_rows(results),
            )
        )
    if results.get("full_check"):
        console.print(
            table(
                f"Full Proctor.check() with the SQLite audit store on disk "
                f"({results['config']['full_check_rules']:,} rules)",
                FULL_HEADERS,
                full_rows(results),
            )
        )
    console.print(table("Ratios", ["ratio", "value"], ratio_rows(results)))
    console.print(table("Targets", TARGET_HEADERS, target_rows(results), style=True))
    hot = results.get("hotspots")
    if hot:
        for title, headers, rows in hotspot_tables(hot):
            console.print(table(title, headers, rows))


def hotspot_tables(hot: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The profiling findings as (title, headers, rows) tables."""
    out: list[tuple[str, list[str], list[list[str]]]] = []
    attribution = hot.get("attribution")
    if attribution:
        out.append(
            (
                "Where one full check's time goes (single thread, µs per check)",
                ["part", "µs"],
                [
                    [
                        "Proctor.check with no store (engine + runtime)",
                        f"{attribution['check_path_no_store_us']:.2f}",
                    ],
                    [
                        "  of which: CompiledPolicySet.evaluate (p50, measured above)",
                        _num(attribution.get("engine_p50_us"), 2),
                    ],
                    [
                        "  of which: a decision id (DecisionIds, idle machine)",
                        f"{attribution['decision_id_us_idle']:.2f}",
                    ],
                    [
                        "SQLite audit writer alone, per record (encode, chain, insert, commit)",
                        f"{attribution['sqlite_writer_alone_us']:.2f}",
                    ],
                    [
                        "  of which: chain_event (RFC 8785, SHA-256) + columns",
                        f"{attribution['writer_python_per_record_us']:.2f}",
                    ],
                    ["sum: both run Python under one GIL", f"{attribution['sum_us']:.2f}"],
                    [
                        "upper bound on sustained checks/s = 1e6 / sum",
                        f"{attribution['bound_checks_per_s']:,.0f}",
                    ],
                ],
            )
        )
    components = hot.get("components")
    if components:
        out.append(
            (
                "Pieces of the check path, unprofiled (µs per call, median of passes)",
                ["function", "µs"],
                [
                    [
                        item["function"],
                        _num(item["us_per_call"], 2)
                        if "error" not in item
                        else f"n/a ({item['error']})",
                    ]
                    for item in components
                ],
            )
        )
    engine = hot["engine"]
    out.append(
        (
            f"cProfile: CompiledPolicySet.evaluate at {engine['rules']:,} rules "
            f"({engine['profiled_us_per_decision']:.2f} µs/decision under the profiler)",
            HOTSPOT_HEADERS,
            hotspot_rows(engine["top"]),
        )
    )
    for key, unit in (("check_path", "check"), ("audit_writer", "record")):
        part = hot.get(key)
        if part:
            out.append(
                (
                    f"cProfile: {part['note']} "
                    f"({part[f'profiled_us_per_{unit}']:.2f} µs/{unit} under the profiler)",
                    HOTSPOT_HEADERS,
                    hotspot_rows(part["top"]),
                )
            )
    return out


def _markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_markdown(results: dict[str, Any], path: Path) -> None:
    machine = results["machine"]
    parts = [
        "<!-- generated by `make bench` (benchmarks/run.py); do not edit by hand -->",
        f"Measured {machine['date']} on {machine['cpu_count']} CPUs ({machine['cpu_model']}), "
        f"Python {machine['python']}, cedarpy {machine['libraries']['cedarpy']}, "
        f"regopy {machine['libraries']['regopy']}. Latency: medians over rounds of per-call "
        "`perf_counter_ns` timings with GC off; each engine on its fast path "
        "(compiled once, evaluated many times).",
        "",
        _markdown_table(LATENCY_HEADERS, latency_rows(results)),
        "",
    ]
    floors = floor_rows(results)
    if floors:
        parts += [
            "proctor's engine beside a bare indexed evaluator of the same rules "
            "(`benchmarks/indexed.py`), timed in the same rounds, in alternating order:",
            "",
            _markdown_table(FLOOR_HEADERS, floors),
            "",
        ]
    if results.get("full_check"):
        parts += [
            f"Full `Proctor.check()` with the SQLite audit store on disk "
            f"({results['config']['full_check_rules']:,} rules):",
            "",
            _markdown_table(FULL_HEADERS, full_rows(results)),
            "",
        ]
    parts += [_markdown_table(TARGET_HEADERS, target_rows(results)), ""]
    hot = results.get("hotspots")
    if hot:
        parts += ["<details><summary>Profiling (cProfile)</summary>", ""]
        for title, headers, rows in hotspot_tables(hot):
            parts += [f"**{title}**", "", _markdown_table(headers, rows), ""]
        parts += ["</details>", ""]
    path.write_text("\n".join(parts), encoding="utf-8")
