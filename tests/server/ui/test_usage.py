"""Rule hits, shadow denials, limit use, runs and agent activity counted from records."""

from __future__ import annotations

from typing import Any

from proctor.server.ui.usage import summarize


def _decision(seq: int, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "decision",
        "seq": seq,
        "ts": f"2026-11-2{seq % 3}T10:00:00.000000Z",
        "effect": "allow",
        "action": "write:refund",
        "agent": {"id": "support-bot"},
        "user": {"sub": "alice"},
        "rule_ids": ["refund-small"],
        "diagnostics": [],
        "shadow": None,
        "run_id": None,
    }
    record.update(fields)
    return record


def test_counts_hits_limits_runs_and_agents() -> None:
    use = summarize(
        [
            _decision(
                1,
                run_id="r-1",
                diagnostics=[
                    {
                        "code": "limit_usage",
                        "message": "limit `refund-budget` for user `alice`: 40 of 500 used",
                    },
                    {
                        "code": "limit_usage",
                        "message": "run `r-1` ceiling of 5 tool calls: 1 of 5 used",
                    },
                ],
            ),
            _decision(
                2,
                effect="deny",
                rule_ids=["refund-too-large"],
                run_id="r-1",
                shadow={"effect": "deny", "rule_ids": ["strict#1"], "reason": "x"},
            ),
            {"kind": "run", "run_id": "r-1", "effect": "end", "ts": "2026-11-22T10:00:00Z"},
            _decision(
                4,
                diagnostics=[
                    {
                        "code": "limit_usage",
                        "message": "limit `refund-budget` for user `alice`: 140 of 500 used",
                    }
                ],
            ),
        ]
    )
    assert use.records == 4
    assert use.rule_hits == {"refund-small": 2, "refund-too-large": 1}
    assert use.shadow_denials == {"strict#1": 1}
    series = use.limits[("refund-budget", "user `alice`")]
    assert series.maximum == 500
    assert [v for _, v in series.points] == [40, 140]
    run = use.runs["r-1"]
    assert (run.calls, run.denied, run.ceiling, run.ended) == (2, 1, 5, True)
    agent = use.agents["support-bot"]
    assert (agent.calls, agent.denied) == (3, 1)
    assert sum(sum(c.values()) for c in use.per_day.values()) == 3
