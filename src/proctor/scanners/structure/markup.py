"""HTML pages and e-mail messages: text nodes and bodies are prose; tags and headers are not.

In HTML a reader reads the text between tags, the text of comments and of the
attributes people write for readers (``alt``, ``title``, ``aria-label``,
``placeholder``, ``content``); a script is code (its comments and strings).
In an e-mail the subject and the body are prose; the other headers are
addresses, dates and ids.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from proctor.scanners.structure.code import code_prose
from proctor.scanners.structure.view import ProseBuilder

HTML_START = re.compile(r"\s*(?:<!doctype html|<html|<head|<body|<div|<table|<p[\s>]|<!--)", re.I)
OPEN_TAG = re.compile(r"<[a-zA-Z/!][^<>]{0,2000}>")
RAW_TEXT = re.compile(r"<(script|style)\b[^<>]{0,2000}>", re.I)
RAW_TEXT_END = {
    "script": re.compile(r"</script\s*>", re.I),
    "style": re.compile(r"</style\s*>", re.I),
}
READER_ATTRIBUTE = re.compile(
    r"\b(?:alt|title|aria-label|placeholder|content)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I
)
HEADER = re.compile(r"[A-Za-z][\w-]{0,40}:[ \t]")
KNOWN_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "reply-to", "message-id", "sender"}
)
Region = Callable[[str, int, int, ProseBuilder], None]


# A piece cut from the middle of a page opens anywhere: enough tags, some of them
# closing, and a tenth of the text inside tags (a README with a logo tag is not a page).
FRAGMENT_TAGS, FRAGMENT_CLOSING, FRAGMENT_SHARE = 6, 2, 0.1


def looks_like_html(text: str) -> bool:
    if HTML_START.match(text):
        return True
    head = text[:4096]
    if head.count("<") < 3:
        return False
    tags = OPEN_TAG.findall(head)
    if head.lstrip().startswith("<") and len(tags) >= 3:
        return True
    return (
        len(tags) >= FRAGMENT_TAGS
        and sum(tag.startswith("</") for tag in tags) >= FRAGMENT_CLOSING
        and sum(map(len, tags)) >= FRAGMENT_SHARE * len(head)
    )


def html_text(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """Text nodes, comments, reader attributes and script prose of the HTML in a region.

    Walked with ``find``: an unclosed comment or script runs to the end of the region
    (no pattern retried at every ``<``, so the walk stays linear).
    """
    position = node = start
    while position < end:
        lt = text.find("<", position, end)
        if lt == -1:
            break
        if text.startswith("<!--", lt):
            _text(text, node, lt, out)
            close = text.find("-->", lt + 4, end)
            _text(text, lt + 4, end if close == -1 else close, out)
            position = node = end if close == -1 else close + 3
            continue
        raw = RAW_TEXT.match(text, lt, end)
        tag = raw or OPEN_TAG.match(text, lt, end)
        if tag is None:
            position = lt + 1  # a "<" in text
            continue
        _text(text, node, lt, out)
        if raw is not None:
            kind = raw.group(1).lower()
            close_tag = RAW_TEXT_END[kind].search(text, raw.end(), end)
            if kind == "script":
                code_prose(text, raw.end(), end if close_tag is None else close_tag.start(), out)
            position = node = end if close_tag is None else close_tag.end()
            continue
        for attribute in READER_ATTRIBUTE.finditer(text, tag.start(), tag.end()):
            group = 1 if attribute.group(1) is not None else 2
            _text(text, attribute.start(group), attribute.end(group), out)
        position = node = tag.end()
    _text(text, node, end, out)


def _text(text: str, start: int, end: int, out: ProseBuilder) -> None:
    if start >= end:
        return
    piece = text[start:end]
    if "&" in piece:
        out.add(start, end, html.unescape(piece))
    else:
        out.add(start, end)


def email_body_start(text: str) -> int | None:
    """Where the body of an e-mail starts (after its headers), if ``text`` opens with headers."""
    names: set[str] = set()
    position = 0
    while position < len(text):
        newline = text.find("\n", position)
        line_end = len(text) if newline == -1 else newline
        line = text[position:line_end].rstrip("\r")
        if not line:
            break
        if line[0] in " \t" and names:
            pass  # a folded header line
        elif HEADER.match(line):
            names.add(line.split(":", 1)[0].lower())
        else:
            return None
        position = line_end + 1
    if len(names & KNOWN_HEADERS) < 2:
        return None
    return min(position + 1, len(text))


def email_prose(text: str, body: int, out: ProseBuilder, body_region: Region) -> None:
    """The subject, then the body read by ``body_region``."""
    subject = re.search(r"(?im)^subject:[ \t]*(.*)$", text[:body])
    if subject is not None:
        out.add(subject.start(1), subject.end(1))
    body_region(text, body, len(text), out)
