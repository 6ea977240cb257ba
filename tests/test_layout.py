"""The layout's size targets (docs/architecture.md): small modules, short runtime functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "proctor"
MODULE_LINES = 500
RUNTIME_FUNCTION_LINES = 60


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_is_over_500_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MODULE_LINES


def test_no_function_in_the_runtime_is_over_60_lines() -> None:
    long = []
    for path in sorted((SRC / "runtime").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > RUNTIME_FUNCTION_LINES:
                    long.append(f"{path.name}:{node.name} ({length} lines)")
    assert long == []
