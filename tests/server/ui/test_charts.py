"""Charts drawn on the server as SVG, with a text alternative."""

from __future__ import annotations

from xml.etree import ElementTree

from proctor.server.ui.charts import bar_chart, step_chart


def test_a_step_chart_is_valid_svg_with_a_summary_and_the_ceiling() -> None:
    svg = step_chart(
        [("2026-11-25T14:00:00Z", 100.0), ("2026-11-25T15:00:00Z", 300.0)],
        ceiling=500,
        title="limit <budget>",
    )
    root = ElementTree.fromstring(str(svg))
    assert root.get("role") == "img"
    assert root.get("aria-label") == (
        "limit <budget>: 2 readings, last 300 of 500 at 2026-11-25T15:00:00Z"
    )
    assert root.find("{*}title") is not None or root.find("title") is not None
    assert 'class="ceiling"' in svg
    assert "&lt;budget&gt;" in svg
    assert step_chart([], ceiling=None, title="x") == ""


def test_a_bar_chart_stacks_each_series() -> None:
    svg = bar_chart(
        [("2026-11-24", {"allow": 3, "deny": 1}), ("2026-11-25", {"allow": 1})],
        series=("allow", "require_approval", "deny"),
        title="per day",
    )
    root = ElementTree.fromstring(str(svg))
    assert "5 records in 2 periods" in (root.get("aria-label") or "")
    assert svg.count("<rect") == 3
