"""The `scanning:` section of proctor.yaml: checked at start-up, used by the runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.config import load_config
from proctor.errors import ProctorError
from proctor.runtime import Runtime, build_runtime

CONFIG = """\
policies: [policy.yaml]
default_agent: bot
agents: [{{id: bot}}]
storage: {{audit: ":memory:"}}
{scanning}
"""
POLICY = """\
name: p
scan:
  input: {secret: deny, pii: deny}
rules:
  - {action: "*:*", effect: allow}
"""


def _runtime(tmp_path: Path, scanning: str) -> Runtime:
    (tmp_path / "policy.yaml").write_text(POLICY)
    path = tmp_path / "proctor.yaml"
    path.write_text(CONFIG.format(scanning=scanning))
    return build_runtime(load_config(path))


def test_only_the_listed_scanners_run(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, "scanning: {scanners: [pii]}")
    assert not runtime.check(
        "write:x", args={"t": "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}
    ).denied
    assert runtime.check("write:x", args={"t": "mail ann@example.com"}).denied


def test_without_a_section_the_builtins_run(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, "")
    assert runtime.check("write:x", args={"t": "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}).denied


@pytest.mark.parametrize(
    ("section", "code"),
    [
        ("scanning: {scanners: [nope]}", "invalid_scanner"),
        (
            "scanning: {scanners: [pii], judge: {url: 'http://127.0.0.1:9'}}",
            "invalid_scanner_options",
        ),
        (
            "scanning: {scanners: [judge], judge: {url: 'http://127.0.0.1:9', timeout_s: -1}}",
            "invalid_scanner_options",
        ),
    ],
)
def test_a_bad_section_fails_at_start_up(tmp_path: Path, section: str, code: str) -> None:
    with pytest.raises(ProctorError) as caught:
        _runtime(tmp_path, section)
    assert caught.value.code == code


def test_an_unknown_key_is_a_located_config_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="scaners"):
        _runtime(tmp_path, "scanning: {scaners: [pii]}")
