"""Canonical JSON: the JSON Canonicalization Scheme, RFC 8785 (JCS).

Every audit hash is taken over these bytes, so equal records hash equally in
any process and any language with a JCS implementation.

``rfc8785.dumps`` is the reference encoder and is always correct, but it is
pure Python: about 40 µs for a decision record, against about 1 µs for
``orjson.dumps`` with sorted keys. orjson writes compact UTF-8 and escapes
strings the way RFC 8785 §3.2.2.2 prescribes, so ``canonical_json`` uses it
whenever it provably agrees, and falls back to the reference otherwise:

- numbers (RFC 8785 §3.2.2.3): integers within ±(2**53 - 1) print alike;
  integral floats below 2**53 are printed as the integer they equal; other
  finite floats print alike exactly when ``repr`` uses neither an exponent nor
  a trailing ``.0``, which holds for non-integral values with
  ``1e-4 <= |x| < 1e16``. Anything else goes to the reference.
- key order (RFC 8785 §3.2.3) is by UTF-16 code units; orjson orders by
  code points. The two agree unless a key holds a character beyond U+FFFF.
- lone surrogates, non-string keys, NaN and other errors: the reference
  decides (and raises).

``tests/audit/test_canonical.py`` checks the agreement on generated values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import orjson
import rfc8785

from proctor.audit.errors import AUDIT_UNENCODABLE, AuditError

_MIN_FAST_FLOAT = 1e-4
_MAX_EXACT_FLOAT = float(2**53)

# Keys sorted; an integer beyond ±(2**53 - 1) raises (OPT_STRICT_INTEGER), so the
# reference decides it (and refuses it), and the walk below need not compare each int.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _fast_dumps(value: Any) -> bytes:
    # orjson: compact, UTF-8, keys sorted, control characters escaped as RFC 8785 §3.2.2.2 says
    return orjson.dumps(value, option=_OPTIONS)


class _NeedsReference(Exception):
    """The fast path cannot prove it would agree with RFC 8785 for this value."""


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 encoding of a JSON value (dicts, lists, tuples, str, int, float, bool, None).

    Raises ``AuditError`` (``audit_unencodable``) for values JCS cannot encode.
    """
    try:
        return _fast_dumps(_prepare_fast(value))
    except (_NeedsReference, ValueError, TypeError, RecursionError):
        # ValueError covers UnicodeEncodeError (a lone surrogate): the reference raises
        return _reference(value)


def digest(value: Any) -> str:
    """``"sha256:"`` and the hex SHA-256 of the RFC 8785 encoding of ``value``."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


def _prepare_fast(value: Any) -> Any:
    """``value`` made ready for the fast encoder, or ``_NeedsReference``.

    Returns ``value`` itself when nothing needs changing; integral floats are
    replaced by ints (copying only the containers on their path).
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is float:
        return _prepare_float(value)
    if kind is dict:
        return _prepare_dict(value)
    if kind is list or kind is tuple:
        return _prepare_list(value)
    # Subclasses (enums, named tuples) and other types: let the reference decide.
    raise _NeedsReference


# Values both encoders print alike, skipped without a call (most of a record); orjson
# itself refuses the integers the reference would print otherwise (``_OPTIONS``).
_PLAIN = frozenset({str, int, bool, type(None)})

# Keys already found to be exact ``str`` without a character beyond U+FFFF: records
# repeat the same few names, so a dict's keys are checked with one subset test. A key
# equal to one of these but not an exact ``str`` is refused by orjson (the reference
# then decides), so the set cannot let a key through that orjson would sort wrongly.
_SORTABLE_KEYS: set[str] = set()
_SORTABLE_KEYS_LIMIT = 4096
_SORTABLE_KEY_LENGTH = 64


def _prepare_float(value: float) -> float | int:
    magnitude = abs(value)
    if value.is_integer() and magnitude < _MAX_EXACT_FLOAT:
        return int(value)  # JCS prints 5.0 as 5 and -0.0 as 0
    if _MIN_FAST_FLOAT <= magnitude < 1e16 and not value.is_integer():
        return value
    raise _NeedsReference


def _prepare_dict(value: dict[Any, Any]) -> dict[str, Any]:
    if not value.keys() <= _SORTABLE_KEYS:
        _check_keys(value)
    if _PLAIN.issuperset(map(type, value.values())):  # one pass in C: nothing to look into
        return value
    return _prepare_items(value)


