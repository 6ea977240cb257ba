"""Redaction: placeholders, masks and keyed hashes, in texts and nested trees."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from proctor.scanners.redaction import Redactor, Span

KEY = b"k" * 32
CARD = "4111 1111 1111 1111"


def test_each_mode_replaces_only_the_span() -> None:
    text = f"card {CARD} on file"
    start, end = 5, 5 + len(CARD)
    redactor = Redactor(KEY)
    assert redactor.text(text, [Span(None, start, end, "pii.payment_card")]) == (
        "card [pii.payment_card] on file"
    )
    masked = redactor.text(text, [Span(None, start, end, "pii.payment_card", "mask")])
    assert masked == "card " + "*" * (len(CARD) - 4) + "1111 on file"
    hashed = redactor.text(text, [Span(None, start, end, "pii.payment_card", "hash")])
    assert hashed.startswith("card [hash:")
    assert CARD not in hashed


def test_a_hash_is_stable_under_one_key_and_differs_under_another() -> None:
    span = [Span(None, 0, 5, "pii.email", "hash")]
    assert Redactor(KEY).text("alice", span) == Redactor(KEY).text("alice", span)
    assert Redactor(KEY).text("alice", span) != Redactor(b"other" * 8).text("alice", span)


def test_short_values_are_masked_whole() -> None:
    assert Redactor(KEY).text("1234", [Span(None, 0, 4, "pii.payment_card", "mask")]) == "****"


def test_overlapping_spans_merge_and_out_of_range_spans_are_clipped() -> None:
    redactor = Redactor(KEY)
    spans = [Span(None, 0, 6, "a"), Span(None, 3, 9, "b"), Span(None, 20, 40, "c")]
    assert redactor.text("0123456789", spans) == "[a][b]9"


def test_a_tree_is_redacted_at_the_paths_and_untouched_elsewhere() -> None:
    tree = {"name": "Ann", "cards": [{"number": CARD}], "note": {"text": "x"}}
    out = Redactor(KEY).tree(tree, [Span("$.cards[0].number", 0, len(CARD), "pii.payment_card")])
    assert out == {
        "name": "Ann",
        "cards": [{"number": "[pii.payment_card]"}],
        "note": {"text": "x"},
    }
    assert tree["cards"][0]["number"] == CARD  # a copy, never the caller's value
    assert out["note"] is tree["note"]  # untouched branches are shared


def test_a_bare_string_is_the_root_path() -> None:
    assert Redactor(KEY).tree("key AKIA", [Span("$", 4, 8, "secret.aws")]) == "key [secret.aws]"


@given(st.text(max_size=60), st.integers(0, 70), st.integers(0, 70))
def test_text_outside_the_span_is_kept(text: str, a: int, b: int) -> None:
    start, end = min(a, b), max(a, b)
    out = Redactor(KEY).text(text, [Span(None, start, end, "t")])
    assert out.startswith(text[: min(start, len(text))])
    if start < end and start < len(text):
        assert out.endswith(text[end:])
        assert "[t]" in out
    else:
        assert out == text


def test_keys_that_mask_alike_stay_apart() -> None:
    tree = {"a@x.io": 1, "[pii.email]": 2, "b@x.io": 3, "[pii.email]#2": 4}
    spans = [Span(f"$.<key:{i}>", 0, 6, "pii.email") for i in (0, 2)]
    out = Redactor(KEY).tree(tree, spans)
    assert out == {"[pii.email]#3": 1, "[pii.email]": 2, "[pii.email]#4": 3, "[pii.email]#2": 4}
