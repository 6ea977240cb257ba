"""Loading scanners: the default set leaves optional ones out; naming one loads it.

A real distribution is put on ``sys.path`` (a ``.dist-info`` with entry points),
so ``importlib.metadata`` finds its scanners the way it finds installed ones.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from proctor.scanners import Direction, Finding, ScanError
from proctor.scanners.errors import SCANNER_UNAVAILABLE
from proctor.scanners.loading import build_cascade, load_scanners

BUILT_IN = {"pii", "secrets", "injection"}


class OptionalProbe:
    name = "probe_optional"
    cost = 5
    types = frozenset({"probe"})
    optional = True

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]:
        return [Finding("probe.hit", 0, len(text), 1.0, self.name)]


def unavailable_probe() -> OptionalProbe:
    raise ScanError("the probe needs a model", code=SCANNER_UNAVAILABLE, hint="install it")


unavailable_probe.optional = True  # type: ignore[attr-defined]


@pytest.fixture
def probe_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "proctor_probe-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: proctor-probe\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(
        "[proctor.scanners]\n"
        "probe_optional = tests.scanners.test_loading:OptionalProbe\n"
        "probe_unavailable = tests.scanners.test_loading:unavailable_probe\n"
        "probe_presidio = proctor.scanners.presidio:PresidioScanner\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.usefixtures("probe_distribution")
def test_the_default_set_leaves_optional_scanners_out() -> None:
    names = {s.name for s in load_scanners()}
    assert names >= BUILT_IN
    assert not names & {"probe_optional", "presidio", "injection_judge"}


@pytest.mark.usefixtures("probe_distribution")
def test_an_optional_scanner_loads_by_name() -> None:
    (probe,) = load_scanners(["probe_optional"])
    assert probe.name == "probe_optional"
    cascade = build_cascade(["pii", "probe_optional"])
    assert [s.name for s in cascade.stages] == ["probe_optional", "pii"]


@pytest.mark.usefixtures("probe_distribution")
def test_a_scanner_that_cannot_be_built_keeps_its_own_error() -> None:
    with pytest.raises(ScanError) as caught:
        load_scanners(["probe_unavailable"])
    assert caught.value.code == SCANNER_UNAVAILABLE
    assert caught.value.hint == "install it"


def test_default_scanning_imports_no_optional_backend() -> None:
    code = (
        "import sys, proctor, proctor.scanners.presidio, proctor.scanners.judge;"
        "result = proctor.scan('mail bob@corp.io');"
        "print(sorted(s.scanner for s in result.stages));"
        "print('presidio_analyzer' in sys.modules or 'spacy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "presidio" not in out[0]
    assert "injection_judge" not in out[0]
    assert out[1] == "False"
