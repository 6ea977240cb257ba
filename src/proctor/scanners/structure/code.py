"""Source code: its comments, docstrings and string literals are what a reader reads.

Keywords, identifiers, operators, braces and indentation are the code's
structure. The comment syntaxes of the common languages are read together
(``#``, ``//``, ``/* */``, ``--`` and triple-quoted strings): a marker that
is not a comment in one language seldom starts prose in another.
"""

from __future__ import annotations

import re

from proctor.scanners.structure.lines import SAMPLE_WIDTH, lines, sample, share_at_least
from proctor.scanners.structure.tables import is_rule, table_rows
from proctor.scanners.structure.view import ProseBuilder

CODE_LINE = re.compile(
    r"\s*(?:(?:def|class|import|from\s+[\w.]+\s+import|return|elif|except|async|await|function"
    r"|const|let|var|public|private|protected|static|package|func|fn|impl|use|struct|enum"
    r"|interface|#include|#define|#!|namespace|switch|case|try|catch|finally|throw|raise|yield"
    r"|pub|mod|void|int|char|SELECT|INSERT|CREATE|UPDATE|DELETE|FROM|WHERE|echo|export|local"
    r"|if|for|while|else|end|fi|done|then|do|module|require|print|printf|println)\b"
    r"|@\w+|[})\]]+[;,)]*\s*$|.*[;{]\s*$|.*\)\s*(?:->\s*[\w\[\], .|]+)?:\s*$"
    r"|.*\s=\s.*[;)\]}\w\"']$)"
)
# Where a comment or a string may start; each is then closed with ``find`` (an unclosed
# one runs to the end of the region: no pattern retried at every quote, linear time).
OPENER = re.compile(
    r"\"\"\"|'''|/\*|(?<![:\w\"'\\])//"
    r"|(?<![\w$&#{\"'\\])#(?![!{\[(]|include\b|define\b|if\b|endif\b|pragma\b|import\b)"
    r"|(?<![\w-])--(?=\s)|[\"'`]"
)
CLOSERS = {'"""': '"""', "'''": "'''", "/*": "*/"}
BLOCK_LINE_MARK = re.compile(r"\s*\*+(?!/)")
LETTER = re.compile(r"[^\W\d_]")
# An annotated name (``limit: int``, ``after_id: Optional[str] = None``): Python and
# TypeScript. Only builtin or subscripted types, so YAML's ``name: Alice`` is no code.
ANNOTATION = re.compile(
    r"\s*\w+\??:\s*(?:(?:str|int|float|bool|bytes|None|object|Any|string|number|boolean)"
    r"\s*(?:[=;,|)]|$)|[A-Z]\w*\[)"
)
# Lines of a C-style comment block (a licence header, a doc comment) and of docstrings:
# neither code nor prose evidence, so a file that opens with one, or a class whose
# fields each have a docstring, is judged by the other lines.
COMMENT_LINE = re.compile(r"\s*(?:/\*|\*|//)")
DOCSTRING = ('"""', "'''")
# Minified code: a long line dense with the marks code is written in.
CODE_MARKS = re.compile(r"[;{}()=]")
MINIFIED_MARKS = 20
BRACKETS = re.compile(r"[\"'`;{}()\[\]]")


def looks_like_code(text: str, rows: list[str] | None = None) -> bool:
    if text.startswith("#!"):
        return True
    rows = sample(text) if rows is None else rows
    if any(len(row) >= SAMPLE_WIDTH and _minified(row) for row in rows):
        return True
    judged = _without_comments(rows)
    if len(judged) < 3 and len(rows) >= 3:
        judged = rows
    return len(judged) >= 3 and share_at_least(judged, _code_line, 0.4)


def _without_comments(rows: list[str]) -> list[str]:
    """``rows`` without comment-block lines and without the lines of docstrings."""
    out: list[str] = []
    inside: str | None = None
    for row in rows:
        marks = {quote: row.count(quote) for quote in DOCSTRING}
        if inside is not None:
            if marks[inside] % 2:
                inside = None
            continue
        opening = next((quote for quote, count in marks.items() if count % 2), None)
        if opening is not None and row.strip().startswith(opening):
            inside = opening
            continue
        if row.strip().startswith(DOCSTRING) or COMMENT_LINE.match(row):
            continue  # a one-line docstring, a comment block's line
        out.append(row)
    return out


def _minified(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether ``text[start:end]`` opens with code written without spaces (a string that
    runs on into such code is no prose either); reads at most ``4 * SAMPLE_WIDTH``."""
    stop = min(len(text) if end is None else end, start + 4 * SAMPLE_WIDTH)
    return len(CODE_MARKS.findall(text, start, stop)) >= MINIFIED_MARKS and (
        text.count(" ", start, stop) * 10 < stop - start
    )


def _code_line(line: str) -> object:
    """A line of code: a keyword or a code shape, or mostly symbols (``'a','b',``, ``});``)."""
    if CODE_LINE.match(line) or ANNOTATION.match(line):
        return True
    marks = sum(1 for ch in line if not (ch.isalnum() or ch.isspace()))
    visible = len(line) - line.count(" ")
    return visible >= 8 and marks * 2 >= visible and "|" not in line and BRACKETS.search(line)


def code_prose(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """Comments, docstrings and string literals of the code in ``text[start:end]``."""
    position = start
    while position < end:
        opener = OPENER.search(text, position, end)
        if opener is None:
            return
        mark, inside = opener.group(), opener.end()
        if mark in CLOSERS:
            close = text.find(CLOSERS[mark], inside, end)
            stop = end if close == -1 else close
            _lines_of(text, inside, stop, out)
            position = end if close == -1 else close + len(CLOSERS[mark])
        elif mark in "\"'`":
            stop = _string_end(text, inside, end, mark)
            if LETTER.search(text, inside, stop) and not _minified(text, inside, stop):
                out.add(inside, stop)
            position = stop + 1
        else:  # a line comment
            newline = text.find("\n", inside, end)
            stop = end if newline == -1 else newline
            out.add(inside, stop)
            position = stop


def _string_end(text: str, start: int, end: int, quote: str) -> int:
    """Where the string opened just before ``start`` closes (at a line's end, unless ```)."""
    position = start
    while position < end:
        ch = text[position]
        if ch == quote:
            return position
        if ch == "\\":
            position += 2
            continue
        if ch == "\n" and quote != "`":
            return position
        position += 1
    return end


def _lines_of(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """A comment block line by line, without the ``*`` that open its lines; a table drawn
    in it (a query's printed result) read as its cells, its rule lines dropped."""
    for line_start, line_end in lines(text, start, end):
        mark = BLOCK_LINE_MARK.match(text, line_start, line_end)
        first = mark.end() if mark is not None else line_start
        line = text[first:line_end]
        if is_rule(line.strip()):
            continue
        if line.count("|") >= 2:
            table_rows(text, first, line_end, out)
        else:
            out.add(first, line_end)
