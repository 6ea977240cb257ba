"""Log lines: the message is prose; timestamps, levels, hosts, pids and tags are not."""

from __future__ import annotations

import re

from proctor.scanners.structure.lines import lines, sample, share_at_least
from proctor.scanners.structure.view import ProseBuilder

_TIME = (
    r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
    r"|[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d"
    r"|\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d(?: [+-]\d{4})?"
    r"|\d\d:\d\d:\d\d(?:[.,]\d+)?"
    r"|\d{10}(?:\.\d+)?"
)
_LEVEL = r"TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE|ALERT|EMERG"
LOG_LINE = re.compile(
    rf"\s*(?:\[?(?:{_TIME})\]?|\[?(?:{_LEVEL})\]?[: ]|\d{{1,3}}(?:\.\d{{1,3}}){{3}} )"
)
# One field of a line's prefix, tried again and again from its start.
PREFIX_FIELD = re.compile(
    rf"\s*(?:\[?(?:{_TIME})\]?|\[?(?:{_LEVEL})\]?:?|\[[^\]\n]{{0,80}}\]|\([^)\n]{{0,40}}\)"
    r"|\d{1,3}(?:\.\d{1,3}){3}|-(?=\s)|[\w.-]+\[\d+\]:|[\w./$-]{1,60}:(?=\s)"
    r"|[\w.$]{1,60}\s+-(?=\s)|pid=\d+|\w+=\S+)(?=\s|$)"
)
MAX_FIELDS = 10


def looks_like_logs(text: str, rows: list[str] | None = None) -> bool:
    rows = sample(text) if rows is None else rows
    return len(rows) >= 2 and share_at_least(rows, LOG_LINE.match, 0.6)


def log_messages(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """Each line from where its prefix of timestamp, level, host and tag fields ends."""
    for line_start, line_end in lines(text, start, end):
        position = line_start
        for _ in range(MAX_FIELDS):
            field = PREFIX_FIELD.match(text, position, line_end)
            if field is None or field.end() == position:
                break
            position = field.end()
        out.add(position, line_end)
