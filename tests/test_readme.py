"""The README's quick starts, run exactly as printed, as a new user would, in an empty directory.

Each quick start is the code between ``<!-- quickstart: NAME -->`` and
``<!-- /quickstart -->``: its ``sh`` blocks run as they are in one bash script,
its ``python`` blocks are fed to ``python`` at that point of the script (same
working directory). ``proctor`` and ``python`` are this environment's.
The gateway quick start listens on 127.0.0.1:8700, as printed: it runs in a
network namespace of its own when the machine allows one, else only when the
port is free.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from tests.server.gateway import running_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
_SECTION = re.compile(r"<!-- quickstart: (\w+) -->\n(.*?)<!-- /quickstart -->", re.S)
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def quick_start(name: str) -> str:
    """The quick start ``name`` as one bash script."""
    sections = dict(_SECTION.findall(README))
    assert name in sections, f"README has no quick start `{name}`"
    parts: list[str] = []
    for language, code in _BLOCK.findall(sections[name]):
        if language == "sh":
            parts.append(code)
        elif language == "python":
            parts.append(f"python - <<'README_PYTHON'\n{code}README_PYTHON\n")
        else:
            raise AssertionError(f"quick start `{name}` has a `{language}` block")
    return "".join(parts)


def _isolated_network() -> list[str]:
    """A prefix that runs a command in a network namespace of its own, or ``[]``."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return []
    probe = subprocess.run(
        ["unshare", "-rn", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        return []
    return ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def _run(
    script: str, directory: Path, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCTOR_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(directory)
    process = subprocess.Popen(
        [*prefix, "bash", "-e", "-o", "pipefail", "-c", script],
        cwd=directory, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=240)
    finally:  # whatever the script left running in its session (a gateway) ends with the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_the_sdk_quick_start(tmp_path: Path) -> None:
    result = _run(quick_start("sdk"), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "held for a person: " in result.stdout
    assert re.search(
        r"decision\s+\S+\s+require_approval\s+write:orders\s+me\s+assistant", result.stdout
    )
    assert (tmp_path / "my-agent" / "proctor.db").is_file()


def test_the_gateway_quick_start(tmp_path: Path) -> None:
    prefix = _isolated_network()
    if not prefix:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", 8700)) == 0:
                pytest.skip("127.0.0.1:8700 is in use and no network namespace is available")
    result = _run(quick_start("gateway"), tmp_path, prefix)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert (answer["effect"], answer["rule_ids"]) == ("allow", ["reads"])
    assert "proctor serve: listening on http://127.0.0.1:8700" in result.stderr
    assert "dashboard  http://127.0.0.1:8700/ui" in result.stderr
    assert re.search(r"^pa_", result.stderr, re.M) is None  # the key never reached the screen


def test_the_gateway_walkthrough_admits_a_key_whose_entry_is_added(tmp_path: Path) -> None:
    """examples/gateway/proctor.yaml plus the entry `proctor admin-key` prints, as in the README."""
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples" / "gateway", examples / "gateway")
    shutil.copytree(ROOT / "examples" / "customer_service" / "policies",
                    examples / "customer_service" / "policies")  # fmt: skip
    assert "proctor admin-key --id pep --scope check" in README
    made = subprocess.run(
        [sys.executable, "-m", "proctor.cli", "admin-key", "--id", "pep", "--scope", "check"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    printed = json.loads(made.stdout)
    entry = printed["config_entry"]
    config = examples / "gateway" / "proctor.yaml"
    text = config.read_text()
    assert "  admin_keys: []\n" in text
    config.write_text(
        text.replace("  admin_keys: []\n", f"  admin_keys:\n    - {json.dumps(entry)}\n")
    )
    body = re.search(
        r"-d '(\{\"action\": \"read:orders\", \"agent\": \"support-bot\".*?\})'", README
    )
    assert body is not None
    with running_server(config) as server:
        answer = httpx.post(
            f"{server.url}/v1/check",
            content=body[1],
            headers={
                "Authorization": f"Bearer {printed['key']}",
                "Content-Type": "application/json",
            },
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["effect"] == "allow"
