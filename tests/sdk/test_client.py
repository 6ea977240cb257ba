"""``Proctor``: the seed usage, config files, closing and flushing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import proctor
from proctor import Proctor

EXAMPLE = Path(__file__).parents[2] / "examples" / "customer_service"


def test_the_seed_usage_works_as_written(tmp_path: Path) -> None:
    guard = Proctor.from_config(EXAMPLE / "proctor.yaml", audit=str(tmp_path / "a.db"))
    decision = guard.check("read:orders")
    assert decision.allowed
    assert decision.reason
    decision = guard.check("delete:customer")
    assert not decision.allowed
    assert decision.reason == "Verified agents cannot delete resources"
    guard.close()


def test_module_level_check_uses_the_configured_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROCTOR_CONFIG", raising=False)
    assert proctor.check("write:email").code == "not_configured"
    monkeypatch.setenv("PROCTOR_CONFIG", str(EXAMPLE / "proctor.yaml"))
    config = (
        (EXAMPLE / "proctor.yaml").read_text().replace("proctor-demo.db", str(tmp_path / "d.db"))
    )
    (tmp_path / "proctor.yaml").write_text(config.replace("policies/", str(EXAMPLE / "policies")))
    guard = proctor.configure(tmp_path / "proctor.yaml")
    try:
        decision = proctor.check("read:orders")
        assert decision.allowed, decision.reason
    finally:
        guard.close()


def test_records_are_flushed_when_the_interpreter_exits(tmp_path: Path) -> None:
    db = tmp_path / "exit.db"
    script = (
        "from proctor import Proctor\n"
        f"guard = Proctor.from_config({str(EXAMPLE / 'proctor.yaml')!r}, audit={str(db)!r})\n"
        "for n in range(2000):\n"
        "    guard.check('read:orders', args={'n': n})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    with Proctor.from_config(EXAMPLE / "proctor.yaml", audit=str(db)) as guard:
        assert guard.runtime.audit.count() == 2000
        assert guard.runtime.audit.verify().ok
