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


def test_a_long_text_is_scanned_whole_in_chunks() -> None:
    bounds = Bounds(chunk_chars=1000, overlap_chars=100)
    middle = "x " * 5000
    text = "mail bob@corp.io " + middle + " AKIAIOSFODNN7EXAMPLE " + middle + "SSN 078-05-1120"
    result = _cascade(bounds).scan(text)
    assert result.of_type("scan.truncated") == ()
    (key,) = result.of_type("secret.aws_access_key")
    assert text[key.start : key.end] == "AKIAIOSFODNN7EXAMPLE"  # offsets are in the whole text
    assert len(result.of_type("pii.email")) == 1


@pytest.mark.parametrize("shift", [*range(-25, 5), *range(80, 100)])  # 900 and 1000
def test_a_finding_across_a_chunk_boundary_is_found_once(shift: int) -> None:
    bounds = Bounds(chunk_chars=1000, overlap_chars=100)
    secret = "AKIAIOSFODNN7EXAMPLE"
    at = 900 + shift  # the second chunk starts at 900 (1000 - 100); the first ends at 1000
    text = "a " * (at // 2) + " " * (at % 2) + secret + " b" * 1000
    assert text[at : at + len(secret)] == secret
    found = _cascade(bounds).scan(text).of_type("secret.aws_access_key")
    assert [(f.start, f.end) for f in found] == [(at, at + len(secret))]


def test_past_the_bound_per_call_the_rest_is_not_scanned_and_said_so() -> None:
    bounds = Bounds(chunk_chars=1000, overlap_chars=100, max_chars=3000)
    text = "a" * 3500 + " AKIAIOSFODNN7EXAMPLE "
    result = _cascade(bounds).scan(text)
    assert result.of_type("secret") == ()
    (note,) = result.of_type("scan.truncated")
    assert (note.start, note.end) == (3000, len(text))
    assert "at most 3000 characters are scanned per call" in note.detail
    tree = {"a": "b" * 2500, "c": "d" * 2500}  # the bound is for the whole call
    (cut,) = _cascade(bounds).scan_arguments(tree).of_type("scan.truncated")
    # the keys `a` and `c` are scanned too: 3000 - 2500 - 2 characters of `$.c` are read
    assert cut.path == "$.c"
    assert (cut.start, cut.end) == (498, 2500)


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
    started = time.process_time()  # own CPU: a busy machine does not count
    cascade.scan(text)
    assert time.process_time() - started < 2.0
