"""Tables written in text: markdown and ASCII tables (cells), CSV and TSV (fields).

Pipes, rule lines (``|---|``, ``+----+``, ``====``) and delimiters are the
table's structure; only the cells are prose.
"""

from __future__ import annotations

import re

from proctor.scanners.structure.lines import lines, sample
from proctor.scanners.structure.view import ProseBuilder

# A line of structure only: dashes, equals, pluses, pipes, colons (``|:---|---:|``).
RULE_CHARACTERS = frozenset("-=+|:_*~.# \t\r")
RULES = ("---", "===", "___", "***", "~~~")
CELL = re.compile(r"(?:\\\||[^|])+")
DELIMITERS = ("\t", ",", ";")
# A field of a delimited line: quoted (doubled quotes inside) or up to the next delimiter.
FIELDS = {
    d: re.compile(rf'[ \t]*"(?:[^"]|"")*"[ \t]*|[^{d}\n]+' if d != "\t" else r"[^\t\n]+")
    for d in DELIMITERS
}


def is_rule(line: str) -> bool:
    return not set(line) - RULE_CHARACTERS and any(rule in line for rule in RULES)


def table_rows(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """The cells of the table rows in ``text[start:end]`` (rule lines dropped)."""
    for line_start, line_end in lines(text, start, end):
        line = text[line_start:line_end]
        if is_rule(line):
            continue
        for cell in CELL.finditer(line):
            left, right = _trimmed(line, cell.start(), cell.end())
            out.add(line_start + left, line_start + right)


def delimiter_of(text: str, rows: list[str] | None = None) -> str | None:
    """The delimiter of a CSV or TSV text: every sampled line has the same field count."""
    rows = sample(text) if rows is None else rows
    if len(rows) < 2:
        return None
    for delimiter in DELIMITERS:
        if delimiter not in rows[0]:
            continue
        counts = [_field_count(row, delimiter) for row in rows]
        first = counts[0]
        same = sum(1 for c in counts if c == first)
        if first >= 2 and same >= 0.9 * len(counts) and (first >= 3 or len(rows) >= 3):
            return delimiter
    return None


def _field_count(row: str, delimiter: str) -> int:
    if '"' not in row:
        return row.count(delimiter) + 1
    return len(re.findall(rf'"(?:[^"]|"")*"|[^{re.escape(delimiter)}"]+', row))


def delimited_fields(text: str, delimiter: str, out: ProseBuilder) -> None:
    """Every field of a CSV or TSV text (quotes dropped; a doubled quote read as one)."""
    for match in FIELDS[delimiter].finditer(text):
        left, right = _trimmed(text, match.start(), match.end())
        if right - left >= 2 and text[left] == '"' and text[right - 1] == '"':
            inner = text[left + 1 : right - 1]
            if '""' in inner:
                out.add(left, right, inner.replace('""', '"'))
                continue
            left, right = left + 1, right - 1
        out.add(left, right)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
