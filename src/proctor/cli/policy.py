"""``proctor policy validate|test|replay``, and the stored versions (``policy_versions``)."""

from __future__ import annotations

from pathlib import Path

import click

from proctor.cli import options
from proctor.cli.bundle import bundle
from proctor.cli.output import console, error_console, print_json
from proctor.cli.policy_versions import activate, diff, push, show, versions
from proctor.cli.replay import replay_command
from proctor.errors import ErrorGroup, ProctorError
from proctor.policy import load_policies
from proctor.sdk.policy_tests import run_test_file


@click.group()
def policy() -> None:
    """Check policy documents, run their tests and replay recorded calls against them."""


policy.add_command(replay_command)
for _command in (push, versions, activate, diff, show, bundle):
    policy.add_command(_command)


@policy.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@options.AS_JSON
def validate(paths: tuple[str, ...], as_json: bool) -> None:
    """Load the policy files and directories in PATHS and report every error."""
    try:
        compiled = load_policies(paths)
    except ProctorError as exc:
        errors = exc.errors if isinstance(exc, ErrorGroup) else [exc]
        if as_json:
            print_json({"valid": False, "errors": [error.to_dict() for error in errors]})
        else:
            for error in errors:
                error_console.print(error.render(), markup=False)
            error_console.print(
                f"{len(errors)} error{'s' if len(errors) != 1 else ''}", style="red"
            )
        raise SystemExit(1) from None
    warnings = [warning.to_dict() for warning in compiled.warnings]
    if as_json:
        print_json(
            {
                "valid": True,
                "policies": len(compiled.policies),
                "rules": len(compiled.rules),
                "warnings": warnings,
            }
        )
    else:
        for warning in compiled.warnings:
            error_console.print(
                warning.render().replace("error[", "warning[", 1), markup=False, style="yellow"
            )
        console.print(
            f"[green]ok[/]: {len(compiled.policies)} policies, {len(compiled.rules)} rules"
        )


@policy.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def test_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Run policy test files (YAML cases: request and expected decision)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        files.extend(sorted(path.rglob("*.yaml")) if path.is_dir() else [path])
    results = [result for file in files for result in run_test_file(file)]
    failed = [result for result in results if not result.passed]
    if as_json:
        print_json(
            {
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "cases": [
                    {
                        "file": r.file,
                        "name": r.name,
                        "passed": r.passed,
                        "message": r.message,
                        "decision": r.decision.to_dict() if r.decision else None,
                        "error_codes": list(r.error_codes),
                    }
                    for r in results
                ],
            }
        )
    else:
        for result in failed:
            console.print(f"[red]FAIL[/] {result.file} :: {result.name}: ", end="")
            console.print(result.message, markup=False)
        console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise SystemExit(1)
