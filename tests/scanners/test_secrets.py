"""Secrets details: entropy, spans that cover only the secret, specific formats first."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.scanners import Direction, SecretScanner
from proctor.scanners.secrets import KEY_FORMATS, KeyFormat, shannon_entropy


def test_shannon_entropy() -> None:
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == pytest.approx(2.0)


def test_a_url_finding_covers_only_the_password() -> None:
    text = "redis://user:Pa55w0rdXyz@cache:6379"
    (finding,) = SecretScanner().scan(text, Direction.INPUT)
    assert text[finding.start : finding.end] == "Pa55w0rdXyz"


def test_a_known_format_wins_over_the_entropy_rule() -> None:
    text = "github_token = ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
    assert [f.type for f in SecretScanner().scan(text, Direction.INPUT)] == ["secret.github_token"]


def test_a_private_key_without_end_marker_is_still_found() -> None:
    (finding,) = SecretScanner().scan("-----BEGIN EC PRIVATE KEY-----\nMHcC", Direction.INPUT)
    assert finding.type == "secret.private_key"
    assert "no end marker" in finding.detail


def test_spans_are_character_offsets_in_non_ascii_text() -> None:
    text = "пароль ü api_key = 'Zx9Qw2Lm8Rt4Yp1Kc7Vb3Nj6'"
    (finding,) = SecretScanner().scan(text, Direction.INPUT)
    assert text[finding.start : finding.end] == "Zx9Qw2Lm8Rt4Yp1Kc7Vb3Nj6"


@pytest.mark.parametrize("spec", KEY_FORMATS, ids=[spec.type for spec in KEY_FORMATS])
def test_every_key_format_match_holds_one_of_its_hints(spec: KeyFormat) -> None:
    @settings(max_examples=60, deadline=None)
    @given(st.from_regex(spec.pattern, fullmatch=True))
    def holds_a_hint(text: str) -> None:
        if spec.pattern.search(text):
            assert any(hint in text for hint in spec.hints)

    holds_a_hint()
