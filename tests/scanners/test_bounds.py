"""Bad input: huge texts, bytes that are not UTF-8, deep arguments, pathological regex input."""

from __future__ import annotations

import time
from typing import Any

import pytest

from proctor.scanners import Bounds, Cascade, InjectionScanner, PiiScanner, SecretScanner
from proctor.scanners.bounds import decode, segments, strings_in
from proctor.sdk.scanning import build_cascade


def _cascade(bounds: Bounds | None = None) -> Cascade:
    return Cascade(
        [PiiScanner(), SecretScanner(), InjectionScanner()],
        timer=time.perf_counter,
        budget_ms=10_000,
        bounds=bounds,
    )


def test_a_huge_text_is_scanned_at_both_ends_and_says_so() -> None:
    bounds = Bounds(edge_chars=1000)
    middle = "x " * 5000
    text = "mail bob@corp.io " + middle + "SSN 000-00-0000 key AKIAIOSFODNN7EXAMPLE"
    result = _cascade(bounds).scan(text)
    truncated = result.of_type("scan.truncated")
    assert len(truncated) == 1
    assert truncated[0].start == 1000
    assert truncated[0].end == len(text) - 1000
    assert "scanned the first and last 1000" in truncated[0].detail
    (key,) = result.of_type("secret.aws_access_key")
    assert text[key.start : key.end] == "AKIAIOSFODNN7EXAMPLE"  # offsets are in the whole text
    assert result.of_type("pii.email")


def test_what_sits_in_the_skipped_middle_is_not_found() -> None:
    text = "a" * 3000 + " AKIAIOSFODNN7EXAMPLE " + "a" * 3000
    result = _cascade(Bounds(edge_chars=1000)).scan(text)
    assert result.of_type("secret") == ()
    assert result.of_type("scan.truncated")


def test_a_small_text_is_one_segment() -> None:
    parts, notes = segments("short", Bounds())
    assert [(p.offset, p.text) for p in parts] == [(0, "short")]
    assert notes == []


def test_invalid_utf8_is_replaced_and_reported() -> None:
    text, notes = decode(b"key AKIAIOSFODNN7EXAMPLE \xff\xfe end")
    assert "\ufffd" in text
    assert [n.type for n in notes] == ["content.invalid_utf8"]
    result = _cascade().scan_bytes(b"key AKIAIOSFODNN7EXAMPLE \xff\xfe end")
    assert result.of_type("content.invalid_utf8")
    assert result.of_type("secret.aws_access_key")


def test_binary_is_reported() -> None:
    data = bytes(range(256)) * 4
    result = _cascade().scan_bytes(data)
    assert result.of_type("content.binary")


def test_nested_arguments_carry_their_path() -> None:
    args = {"to": "bob@corp.io", "items": [{"note": "card 4111 1111 1111 1111"}]}
    result = _cascade().scan_arguments(args)
    paths = {f.type: f.path for f in result.findings}
    assert paths["pii.email"] == "$.to"
    assert paths["pii.payment_card"] == "$.items[0].note"


def test_deep_nesting_is_cut_without_recursion_errors() -> None:
    deep: Any = "AKIAIOSFODNN7EXAMPLE"
    for _ in range(100_000):
        deep = [deep]
    texts, notes = strings_in(deep, Bounds(max_depth=32))
    assert texts == []
    assert [n.type for n in notes] == ["scan.truncated"]
    assert "deeper than 32" in notes[0].detail


def test_wide_arguments_are_cut_at_the_node_limit() -> None:
    wide = {f"k{i}": "v" for i in range(50)}
    texts, notes = strings_in(wide, Bounds(max_nodes=20))
    assert len(texts) < 20
    assert "more than 20 values" in notes[0].detail


PATHOLOGICAL = [
    "a" * 50_000 + "!",
    "@" * 20_000,
    "a@" * 20_000,
    ("a." * 20_000) + "@",
    "1 " * 20_000,
    "1-" * 20_000,
    "1." * 20_000,
    ":" * 20_000 + "g",
    "a:" * 20_000,
    "ignore " * 10_000,
    "ignore all " * 5_000 + "x",
    "password=" * 5_000,
    "api_key" * 5_000 + "=",
    "A" * 50_000,
    "eyJ" * 10_000,
    "<!--" * 10_000,
    "sk-" + "a" * 50_000,
    "-----BEGIN PRIVATE KEY-----" * 2_000,
    "\u200b" * 20_000,
    "а" * 20_000,  # cyrillic look-alike
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda t: repr(t[:12]))
def test_pathological_input_stays_fast(text: str) -> None:
    cascade = build_cascade(budget_ms=10_000)
    started = time.perf_counter()
    cascade.scan(text)
    assert time.perf_counter() - started < 2.0
