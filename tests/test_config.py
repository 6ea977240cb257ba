"""`proctor.yaml`: located errors, hints, cross-checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.config import load_config
from proctor.errors import ErrorGroup, ProctorError


def _errors(tmp_path: Path, text: str) -> list[ProctorError]:
    path = tmp_path / "proctor.yaml"
    path.write_text(text)
    with pytest.raises(ErrorGroup) as caught:
        load_config(path)
    return caught.value.errors


def test_unknown_keys_get_a_hint_and_a_location(tmp_path: Path) -> None:
    (error,) = _errors(tmp_path, "policy: [a.yaml]\n")
    assert error.code == "config_unknown_key"
    assert error.hint == "did you mean `policies`?"
    assert error.location is not None
    assert (error.location.line, error.location.column) == (1, 1)


def test_an_agent_with_an_undefined_role(tmp_path: Path) -> None:
    text = "roles: {support: {scopes: ['read:*']}}\nagents:\n  - {id: bot, role: suport}\n"
    (error,) = _errors(tmp_path, text)
    assert error.code == "config_unknown_role"
    assert error.hint == "did you mean `support`?"
    assert error.location is not None
    assert error.location.line == 3


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = (
        "timezone: Mars/Olympus\n"
        "agents:\n  - {id: a, tier: godlike}\n"
        "roles: {r: {scopes: ['re*d:x']}}\n"
    )
    codes = sorted(error.code for error in _errors(tmp_path, text))
    assert codes == ["config_invalid_value"] * 3


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProctorError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert caught.value.code == "config_not_found"


def test_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "proctor.yaml"
    path.write_text("policies: [policies/]\nstorage: {audit: audit.db}\n")
    loaded = load_config(path)
    assert loaded.policy_paths == [tmp_path / "conf" / "policies"]
    assert loaded.audit_location == str(tmp_path / "conf" / "audit.db")


def test_yaml_aliases_in_the_config_are_refused_with_their_location(tmp_path: Path) -> None:
    path = tmp_path / "proctor.yaml"
    path.write_text("roles: &r {support: {scopes: ['read:*']}}\nusers: {a: *r}\n")
    with pytest.raises(ProctorError) as caught:
        load_config(path)
    assert caught.value.code == "yaml_alias"
    assert caught.value.location is not None
    assert (caught.value.location.line, caught.value.location.column) == (2, 12)
