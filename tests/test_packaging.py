"""The sdist and the wheel ship listed files only, and the installed `proctor demo` runs.

The build runs on a copy of the sources into which a used checkout's leftovers
are planted (the demo's signing key, audit databases, caches): none may ship,
whatever is on disk. The wheel then goes into a fresh virtual environment that
sees this one's dependencies but not its sources, and `proctor demo` runs in an
empty directory without writing into the installed package.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
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


def test_the_installed_demo_runs_in_an_empty_directory(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
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
    # the dependencies come from this environment (no network); a plain path entry, so its
    # own .pth files (this checkout's editable install) are not processed
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
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