def _prepare_items(value: dict[str, Any]) -> dict[str, Any]:
    """``_prepare_dict`` for a dict whose keys passed and that holds more than plain values."""
    copy: dict[str, Any] | None = None
    for key, item in value.items():
        kind = type(item)
        if kind in _PLAIN or (
            (kind is list or kind is tuple) and _PLAIN.issuperset(map(type, item))
        ):
            continue
        ready = _prepare_fast(item)
        if ready is not item:
            if copy is None:
                copy = dict(value)
            copy[key] = ready
    return value if copy is None else copy


def _check_keys(value: dict[Any, Any]) -> None:
    """Raise ``_NeedsReference`` unless every key sorts alike by code point and UTF-16 unit."""
    for key in value:
        if type(key) is not str or not (key.isascii() or max(key) <= "\uffff"):
            raise _NeedsReference
    if len(_SORTABLE_KEYS) >= _SORTABLE_KEYS_LIMIT:
        _SORTABLE_KEYS.clear()
    _SORTABLE_KEYS.update(key for key in value if len(key) <= _SORTABLE_KEY_LENGTH)


def _prepare_list(value: list[Any] | tuple[Any, ...]) -> list[Any] | tuple[Any, ...]:
    if _PLAIN.issuperset(map(type, value)):
        return value
    copy: list[Any] | None = None
    for index, item in enumerate(value):
        kind = type(item)
        if kind in _PLAIN:
            continue
        ready = _prepare_fast(item)
        if ready is not item:
            if copy is None:
                copy = list(value)
            copy[index] = ready
    return value if copy is None else copy


class RecordShape:
    """The fixed keys of one kind of record, for ``canonical_json`` with fewer checks.

    A record built by its writer (the audit chain's, from an ``AuditEvent``)
    has the same keys every time, so its own keys need no check, and most of
    its values are text: ``plain`` names those, and ``sequences`` the lists
    expected to hold only text, all checked in one pass; only the values under
    ``nested`` (and the sequences when that pass fails) are looked into. The
    bytes are ``canonical_json``'s: whatever the checks cannot vouch for (a
    value of another type, a record with other keys) goes the general way.
    """

    __slots__ = ("_nested", "_plain", "_sequences", "_size", "_walked")

    def __init__(
        self, plain: Sequence[str], nested: Sequence[str], sequences: Sequence[str] = ()
    ) -> None:
        names = [*plain, *nested, *sequences]
        if len(set(names)) != len(names) or not all(name.isascii() for name in names):
            raise ValueError("a record shape names each key once, in ASCII")
        self._plain = _values_of(plain)
        self._sequences = _values_of(sequences)
        self._nested = tuple(nested)
        self._walked = (*nested, *sequences)  # when a sequence holds more than text
        self._size = len(names)

    def canonical_json(self, record: dict[str, Any]) -> bytes:
        """``canonical_json(record)``; ``record`` is the caller's own: values under ``nested``
        may be replaced in it by ones that print alike (an integral float by its int)."""
        try:
            if len(record) == self._size and _PLAIN.issuperset(map(type, self._plain(record))):
                lists = self._sequences(record)
                flat = _SEQUENCES.issuperset(map(type, lists)) and _PLAIN.issuperset(
                    map(type, chain.from_iterable(lists))
                )
                for key in self._nested if flat else self._walked:
                    item = record[key]
                    if type(item) in _PLAIN:
                        continue
                    ready = _prepare_fast(item)
                    if ready is not item:
                        record[key] = ready
                return _fast_dumps(record)
        except (_NeedsReference, KeyError, ValueError, TypeError, RecursionError):
            pass
        return canonical_json(record)


_SEQUENCES = frozenset((list, tuple))


def _values_of(keys: Sequence[str]) -> Callable[[dict[str, Any]], Sequence[Any]]:
    """The values at ``keys`` of a dict, as one sequence (itemgetter's, for two or more)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda record: [record[key] for key in keys]


def _reference(value: Any) -> bytes:
    try:
        encoded: bytes = rfc8785.dumps(value)
    except (ValueError, TypeError, RecursionError) as exc:  # CanonicalizationError is a ValueError
        raise AuditError(
            f"value cannot be encoded as canonical JSON (RFC 8785): {exc}",
            code=AUDIT_UNENCODABLE,
        ) from exc
    return encoded
