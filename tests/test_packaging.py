"""The sdist and the wheel ship listed files only, and the installed `proctor demo` runs.

The build runs on a copy of the sources into which a used checkout's leftovers
are planted (the demo's signing key, audit databases, caches): none may ship,
whatever is on disk. The wheel then goes into a fresh virtual environment that
sees this one's dependencies but not its sources, and `proctor demo` runs in an
empty directory without writing into the installed package.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEFTOVERS = (
    "examples/sales_assistant/proctor-keys.json",
    "examples/customer_service/proctor-demo.db",
    "examples/customer_service/proctor-demo.db-wal",
    "examples/customer_service/__pycache__/scenario.cpython-311.pyc",
    "src/proctor/audit.db",
    "src/proctor/__pycache__/stray.cpython-311.pyc",
    "src/proctor/server/ui/static/admin.ui-secret",
)
FORBIDDEN = ("proctor-keys.json", ".db", ".db-wal", "__pycache__", ".pyc", "ui-secret", ".pytest")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) of a copy of the sources with leftovers planted; the wheel from the sdist."""
    if importlib.util.find_spec("build") is None or importlib.util.find_spec("hatchling") is None:
        pytest.fail("`build` and `hatchling` are missing: install the dev extras (`make test`)")
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("src", "examples"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("*.db*"))
    for leftover in LEFTOVERS:
        (source / leftover).parent.mkdir(parents=True, exist_ok=True)
        (source / leftover).write_text("secret\n")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
        env=_clean_environment(),
        timeout=300,
    )
    return next(dist.glob("*.tar.gz")), next(dist.glob("*.whl"))


def test_the_sdist_ships_no_key_database_or_cache(built: tuple[Path, Path]) -> None:
    with tarfile.open(built[0]) as archive:
        names = archive.getnames()
    _assert_clean(names)
    assert not any("/tests/" in name or "node_modules" in name for name in names)
    assert any(name.endswith("/src/proctor/py.typed") for name in names)


def test_the_wheel_ships_no_key_database_or_cache(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[1]) as archive:
        names = archive.namelist()
    _assert_clean(names)
    for kept in _example_files():  # every file of the examples, and only those
        assert f"proctor/_examples/{kept}" in names
    shipped = {name.removeprefix("proctor/_examples/") for name in names if "_examples" in name}
    assert shipped == set(_example_files())
    assert "proctor/scanners/data/injection_model.bin" in names
    assert "proctor/server/ui/templates/base.html" in names


