"""`proctor config validate`: every section checked, every error located, all at once."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from proctor.cli.main import cli

EXAMPLES = Path(__file__).parents[2] / "examples"
KEY = "a" * 64

BROKEN = f"""\
policies: [policies/]
roles:
  support: {{scopes: ["read:*"]}}
agents:
  - {{id: bot, role: support}}
users:
  me: {{scopes: ["read:*", "wri*te:x"]}}
scanning:
  scanners: [pii, no-such-scanner]
mcp_proxy:
  servers:
    git: {{command: [uvx, mcp-server-git], url: "http://127.0.0.1:9/mcp"}}
    "bad name": {{command: [x]}}
server:
  admin_keys:
    - {{id: root, sha256: {KEY}, scopes: [admin]}}
    - {{id: root, sha256: {"b" * 64}, scopes: [root]}}
"""

BAD_POLICY = """\
name: p
rules:
  - action: "read:*"
    effect: allow
    conditon: ["1 == 1"]
"""


def _validate(path: Path) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["config", "validate", "--json", str(path)])
    return result.exit_code, json.loads(result.output)


def test_the_examples_validate() -> None:
    for config in sorted(EXAMPLES.glob("*/proctor.yaml")):
        code, body = _validate(config)
        assert (code, body["errors"]) == (0, []), config


def test_every_section_reports_its_errors_with_locations(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.yaml").write_text(BAD_POLICY)
    config = tmp_path / "proctor.yaml"
    config.write_text(BROKEN)
    code, body = _validate(config)
    assert code == 1
    errors = body["errors"]
    assert isinstance(errors, list)
    found = {(e["code"], Path(e["location"]["file"]).name, e["location"]["line"]) for e in errors}
    assert ("policy_unknown_key", "p.yaml", 5) in found
    assert ("config_invalid_value", "proctor.yaml", 7) in found  # the user's scope
    assert ("config_invalid_value", "proctor.yaml", 12) in found  # command and url
    assert ("config_invalid_value", "proctor.yaml", 13) in found  # a name no action can hold
    assert ("config_duplicate_admin_key", "proctor.yaml", 17) in found
    assert ("config_invalid_value", "proctor.yaml", 17) in found  # unknown admin scope
    assert ("invalid_scanner", "proctor.yaml", 9) in found


def test_a_shape_error_is_located_and_the_text_form_names_it(tmp_path: Path) -> None:
    config = tmp_path / "proctor.yaml"
    config.write_text("policies: []\nsever: {}\n")
    result = CliRunner().invoke(cli, ["config", "validate", str(config)])
    assert result.exit_code == 1
    assert "proctor.yaml:2:1: error[config_unknown_key]: unknown key `sever`" in result.output


def test_a_missing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    code, body = _validate(tmp_path / "nope.yaml")
    assert code == 1
    assert [e["code"] for e in body["errors"]] == ["config_not_found"]  # type: ignore[union-attr]
