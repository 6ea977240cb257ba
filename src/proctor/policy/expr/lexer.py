"""Turns expression text into tokens: numbers, strings, names and punctuation.

Keywords (``and``, ``or``, ``not``, ``in``, ``true``...) are lexed as names and
recognised by the parser, case-insensitively, so that ``args.in`` stays a field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from proctor.policy.expr.errors import ExpressionSource

MAX_INTEGER = 2**63 - 1


class TokenKind(Enum):
    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    PUNCT = "punct"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # as written in the source
    value: Any  # the parsed number or string; the text for names and punctuation
    start: int
    end: int

    @property
    def word(self) -> str:
        """The lowercased name, for case-insensitive keyword checks ("" for non-names)."""
        return self.text.lower() if self.kind is TokenKind.NAME else ""

    def describe(self) -> str:
        if self.kind is TokenKind.END:
            return "end of expression"
        text = self.text if len(self.text) <= 40 else self.text[:39] + "…"
        return f"`{text}`"


# Longest first, so that `<=` wins over `<`.
_PUNCTUATION = (
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "=",
    "&",
    "|",
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_WHITESPACE = frozenset(" \t\r\n")


def tokenize(source: ExpressionSource) -> list[Token]:
    """All tokens of ``source``, ending with one END token."""
    text = source.text
    tokens: list[Token] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char in _WHITESPACE:
            position += 1
        elif char in _DIGITS:
            token = _number(source, position)
            tokens.append(token)
            position = token.end
        elif char in _NAME_START:
            end = position + 1
            while end < length and text[end] in _NAME_CHARS:
                end += 1
            word = text[position:end]
            tokens.append(Token(TokenKind.NAME, word, word, position, end))
            position = end
        elif char in "\"'":
            token = _string(source, position)
            tokens.append(token)
            position = token.end
        else:
            for punct in _PUNCTUATION:
                if text.startswith(punct, position):
                    end = position + len(punct)
                    tokens.append(Token(TokenKind.PUNCT, punct, punct, position, end))
                    position = end
                    break
            else:
                shown = char if char.isprintable() else repr(char)[1:-1]
                raise source.error("expr_syntax", f"unexpected character `{shown}`", position)
    tokens.append(Token(TokenKind.END, "", None, length, length))
    return tokens


def _number(source: ExpressionSource, start: int) -> Token:
    text = source.text
    end = _skip_digits(text, start)
    is_float = False
    if end < len(text) and text[end] == ".":
        fraction_end = _skip_digits(text, end + 1)
        if fraction_end == end + 1:
            raise _bad_number(source, start, end + 1)
        end, is_float = fraction_end, True
    if end < len(text) and text[end] in "eE":
        exponent_start = end + 1
        if exponent_start < len(text) and text[exponent_start] in "+-":
            exponent_start += 1
        exponent_end = _skip_digits(text, exponent_start)
        if exponent_end == exponent_start:
            raise _bad_number(source, start, exponent_start)
        end, is_float = exponent_end, True
    if end < len(text) and (text[end] in _NAME_CHARS or text[end] == "."):
        raise _bad_number(source, start, end + 1)
    literal = text[start:end]
    value: int | float
    if is_float:
        value = float(literal)
        if not math.isfinite(value):
            raise source.error("expr_syntax", f"number `{literal}` is out of range", start)
    else:
        if len(literal) > 19 or int(literal) > MAX_INTEGER:
            raise source.error("expr_syntax", f"number `{literal[:30]}` is too large", start)
        value = int(literal)
    return Token(TokenKind.NUMBER, literal, value, start, end)


def _skip_digits(text: str, position: int) -> int:
    while position < len(text) and text[position] in _DIGITS:
        position += 1
    return position


def _bad_number(source: ExpressionSource, start: int, end: int) -> Exception:
    shown = source.text[start:end]
    shown = shown if len(shown) <= 30 else shown[:29] + "…"
    return source.error("expr_syntax", f"bad number `{shown}`", start)


def _string(source: ExpressionSource, start: int) -> Token:
    """A quoted string; an unknown escape such as `\\d` is kept as written, for regexes."""
    text = source.text
    quote = text[start]
    parts: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == quote:
            value = "".join(parts)
            return Token(TokenKind.STRING, text[start : position + 1], value, start, position + 1)
        if char == "\\" and position + 1 < len(text):
            following = text[position + 1]
            parts.append(_ESCAPES.get(following, "\\" + following))
            position += 2
        else:
            parts.append(char)
            position += 1
    raise source.error("expr_syntax", "unterminated string", start, hint=f"close it with `{quote}`")
