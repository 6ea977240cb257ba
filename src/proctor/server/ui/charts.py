"""Charts as inline SVG, drawn on the server: no script, no library, readable without colour.

Each chart carries a ``<title>`` and a text summary (``aria-label``) for
screen readers, and the page shows the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH = 560
HEIGHT = 160
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 44, 12, 12, 28


def step_chart(points: Sequence[tuple[str, float]], *, ceiling: float | None, title: str) -> Markup:
    """Use over time as a step line (``points`` are ``(timestamp, value)`` in time order).

    ``ceiling`` (a limit's maximum) is drawn as a dashed line.
    """
    if not points:
        return Markup("")
    top = max([value for _, value in points] + [ceiling or 0.0]) or 1.0
    inner_w = WIDTH - _PAD_LEFT - _PAD_RIGHT
    inner_h = HEIGHT - _PAD_TOP - _PAD_BOTTOM
    count = len(points)

    def x(index: int) -> float:
        return _PAD_LEFT + (inner_w * index / (count - 1) if count > 1 else inner_w / 2)

    def y(value: float) -> float:
        return _PAD_TOP + inner_h * (1 - value / top)

    path = [f"M{x(0):.1f},{y(points[0][1]):.1f}"]
    for index in range(1, count):
        path.append(f"H{x(index):.1f}V{y(points[index][1]):.1f}")
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(_summary(points, ceiling, title))}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{_PAD_LEFT}" y1="{y(0):.1f}" x2="{WIDTH - _PAD_RIGHT}" '
        f'y2="{y(0):.1f}"/>',
        f'<text class="tick" x="{_PAD_LEFT - 6}" y="{y(top) + 4:.1f}" text-anchor="end">'
        f"{_number(top)}</text>",
        f'<text class="tick" x="{_PAD_LEFT - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
    ]
    if ceiling is not None:
        parts.append(
            f'<line class="ceiling" x1="{_PAD_LEFT}" y1="{y(ceiling):.1f}" '
            f'x2="{WIDTH - _PAD_RIGHT}" y2="{y(ceiling):.1f}"/>'
        )
    parts.append(f'<path class="use" d="{"".join(path)}"/>')
    for index, (_, value) in enumerate(points):
        parts.append(f'<circle class="point" cx="{x(index):.1f}" cy="{y(value):.1f}" r="3"/>')
    parts.append(
        f'<text class="tick" x="{_PAD_LEFT}" y="{HEIGHT - 8}">{escape(_short(points[0][0]))}</text>'
    )
    parts.append(
        f'<text class="tick" x="{WIDTH - _PAD_RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{escape(_short(points[-1][0]))}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    bars: Sequence[tuple[str, dict[str, int]]], *, series: Sequence[str], title: str
) -> Markup:
    """Stacked bars, one per label (an hour, a day), one stack segment per series (effects)."""
    if not bars:
        return Markup("")
    top = max(sum(counts.values()) for _, counts in bars) or 1
    inner_w = WIDTH - _PAD_LEFT - _PAD_RIGHT
    inner_h = HEIGHT - _PAD_TOP - _PAD_BOTTOM
    slot = inner_w / len(bars)
    width = max(slot * 0.7, 1.0)
    total = sum(sum(counts.values()) for _, counts in bars)
    label = f"{title}: {total} records in {len(bars)} periods, at most {top} in one"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(title)}</title>",
        f'<text class="tick" x="{_PAD_LEFT - 6}" y="{_PAD_TOP + 4}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{_PAD_LEFT - 6}" y="{_PAD_TOP + inner_h + 4}" '
        'text-anchor="end">0</text>',
    ]
    for index, (name, counts) in enumerate(bars):
        left = _PAD_LEFT + slot * index + (slot - width) / 2
        bottom = float(_PAD_TOP + inner_h)
        for kind in series:
            value = counts.get(kind, 0)
            if not value:
                continue
            height = inner_h * value / top
            bottom -= height
            parts.append(
                f'<rect class="bar bar-{escape(kind)}" x="{left:.1f}" y="{bottom:.1f}" '
                f'width="{width:.1f}" height="{height:.1f}"><title>{escape(name)}: '
                f"{value} {escape(kind)}</title></rect>"
            )
    parts.append(f'<text class="tick" x="{_PAD_LEFT}" y="{HEIGHT - 8}">{escape(bars[0][0])}</text>')
    parts.append(
        f'<text class="tick" x="{WIDTH - _PAD_RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{escape(bars[-1][0])}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _summary(points: Sequence[tuple[str, float]], ceiling: float | None, title: str) -> str:
    last = points[-1][1]
    limit = f" of {_number(ceiling)}" if ceiling is not None else ""
    return f"{title}: {len(points)} readings, last {_number(last)}{limit} at {points[-1][0]}"


def _number(value: float) -> str:
    return f"{value:g}"


def _short(ts: str) -> str:
    return ts[:16].replace("T", " ")
