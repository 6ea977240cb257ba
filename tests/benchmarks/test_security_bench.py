"""The security bench runs each section on a tiny sample (`make bench-security` has the numbers)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.security import agentdojo_runs, benign_corpus, format_files, pii_corpus
from benchmarks.security.run import main


def test_every_section_runs_on_a_tiny_sample(tmp_path: Path) -> None:
    output = tmp_path / "security.json"
    options = [
        "--quick",
        "--user-tasks=2",
        "--injection-tasks=1",
        "--attacks",
        "important_instructions",
        "direct",
        "--benign-size=40",
        "--pii-per-type=4",
        "--pii-per-national-id=2",
        "--pii-negatives=20",
        "--latency-texts=4",
        "--latency-rounds=1",
        "--skip-corpus-matrix",
        f"--output={output}",
    ]
    assert main(options) == 0
    document = json.loads(output.read_text())
    sections = {row["section"] for row in document["targets"]}
    assert sections == {
        "1 injection", "2 benign", "2b formats", "2c corpora", "3 provenance",
        "3b contamination", "4 pii", "4b phones", "5 latency",
    }  # fmt: skip
    assert not [row for row in document["targets"] if row["metric"] == "section failed"]
    runs = document["sections"]["injection"]["runs"]["banking"]
    assert runs["user_tasks"] == 2
    assert runs["injected_outputs"] > 0
    dated, table = output.with_suffix(".md").read_text().split("\n\n", 1)
    assert dated.startswith(f"Security bench, {document['generated_at']}")
    assert table.startswith("| section |")


def test_replayed_outputs_equal_agentdojo_per_task_injection() -> None:
    """One environment with the text in every seen vector gives AgentDojo's per-task outputs."""
    suite = agentdojo_runs.load_suites(["banking"])["banking"]
    collected = agentdojo_runs.collect(
        "banking", suite, attacks=["important_instructions"], user_tasks=2, injection_tasks=1
    )
    goal = next(iter(suite.injection_tasks.values()))
    for run in collected.attacked:
        task = suite.user_tasks[run.user_task]
        loader = agentdojo_runs.EnvironmentLoader(suite)
        vectors, _ = agentdojo_runs.injection_candidates(suite, loader, task)
        injections = dict.fromkeys(vectors, run.injection_text)
        environment = suite.load_and_inject_default_environment(injections)
        calls, _ = agentdojo_runs.execute(suite, task, environment)
        assert [c.output for c in calls] == [c.output for c in run.calls]
        assert run.injected
        assert run.injection_task == goal.ID


def test_corpora_are_deterministic_and_large_enough() -> None:
    assert benign_corpus.DEFAULT_SIZE >= 1_000
    first, second = benign_corpus.generate(60), benign_corpus.generate(50)
    assert [t.text for t in first[:50]] == [t.text for t in second]
    assert {t.category for t in first} == set(benign_corpus.CATEGORIES)
    corpus, _ = pii_corpus.generate(per_type=3, per_national_id=2, negatives=5)
    again, _ = pii_corpus.generate(per_type=3, per_national_id=2, negatives=5)
    assert corpus == again
    for item in corpus:
        for span in item.spans:
            assert item.text[span.start : span.end].strip()


def test_the_bench_and_the_classifier_read_disjoint_halves_of_the_files(tmp_path: Path) -> None:
    """Section 2b measures files the classifier never trained on (format_files.part_of)."""
    for n in range(40):
        (tmp_path / "share" / f"pkg{n}").mkdir(parents=True)
        (tmp_path / "share" / f"pkg{n}" / "data.csv").write_text("a,b\n" + "1,2\n" * 60)
    bench = format_files.files(("*.csv",), roots=[tmp_path], part="bench")
    train = format_files.files(("*.csv",), roots=[tmp_path], part="train")
    assert bench
    assert train
    assert not set(bench) & set(train)
    assert len(bench) + len(train) == 40
    assert format_files.files(("*.csv",), roots=[tmp_path]) == bench  # the bench's default
    # the split depends on the package's own path, not on where it is installed
    moved = Path("/elsewhere") / bench[0].relative_to(tmp_path)
    assert format_files.part_of(moved) == "bench"
