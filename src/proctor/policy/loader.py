"""Loading policy documents from files, directories and strings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path

from proctor.errors import Location
from proctor.policy.compiler import compile_sources
from proctor.policy.errors import PolicyError, PolicyLoadError
from proctor.policy.evaluate import CompiledPolicySet
from proctor.policy.source import PolicySource

POLICY_SUFFIXES = (".yaml", ".yml")


def load_policies(
    paths: Iterable[str | Path] = (), *, texts: Iterable[str] = (), timezone: tzinfo | None = None
) -> CompiledPolicySet:
    """Compile the policy files and directories in ``paths`` and inline ``texts`` into one set.

    A directory contributes its ``*.yaml``/``*.yml`` files, recursively, in
    name order. Raises ``PolicyLoadError`` carrying every error found.
    """
    sources, errors = collect_sources(paths)
    if errors:
        raise PolicyLoadError(list(errors))
    sources.extend(PolicySource(text, f"<inline {n + 1}>") for n, text in enumerate(texts))
    return compile_sources(sources, timezone=timezone)


def collect_sources(paths: Iterable[str | Path]) -> tuple[list[PolicySource], list[PolicyError]]:
    sources: list[PolicySource] = []
    errors: list[PolicyError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.suffix in POLICY_SUFFIXES and p.is_file()
            )
            if not files:
                errors.append(
                    PolicyError(
                        "the directory holds no `.yaml` policy files",
                        code="policy_not_found",
                        location=Location(str(path)),
                    )
                )
        elif path.is_file():
            files = [path]
        else:
            errors.append(
                PolicyError(
                    "no such policy file or directory",
                    code="policy_not_found",
                    location=Location(str(path)),
                )
            )
            continue
        for file in files:
            try:
                sources.append(PolicySource(file.read_text(encoding="utf-8"), str(file)))
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(
                    PolicyError(
                        f"cannot read the file: {exc}",
                        code="policy_unreadable",
                        location=Location(str(file)),
                    )
                )
    return sources, errors
