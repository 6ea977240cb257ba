"""docs/security.md's table of attacks names tests that exist (a renamed test breaks the doc)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
DOC = (ROOT / "docs" / "security.md").read_text()


def _named_tests() -> list[tuple[str, str]]:
    section = DOC[DOC.index("## Attacks it is tested against") : DOC.index("## Hardening")]
    named: list[tuple[str, str]] = []
    path = ""
    for cell in re.findall(r"`([^`]+)`", section):
        if "::" not in cell:
            continue
        given, _, name = cell.partition("::")
        path = given or path
        named.append((path, name.split("[")[0]))
    return named


def test_every_attack_names_a_test_that_exists() -> None:
    named = _named_tests()
    assert len(named) >= 25
    for path, name in named:
        source = (ROOT / "tests" / path).read_text()
        assert f"def {name}(" in source, f"{path}::{name}"
