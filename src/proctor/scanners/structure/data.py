"""Data formats: the string values of JSON (and JSON Lines); YAML recognised.

Keys, braces and brackets are JSON's structure; a reader reads the values.
A JSON string with escapes is read decoded (``\\u0069gnore`` is "ignore"), its
span mapped to the whole string. A YAML text is read as written: its keys name
the values beside them (``subject:``, ``body:``, a transcript's ``SYSTEM:``),
and the classifier learned AgentDojo's YAML outputs so. A markdown file's
front matter is read as its values (``yaml_values``): keys, list dashes,
quotes, anchors and block indicators are structure there; a key of several
words (``- **Use tabs**: ...``) opens a sentence and is kept.
"""

from __future__ import annotations

import json
import re

from proctor.scanners.structure.lines import lines, sample, share_at_least
from proctor.scanners.structure.view import ProseBuilder

# A JSON string and, when it is an object's key, the colon after it; single-quoted
# strings too (a Python dict printed by a tool: ``{'name': 'value'}``).
JSON_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"(\s*:)?|\'((?:[^\'\\\n]|\\.)*)\'(\s*:)?')
YAML_KEY_OR_ITEM = re.compile(r"\s*(?:-\s|[^\s:#'\"\-|>{}\[\],][^:#\n]{0,60}?:(?:\s|$))")
# What opens a YAML line before its value: list dashes, one-word keys, an anchor, an
# alias or a tag, a block scalar's indicator, an opening quote.
YAML_PREFIX = re.compile(
    r"[ \t]*(?:-[ \t]+)*(?:[^\s:#'\"\-|>{}\[\],][^\s:#]{0,60}:(?:[ \t]+|$))?"
    r"(?:(?:[&*][\w.-]+|![^\s]*)[ \t]*)*(?:[|>][-+]?[0-9]?[ \t]*$)?[\"']?"
)
YAML_COMMENT = re.compile(r"[ \t]*#+[ \t]*")


def looks_like_json(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) >= 2 and stripped[0] in "{[" and stripped[-1] in "}]"


def json_strings(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """The string values (not the keys) of the JSON in ``text[start:end]``."""
    for match in JSON_STRING.finditer(text, start, end):
        group = 1 if match.group(1) is not None else 3
        if match.group(group + 1) is not None:
            continue  # a key
        inner = match.group(group)
        if "\\" in inner:
            out.add(match.start(), match.end(), _decoded(inner.replace("\\'", "'")))
        else:
            out.add(match.start(group), match.end(group))


def _decoded(inner: str) -> str:
    try:
        value = json.loads(f'"{inner}"')
    except ValueError:
        return inner
    return value if isinstance(value, str) else inner


def looks_like_yaml(text: str, rows: list[str] | None = None) -> bool:
    rows = sample(text) if rows is None else rows
    return len(rows) >= 2 and share_at_least(rows, YAML_KEY_OR_ITEM.match, 0.5)


def yaml_values(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """The values, comments and continuation lines of the YAML in ``text[start:end]``."""
    for line_start, line_end in lines(text, start, end):
        comment = YAML_COMMENT.match(text, line_start, line_end)
        if comment is not None:
            out.add(comment.end(), line_end)
            continue
        prefix = YAML_PREFIX.match(text, line_start, line_end)
        first = line_start if prefix is None else prefix.end()
        last = line_end
        while last > first and text[last - 1] in " \t\r":
            last -= 1
        if last > first and text[last - 1] in "\"'" and text[first - 1 : first] == text[last - 1]:
            last -= 1  # the closing quote of a quoted value
        out.add(first, last)
