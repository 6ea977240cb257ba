"""canonical_json is RFC 8785: its fast path must print exactly what the reference prints."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from enum import Enum
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from proctor.audit.canonical import RecordShape, canonical_json, digest
from proctor.audit.errors import AUDIT_UNENCODABLE, AuditError
from tests.audit.factories import JSON_VALUES, TEXT


@settings(max_examples=2000)
@given(JSON_VALUES)
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


# -- RecordShape: a record's known keys, fewer checks, the same bytes -----------------------

_SHAPE = RecordShape(plain=("kind", "id", "seq"), nested=("args", "took"), sequences=("tags",))


class _Colour(Enum):
    RED = 1


class _Name(str):
    pass


# Values the shape's quick checks must not let through as plain: the general way decides.
_ODD = st.sampled_from(
    [math.nan, -math.inf, 2**60, 5.0, -0.0, 1e16, 1e-7, _Colour.RED, _Name("x"), object()]
)
_SLOT = st.one_of(TEXT, st.none(), st.integers(), JSON_VALUES, _ODD)


@settings(max_examples=1000)
@given(st.fixed_dictionaries(dict.fromkeys(("kind", "id", "seq", "args", "tags", "took"), _SLOT)))
@example({"kind": "a", "id": "b", "seq": 1, "args": {"n": 5.0}, "tags": [1.0], "took": 2.5})
@example({"kind": "a", "id": 1.5, "seq": 1, "args": {"\U0001f600": 1, "\uffff": 2}, "tags": (),
          "took": 0.1})  # fmt: skip
def test_record_shape_prints_what_canonical_json_prints(record: dict[str, Any]) -> None:
    assert _encoded(_SHAPE.canonical_json, dict(record)) == _encoded(canonical_json, record)


@pytest.mark.parametrize(
    "record",
    [
        {"kind": "a", "id": "b", "seq": 1, "args": {}, "tags": []},  # a key missing
        {"kind": "a", "id": "b", "seq": 1, "args": {}, "tags": [], "took": 1, "more": 1.0},
        {"kind": "a", "id": "b", "other": 1, "args": {}, "tags": [], "took": 1},  # another key
    ],
)
def test_record_shape_sends_other_keys_the_general_way(record: dict[str, Any]) -> None:
    assert _SHAPE.canonical_json(dict(record)) == canonical_json(record)


def test_record_shape_names_each_key_once_in_ascii() -> None:
    with pytest.raises(ValueError, match="each key once"):
        RecordShape(plain=("a", "b"), nested=("a",))
    with pytest.raises(ValueError, match="each key once"):
        RecordShape(plain=("a", "b"), nested=("c",), sequences=("b",))
    with pytest.raises(ValueError, match="in ASCII"):
        RecordShape(plain=("\u00e9",), nested=())
    one = RecordShape(plain=("a",), nested=("b",), sequences=("c",))
    assert one.canonical_json({"a": 1, "b": 2.0, "c": ["x", 3.0]}) == b'{"a":1,"b":2,"c":["x",3]}'
    assert one.canonical_json({"a": 1, "b": 2.0, "c": "xy"}) == b'{"a":1,"b":2,"c":"xy"}'


def _encoded(encode: Callable[[dict[str, Any]], bytes], record: dict[str, Any]) -> bytes | str:
    try:
        return encode(record)
    except AuditError as exc:
        return exc.code
