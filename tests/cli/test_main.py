"""The `proctor` group: commands load when they run, and `--help` and `check` stay light.

What a command imports is counted in a fresh interpreter (a subprocess running
the real entry point), never timed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from proctor.cli.main import COMMANDS, LazyGroup, cli

SEED = (
    Path(__file__).parents[2]
    / "examples"
    / "customer_service"
    / "policies"
    / "verified-agent-policy.yaml"
)
# the gateway, the dashboard, tracing, the MCP SDK, the HTTP client, PostgreSQL
EDGE_PACKAGES = (
    "starlette",
    "uvicorn",
    "jinja2",
    "opentelemetry",
    "mcp",
    "httpx",
    "psycopg",
)
# what no `--help` needs: the above, scanner libraries and the policy regex engine
HELP_FORBIDDEN = (*EDGE_PACKAGES, "phonenumbers", "re2")
# what a check without an `identity:` section, scanning or people to print for needs neither
CHECK_FORBIDDEN = (*EDGE_PACKAGES, "jwt", "cryptography", "phonenumbers", "stdnum", "rich")
HELP_MODULE_LIMIT = 300

_PROBE = """
import json, sys
out, args = sys.argv[1], json.loads(sys.argv[2])
sys.argv = ["proctor", *args]
from proctor.cli.main import main
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
with open(out, "w", encoding="utf-8") as file:
    json.dump({"code": code, "modules": sorted(sys.modules)}, file)
"""


def _run_counting(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `proctor ARGS` in a fresh interpreter; its result and the modules it loaded."""
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.is_file(), result.stderr
    probe = json.loads(out.read_text(encoding="utf-8"))
    assert probe["code"] in (0, None), result.stderr
    return result, set(probe["modules"])


def _loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in modules))


def test_help_loads_few_modules_and_no_heavy_package(tmp_path: Path) -> None:
    result, modules = _run_counting(tmp_path, "--help")
    assert "check" in result.stdout
    assert len(modules) <= HELP_MODULE_LIMIT, len(modules)
    assert _loaded(modules, HELP_FORBIDDEN) == []
    # no command's module is imported to list it
    assert not {m for m in modules if m.startswith("proctor.cli.") and m != "proctor.cli.main"}


def test_a_json_check_loads_only_what_a_check_needs(tmp_path: Path) -> None:
    result, modules = _run_counting(
        tmp_path,
        "check",
        "--policy",
        str(SEED),
        "--db",
        str(tmp_path / "audit.db"),
        "--agent",
        "bot",
        "--tier",
        "verified",
        "--json",
        "read:orders",
    )
    assert json.loads(result.stdout)["effect"] == "allow"
    assert _loaded(modules, CHECK_FORBIDDEN) == []


def test_each_command_loads_when_invoked_and_keeps_its_options() -> None:
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f"Usage: cli {name}" in result.output


def test_the_table_names_each_command_and_its_summary() -> None:
    for name, lazy in COMMANDS.items():
        command = lazy.load()
        assert command.name == name
        first_paragraph = (command.help or "").split("\n\n")[0]
        assert lazy.summary == first_paragraph, name


@pytest.mark.parametrize("width", [50, 80, 120])
def test_the_listing_is_what_the_loaded_commands_would_print(width: int) -> None:
    settings = {"help": cli.help, "params": cli.params, "context_settings": cli.context_settings}
    fresh = LazyGroup("cli", lazy_commands=COMMANDS, **settings)  # nothing loaded yet
    lazy = CliRunner().invoke(fresh, ["--help"], terminal_width=width)
    assert not fresh.commands
    eager = click.Group(
        "cli", commands={name: entry.load() for name, entry in COMMANDS.items()}, **settings
    )
    loaded = CliRunner().invoke(eager, ["--help"], terminal_width=width)
    assert lazy.exit_code == loaded.exit_code == 0
    assert lazy.output == loaded.output


def test_an_unknown_command_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "proctor.cli", "chek"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "No such command 'chek'" in result.stderr
