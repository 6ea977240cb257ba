"""Loading policy files: locations, every error at once, hints, directories."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from proctor.errors import Location
from proctor.policy import PolicyLoadError, load_policies

BROKEN = """\
name: broken
version: 1
rules:
  - action: "read:*"
    effect: allow
    conditon: "true"
  - action: "write:email"
    effect: permit
  - action: "write:x"
    effect: allow
    when: "time.hour >= "
"""


def _errors(tmp_path: Path, text: str, name: str = "policy.yaml") -> PolicyLoadError:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyLoadError) as caught:
        load_policies([path])
    return caught.value


def test_shape_errors_of_a_file_are_reported_together_with_locations(tmp_path: Path) -> None:
    error = _errors(tmp_path, BROKEN)
    found = {(e.code, e.location.line if e.location else None) for e in error.errors}
    assert ("policy_unknown_key", 6) in found
    assert ("policy_invalid_effect", 8) in found
    unknown = next(e for e in error.errors if e.code == "policy_unknown_key")
    assert unknown.location == Location(str(tmp_path / "policy.yaml"), 6, 5)
    assert unknown.hint == "did you mean `conditions`?"
    invalid = next(e for e in error.errors if e.code == "policy_invalid_effect")
    assert invalid.hint == "did you mean `allow`?" or invalid.hint is None
    assert "`permit` is not a valid effect" in invalid.message


def test_expression_errors_point_inside_the_string(tmp_path: Path) -> None:
    text = 'name: p\nrules:\n  - action: "read:*"\n    effect: allow\n    when: "args.amount <= "\n'
    error = _errors(tmp_path, text)
    (only,) = error.errors
    assert only.code == "expr_syntax"
    assert only.location is not None
    assert only.location.line == 5
    assert only.location.column is not None
    assert only.location.column > 11


def test_every_expression_error_is_collected(tmp_path: Path) -> None:
    text = (
        "name: p\nrules:\n"
        '  - {action: "a:b", effect: allow, when: "nope.x > 1"}\n'
        '  - {action: "a:c", effect: allow, when: "args.x >"}\n'
        '  - {action: "a:ord*", effect: allow}\n'
    )
    codes = sorted(e.code for e in _errors(tmp_path, text).errors)
    assert codes == ["expr_syntax", "expr_unknown_root", "policy_invalid_action"]


def test_rendered_errors_name_file_line_and_column(tmp_path: Path) -> None:
    rendered = str(_errors(tmp_path, BROKEN))
    assert f"{tmp_path / 'policy.yaml'}:6:5: error[policy_unknown_key]" in rendered


def test_a_directory_loads_every_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nrules: [{action: 'read:*', effect: allow}]\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text("name: b\nrules: [{action: 'write:*', effect: deny}]\n")
    (tmp_path / "notes.txt").write_text("not a policy")
    compiled = load_policies([tmp_path])
    assert [p.name for p in compiled.policies] == ["a", "b"]


def test_several_documents_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("name: a\nrules: []\n---\nname: b\nrules: []\n")
    assert [p.name for p in load_policies([path]).policies] == ["a", "b"]


def test_a_missing_file_is_a_located_error(tmp_path: Path) -> None:
    error = _errors_for_paths([tmp_path / "missing.yaml"])
    assert error.errors[0].code == "policy_not_found"


def _errors_for_paths(paths: list[Path]) -> PolicyLoadError:
    with pytest.raises(PolicyLoadError) as caught:
        load_policies(paths)
    return caught.value


def test_errors_across_files_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nrulez: []\n")
    (tmp_path / "b.yaml").write_text("name: b\nrules: [{action: 'x:y', effect: nope}]\n")
    error = _errors_for_paths([tmp_path])
    assert {e.location.file for e in error.errors if e.location} == {
        str(tmp_path / "a.yaml"),
        str(tmp_path / "b.yaml"),
    }


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    error = _errors(tmp_path, "name: big\n# " + "x" * (9 * 1024 * 1024) + "\n")
    assert error.errors[0].code == "policy_too_large"


def alias_bomb(levels: int = 9) -> str:
    """A few hundred bytes of nested aliases that would expand to 9**levels values."""
    lines = ["name: bomb", 'l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]")
    lines.append("rules: [{action: 'read:*', effect: allow}]")
    return "\n".join(lines) + "\n"


def test_yaml_aliases_are_refused_where_they_are_written() -> None:
    started = time.perf_counter()
    with pytest.raises(PolicyLoadError) as caught:
        load_policies(texts=[alias_bomb()])
    assert time.perf_counter() - started < 5
    (error,) = caught.value.errors
    assert error.code == "yaml_alias"
    assert "`*l0`" in error.message
    assert error.location is not None
    assert (error.location.file, error.location.line, error.location.column) == (
        "<inline 1>",
        3,
        10,
    )


def test_an_anchor_without_an_alias_is_harmless() -> None:
    compiled = load_policies(texts=["name: p\nrules: &r [{action: 'read:*', effect: allow}]\n"])
    assert len(compiled.rules) == 1


def test_a_repeated_condition_is_compiled_once_and_a_repeated_error_is_located_each_time() -> None:
    rules = [
        {"action": f"read:t{n}", "effect": "allow", "when": "args.amount <= 5"} for n in (1, 2)
    ]
    policies = load_policies(texts=[yaml.safe_dump({"name": "p", "rules": rules})])
    first, second = (rule.conditions[0] for rule in policies.rules)
    assert first is second
    bad = [{"action": f"read:t{n}", "effect": "allow", "when": "args.amount <="} for n in (1, 2)]
    with pytest.raises(PolicyLoadError) as caught:
        load_policies(texts=[yaml.safe_dump({"name": "p", "rules": bad})])
    lines = sorted(error.location.line for error in caught.value.errors if error.location)
    assert len(lines) == 2
    assert lines[0] != lines[1]
