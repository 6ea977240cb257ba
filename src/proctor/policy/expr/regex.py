"""Regexes for `matches`: RE2 (linear time, no backtracking), compiled once at load.

RE2 is imported by the first `matches` compiled: its binding costs ~2.6 MB resident, which a
process whose policies have no `matches` does not pay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proctor.policy.expr.errors import ExpressionSource
from proctor.policy.expr.values import shorten

MAX_PROGRAM_SIZE = 10_000  # RE2 instructions; `[a-z]{1000}` is about 1,000
_MAX_MEMORY = 4 << 20  # bytes RE2 may use per regex (its default is 8 MiB)
_NO_MATCH = (-1, -1)

Search = Callable[[str], bool]


def compile_regex(pattern: str, offset: int, source: ExpressionSource) -> Search:
    """A function telling whether a text contains a match of ``pattern``."""
    import re2

    options = re2.Options()
    options.max_mem = _MAX_MEMORY
    options.log_errors = False  # errors are reported as ExpressionError, not on stderr
    options.never_capture = True  # only "is there a match" is needed
    shown = shorten(pattern)
    try:
        regex = re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise source.error("expr_regex", f"invalid regex `{shown}`: {reason}", offset) from None
    except UnicodeEncodeError:
        raise source.error("expr_regex", f"regex `{shown}` is not valid unicode", offset) from None
    if regex.programsize > MAX_PROGRAM_SIZE:
        message = (
            f"regex `{shown}` is too large ({regex.programsize} instructions, "
            f"more than {MAX_PROGRAM_SIZE})"
        )
        raise source.error("expr_regex", message, offset)
    return _searcher(regex)


def _searcher(regex: Any) -> Search:
    """The fastest search the installed binding offers.

    ``re2.search`` builds a match object and maps byte offsets back to
    characters, about 2.5 µs per call; the underlying ``RE2::Match`` answers in
    about 0.5 µs. It is not public API, so use it only when present (checked
    here and by a test) and fall back to ``search`` otherwise.
    """
    import re2

    matcher = getattr(getattr(regex, "_regexp", None), "Match", None)
    anchor = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
    if matcher is None or anchor is None:
        public_search = regex.search

        def search(text: str) -> bool:
            return public_search(text) is not None

        return search

    def search_raw(text: str) -> bool:
        encoded = text.encode("utf-8")
        return bool(matcher(anchor, encoded, 0, len(encoded))[0] != _NO_MATCH)

    return search_raw