def _bare_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv without pip whose dependencies come from this environment: its directory
    and site-packages. No network; a plain path entry, so this environment's own .pth files
    (this checkout's editable install) are not processed."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv, site


def test_the_installed_demo_runs_in_an_empty_directory(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    venv, site = _bare_venv(tmp_path)
    python = venv / "bin" / "python"
    install = ["install", "--quiet", "--no-deps", "--no-index", str(built[1])]
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *install],
        check=True,
        capture_output=True,
        env=_clean_environment(),
        timeout=120,
    )
    package = site / "proctor"
    assert (package / "_examples" / "customer_service" / "scenario.py").is_file()
    before = _files(package)
    workdir = tmp_path / "empty"
    workdir.mkdir()
    result = subprocess.run(
        [str(venv / "bin" / "proctor"), "demo"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=_clean_environment(),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "audit chain verified" in result.stdout
    where = subprocess.run(
        [str(python), "-c", "import proctor; print(proctor.__file__)"],
        capture_output=True,
        text=True,
        env=_clean_environment(),
        check=True,
    ).stdout
    assert where.startswith(str(package)), "the demo ran this checkout, not the wheel"
    assert _files(package) == before, "the demo wrote into the installed package"
    assert (workdir / "proctor-demo.db").is_file()


def _assert_clean(names: list[str]) -> None:
    shipped = [name for name in names if any(mark in name for mark in FORBIDDEN)]
    assert shipped == []


def _example_files() -> list[str]:
    base = ROOT / "examples"
    return sorted(
        str(path.relative_to(base))
        for path in base.rglob("*")
        if path.suffix in {".py", ".yaml"} and "__pycache__" not in path.parts
    )


def _files(root: Path) -> set[str]:
    """Every file under ``root`` but compiled bytecode (pip writes it; Python may add more)."""
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _clean_environment() -> dict[str, str]:
    """This environment without the test run's PYTHONPATH (it points at this checkout)."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


MCP_ONE = "1.30.0"  # the last 1.x: what `langchain-mcp-adapters` (mcp<2) resolves to
ADAPTERS = "0.3.2"


def test_the_mcp_range_takes_both_sdk_eras() -> None:
    """`proctor[langchain]` beside `langchain-mcp-adapters` (mcp>=1.24,<2) must resolve."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (mcp,) = [Requirement(r) for r in project["dependencies"] if r.startswith("mcp")]
    assert mcp.specifier.contains(MCP_ONE)
    assert mcp.specifier.contains("2.3.0")


def test_the_proxy_runs_on_the_mcp_sdk_langchain_mcp_adapters_needs(tmp_path: Path) -> None:
    """A venv with mcp 1.x and langchain-mcp-adapters (from the registry) over this one's
    other dependencies: a proxy there reaches an HTTP upstream (a proxy on mcp 2.x)."""
    python = _bare_venv(tmp_path)[0] / "bin" / "python"
    wanted = [
        f"mcp=={MCP_ONE}",
        f"langchain-mcp-adapters=={ADAPTERS}",
        "httpx-sse",
        "pydantic-settings",
    ]
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    installed = subprocess.run(
        [*pip, "--no-deps", *wanted],
        capture_output=True,
        text=True,
        env=_clean_environment(),
        timeout=300,
    )
    if installed.returncode != 0 and "connection" in installed.stderr.lower():
        pytest.skip(f"the package registry is unreachable: {installed.stderr[-300:]}")
    assert installed.returncode == 0, installed.stderr
    sources = {**_clean_environment(), "PYTHONPATH": str(ROOT / "src"), "PROCTOR_AGENT": "bot"}
    versions = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, langchain_mcp_adapters, proctor.mcp"
            ".http_upstream; print(m.version('mcp'))",
        ],
        capture_output=True,
        text=True,
        env=sources,
        check=True,
    )
    assert versions.stdout.strip() == MCP_ONE
    policy = tmp_path / "policy.yaml"
    policy.write_text('name: p\nrules: [{id: any, action: "call:*", effect: allow}]\n')
    marker = tmp_path / "touched"
    port = _free_port()
    raw = [sys.executable, str(ROOT / "tests" / "mcp" / "servers" / "raw_server.py")]
    proxy = ["-m", "proctor.cli", "mcp-proxy", "--policy", str(policy), "--name", "raw"]
    listen = ["--listen", f"127.0.0.1:{port}", "--", *raw]
    upstream = subprocess.Popen(
        [sys.executable, *proxy, "--db", str(tmp_path / "a.db"), *listen],
        env=sources,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port, upstream)
        reach = ["--upstream", f"http://127.0.0.1:{port}/mcp"]
        front = subprocess.Popen(
            [str(python), *proxy, "--db", str(tmp_path / "b.db"), *reach],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=sources,
        )
        assert front.stdin is not None
        assert front.stdout is not None
        hello = {"protocolVersion": "2025-06-18", "capabilities": {}}
        hello["clientInfo"] = {"name": "t", "version": "1"}
        for message in (
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "touch", "arguments": {"path": str(marker)}},
            },
        ):
            front.stdin.write(json.dumps(message).encode() + b"\n")
            front.stdin.flush()
            if "id" in message:
                answer = json.loads(front.stdout.readline())
                assert "result" in answer, answer
        _, err = front.communicate(timeout=60)
        assert front.returncode == 0, err.decode()[-2000:]
    finally:
        upstream.terminate()
        upstream.wait(30)
    assert marker.read_text() == "ran"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the upstream proxy exited"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)  # polling a process start-up, not waiting for time to pass
    raise AssertionError("the upstream proxy did not start")
