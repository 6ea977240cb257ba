"""Markdown's inline markup: what a reader of the rendered text does not read.

A link's target (``[text](https://...)``, ``<https://...>``, ``[id]: https://...``),
an image's source, heading marks, inline HTML tags and comment markers are
markup; the link's text and title, the image's alt text and a comment's text
are prose. Inline code and emphasis are kept: the classifier was trained on
text that has them, and they only ever lower its score. A run of prose lines is
one piece spliced from the slices around the markup, so spans map back exactly.
Every pattern stops at the next ``[``, backtick, ``<`` or line end: linear time.
"""

from __future__ import annotations

import re

from proctor.scanners.structure.view import ProseBuilder

INLINE = re.compile(
    # a link or an image: its text (1), then its target, then its title (2)
    r"!?\[([^\[\]\n]{0,500})\]\(\s*<?[^\s()<>\[]{0,2000}>?"
    r"(\s+(?:\"[^\"\n]{0,500}\"|'[^'\n]{0,500}'|\([^)\n]{0,500}\)))?\s*\)"
    r"|<(?:https?|ftp|mailto):[^\s<>]{1,2000}>"  # an autolink
    r"|(?m:^[ \t]{0,3}\[[^\]\n]{1,200}\]:[ \t]*\S+.*$)"  # a reference definition
    r"|(?m:^[ \t]{0,3}#{1,6}[ \t]+)"  # heading marks
    r"|<!--|-->"  # a comment's markers, its text is read
    r"|</?[a-zA-Z][\w-]{0,30}(?:\s[^<>]{0,500})?/?>"  # an inline HTML tag
)
HINT = re.compile(r"[\[<#]")


def inline_prose(text: str, start: int, end: int, out: ProseBuilder) -> None:
    """The prose lines ``text[start:end]`` without their inline markup."""
    if HINT.search(text, start, end) is None:
        out.add(start, end)
        return
    slices: list[tuple[int, int]] = []
    position = start
    for match in INLINE.finditer(text, start, end):
        slices.append((position, match.start()))
        if match.group(1) is not None:  # a link: its text and its title
            slices.append(match.span(1))
            if match.group(2) is not None:
                slices.append(match.span(2))
        position = match.end()
    slices.append((position, end))
    out.splice(slices)
