"""canonical_json is RFC 8785: its fast path must print exactly what the reference prints."""

from __future__ import annotations

import hashlib
import math

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from proctor.audit.canonical import canonical_json, digest
from proctor.audit.errors import AUDIT_UNENCODABLE, AuditError

# Characters that stress escaping and key order: controls, quotes, the BMP's
# top (U+E000-U+FFFF sorts differently by code point and by UTF-16), astral.
_TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "\uffff"]),
        st.sampled_from(["\U00010000", "\U0001f600", "\U0010ffff"]),
    ),
    max_size=8,
)
_NUMBERS = st.one_of(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-4, 1e-5, 1e16, 1e21, 1e-7, 2.0**53, 0.1 + 0.2, 5e-324]),
)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXT),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(_TEXT, inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=2000)
@given(_JSON)
@example({"\U0001f600": 1, "\uffff": 2, "a": [1.0, -0.0, 1e-4, 9.999999999999999e-05]})
@example([1e15, 1e16, 123456789012345.6, 2.0**53 - 1, 2.0**53, 1e-4, -1e-4])
def test_fast_path_matches_the_reference(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_rfc8785_appendix_example() -> None:
    # RFC 8785 §3.2.2 sample input and its canonical form (numbers and escapes).
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],'
        '"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_keys_sort_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FFFF (code point order says after).
    assert canonical_json({"\uffff": 1, "\U0001f600": 2}) == '{"😀":2,"\uffff":1}'.encode()


def test_digest_is_sha256_of_the_canonical_bytes() -> None:
    value = {"b": [1, 2.5], "a": "x"}
    expected = hashlib.sha256(b'{"a":"x","b":[1,2.5]}').hexdigest()
    assert digest(value) == f"sha256:{expected}"


def test_integral_floats_print_as_integers() -> None:
    assert canonical_json([5.0, -0.0, 1e20]) == b"[5,0,100000000000000000000]"


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        {"n": -math.inf},
        2**53,
        {"big": -(2**60)},
        "lone \ud800 surrogate",
        {1: "int key"},
        {"when": object()},
        {"\udfff": 1},
    ],
)
def test_values_outside_jcs_raise_audit_error(value: object) -> None:
    with pytest.raises(AuditError) as caught:
        canonical_json(value)
    assert caught.value.code == AUDIT_UNENCODABLE


def test_cycles_raise_audit_error() -> None:
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(AuditError):
        canonical_json({"a": looped})


def test_names_seen_before_do_not_let_other_keys_skip_their_checks() -> None:
    from enum import StrEnum

    class Name(StrEnum):
        ACTION = "action"

    canonical_json({"action": 1, "\uffff": 2})  # both names now known to sort alike
    for value in (
        {Name.ACTION: 1},  # equal to a known name, but not a plain str
        {"action": 1, "\U0001f600": 2, "\uffff": 3},  # a new name beyond U+FFFF
    ):
        assert canonical_json(value) == rfc8785.dumps(value)
    with pytest.raises(AuditError):
        canonical_json({"action": 1, 7: 2})
