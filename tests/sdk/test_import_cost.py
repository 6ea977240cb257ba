"""What an SDK process pays for `import proctor` and for a `Proctor` built from policy files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Loaded with a config file, a traced check or a scanning policy, never before.
_NOT_FOR_THE_CLASS = (
    "pydantic",
    "yaml",
    "importlib.metadata",
    "proctor.config",
    "proctor.telemetry",
    "proctor.policy.compiler",
    "proctor.policy.schema",
    "proctor.scanners.loading",
)
_NOT_FOR_POLICY_FILES = (
    "proctor.config",
    "proctor.telemetry",
    "proctor.webhooks",
    "proctor.judge_http",
)
_RSS_LIMIT_MB = 40


def _run(code: str) -> dict[str, object]:
    probe = (
        "import json, sys\n"
        "def rss_mb():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        f"{code}\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'rss_mb': rss_mb()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    result: dict[str, object] = json.loads(out.splitlines()[-1])
    return result


def _loaded(modules: object, names: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, list)
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_sdk_class_loads_no_compiler_config_or_pydantic() -> None:
    result = _run("import proctor\nproctor.Proctor")
    assert _loaded(result["modules"], _NOT_FOR_THE_CLASS) == []
    assert isinstance(result["rss_mb"], float)
    assert result["rss_mb"] <= _RSS_LIMIT_MB


def test_a_proctor_from_policy_files_loads_no_config_models_or_telemetry(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("name: t\nversion: 1\nrules:\n  - action: 'read:*'\n    effect: allow\n")
    result = _run(
        "import proctor\n"
        f"guard = proctor.Proctor.from_policies({str(policy)!r}, "
        "agents=[proctor.Agent('bot')], agent='bot')\n"
        "assert guard.check('read:x').allowed\n"
        "assert not guard.check('write:x').allowed"
    )
    assert _loaded(result["modules"], _NOT_FOR_POLICY_FILES) == []
