"""Structure-aware reading: what a reader reads as prose in a structured text.

Injection checks run on prose, not on structure: the pipes and rules of a
table, the braces and keys of JSON, the indentation and dashes of YAML, the
keywords of code, the timestamps of logs and the tags of HTML are never
evidence of an instruction. ``prose_view`` recognises the shape of a text
(JSON, e-mail, HTML, source code, logs, YAML, CSV/TSV, else markdown or plain
text with tables and fenced code inside) and returns its prose with a map of
every piece back to the original, so findings keep their original spans.
Plain text is its own prose, unchanged.
"""

from __future__ import annotations

import re
from functools import lru_cache

from proctor.scanners.structure.code import code_prose, looks_like_code
from proctor.scanners.structure.data import (
    json_strings,
    looks_like_json,
    looks_like_yaml,
    yaml_values,
)
from proctor.scanners.structure.inline import inline_prose
from proctor.scanners.structure.lines import lines, sample
from proctor.scanners.structure.logs import log_messages, looks_like_logs
from proctor.scanners.structure.markup import (
    email_body_start,
    email_prose,
    html_text,
    looks_like_html,
)
from proctor.scanners.structure.tables import delimited_fields, delimiter_of, is_rule, table_rows
from proctor.scanners.structure.view import ProseBuilder, ProseView

__all__ = ["ProseView", "prose_view"]

# What a markdown text holds (a table, a rule, a fence, a heading, a link, inline code);
# plain text holds none.
MARKDOWN_HINT = re.compile(r"\||`|~~~|---|===|\*\*|___|\]\(|<https?:|(?m:^#{1,6} )")
FRONT_MATTER = re.compile(r"---[ \t]*\n(?:.{0,200}\n){0,100}?---[ \t]*(?:\n|$)")
FENCE = re.compile(r"\s{0,3}(```|~~~)")


@lru_cache(maxsize=2)
def prose_view(text: str) -> ProseView:
    """The prose of ``text`` and where each piece of it came from."""
    out = ProseBuilder(text)
    if looks_like_json(text):
        json_strings(text, 0, len(text), out)
        return out.view("json")
    body = email_body_start(text) if ":" in text[:200] else None
    if body is not None:
        email_prose(text, body, out, _body)
        return out.view("email")
    if looks_like_html(text):
        html_text(text, 0, len(text), out)
        return out.view("html")
    rows = sample(text)  # the first lines, read once by every shape test below
    if looks_like_code(text, rows):
        code_prose(text, 0, len(text), out)
        return out.view("code")
    yaml = looks_like_yaml(text, rows)
    delimiter = None if yaml else delimiter_of(text, rows)
    # A TSV table whose first column is a date is a table, not a log: its fields are read
    # apart. A comma is no such sign (log times write milliseconds after one).
    if delimiter == "\t" or (delimiter is not None and not looks_like_logs(text, rows)):
        delimited_fields(text, delimiter, out)
        return out.view("tsv" if delimiter == "\t" else "csv")
    if looks_like_logs(text, rows):
        log_messages(text, 0, len(text), out)
        return out.view("logs")
    if yaml:
        # Read as written: keys name their values ("subject", "body", a transcript's
        # "SYSTEM:"), and the classifier learned AgentDojo's YAML outputs so.
        return ProseView("yaml", text)
    if MARKDOWN_HINT.search(text) is None:
        return ProseView("text", text)
    markdown(text, 0, len(text), out)
    return out.view("markdown")


def _body(text: str, start: int, end: int, out: ProseBuilder) -> None:
    if looks_like_html(text[start : start + 4096]):
        html_text(text, start, end, out)
    else:
        markdown(text, start, end, out)


def markdown(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """Prose lines without their inline markup (``structure.inline``); table rows as cells;
    fenced code as code; front matter as YAML; rules dropped."""
    front = FRONT_MATTER.match(text, start, end) if start == 0 else None
    if front is not None:
        yaml_values(text, text.index("\n") + 1, text.rindex("---", 0, front.end()), out)
        start = front.end()
    spans = list(lines(text, start, end))
    index = 0
    prose_start: int | None = None
    prose_end = start
    while index < len(spans):
        line_start, line_end = spans[index]
        line = text[line_start:line_end]
        fence = FENCE.match(line)
        run = _table_run(text, spans, index) if fence is None else 0
        if fence is None and run == 0 and not is_rule(line):
            if prose_start is None:
                prose_start = line_start
            prose_end = line_end
            index += 1
            continue
        if prose_start is not None:
            inline_prose(text, prose_start, prose_end, out)
            prose_start = None
        if fence is not None:
            close = _fence_end(text, spans, index, fence.group(1))
            code_prose(text, line_end, spans[close][0] if close < len(spans) else end, out)
            index = close + 1
        elif run:
            table_rows(text, line_start, spans[index + run - 1][1], out)
            index += run
        else:
            index += 1  # a rule line
    if prose_start is not None:
        inline_prose(text, prose_start, prose_end, out)


def _table_run(text: str, spans: list[tuple[int, int]], index: int) -> int:
    """How many lines from ``index`` form a table: two or more with pipes or rules."""
    count = 0
    while index + count < len(spans):
        line_start, line_end = spans[index + count]
        line = text[line_start:line_end]
        if "|" not in line and not (count and is_rule(line)):
            break
        count += 1
    return count if count >= 2 else 0


def _fence_end(text: str, spans: list[tuple[int, int]], index: int, marker: str) -> int:
    for later in range(index + 1, len(spans)):
        line_start, line_end = spans[later]
        if text[line_start:line_end].strip().startswith(marker):
            return later
    return len(spans)
