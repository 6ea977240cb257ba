"""The semantics corpus (tests/cases/*.yaml), run through the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.sdk.policy_tests import run_test_file

CASES = Path(__file__).parent / "cases"
FILES = sorted(CASES.glob("*.yaml"))


def _collect() -> list[tuple[Path, int]]:
    import yaml

    return [
        (file, index)
        for file in FILES
        for index, _ in enumerate(yaml.safe_load(file.read_text())["cases"])
    ]


def test_the_corpus_is_large_enough() -> None:
    assert len(_collect()) >= 80


@pytest.mark.parametrize("file", FILES, ids=lambda path: path.stem)
def test_library_decides_every_case(file: Path) -> None:
    results = run_test_file(file)
    failures = [f"{r.name}: {r.message}" for r in results if not r.passed]
    assert not failures, "\n".join(failures)


def test_cli_decides_every_case() -> None:
    result = CliRunner().invoke(cli, ["policy", "test", "--json", str(CASES)])
    body = json.loads(result.output)
    failures = [
        f"{c['file']}: {c['name']}: {c['message']}" for c in body["cases"] if not c["passed"]
    ]
    assert not failures, "\n".join(failures)
    assert body["passed"] == len(_collect())
    assert result.exit_code == 0


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    case = tmp_path / "wrong.yaml"
    case.write_text(
        "policy: {name: p, rules: [{action: 'read:*', effect: allow}]}\n"
        "agents: [{id: bot}]\n"
        "cases: [{name: wrong, action: read:x, agent: bot, expect: deny}]\n"
    )
    assert [r.passed for r in run_test_file(case)] == [False]
    result = CliRunner().invoke(cli, ["policy", "test", str(case)])
    assert result.exit_code == 1
    assert "1 failed" in result.output
