"""``proctor audit report``: a period's evidence report, as JSON or one self-contained HTML page.

The HTML page loads nothing (no script, no font, no image from anywhere),
prints on paper as it shows, and escapes every stored value. Chromium prints
it to PDF where installed (``chromium --headless --print-to-pdf``).
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from proctor.cli.audit_proofs import verifier_for
from proctor.cli.loading import audit_location
from proctor.cli.output import print_json

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#111;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ok{color:#0a6b2d;font-weight:600}.bad{color:#b00020;font-weight:600}
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:.5rem;font-size:12px}
section.sample{page-break-inside:avoid}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}}
"""


@click.command("report")
@click.option("--since", help="Start of the period (ISO 8601 UTC, inclusive).")
@click.option("--until", help="End of the period (ISO 8601 UTC, exclusive).")
@click.option("--format", "form", type=click.Choice(["html", "json"]), default="html")
@click.option("--output", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option("--decision", "decisions", multiple=True, help="A decision to show in full.")
@click.option("--sample", type=click.IntRange(0, 100), default=5, show_default=True)
@click.option("--key", help="The log's verifier key, or a file holding it (default: the config's).")
@click.option("--db", help="Audit database (default: the config's, else proctor.db).")
@click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def report(
    since: str | None,
    until: str | None,
    form: str,
    output: str | None,
    decisions: tuple[str, ...],
    sample: int,
    key: str | None,
    db: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """The evidence report of a period: decisions, holds, approvals, changes, checkpoints,
    and sampled decisions with their proofs."""
    from proctor.cli.loading import existing
    from proctor.runtime.evidence import build_report
    from proctor.storage import open_audit_store

    verifier = verifier_for(key, config)
    store = open_audit_store(existing(audit_location(config, db)), read_only=True)
    try:
        content = build_report(
            store,
            since=since,
            until=until,
            verifier=verifier,
            decisions=decisions,
            sample=sample,
            generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    finally:
        store.close()
    if as_json or form == "json":
        if output is None:
            print_json(content)
            return
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_html(content)
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")


def render_html(content: dict[str, Any]) -> str:
    period = content["period"]
    title = f"proctor evidence report {period['since'] or 'start'} to {period['until'] or 'now'}"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta http-equiv=Content-Security-Policy "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1><p>generated {_e(content['generated_at'])}</p>",
    ]
    decisions = content["decisions"]
    parts.append(f"<h2>Decisions ({decisions['total']})</h2>")
    for name in ("by_effect", "by_agent", "by_user", "by_action"):
        parts.append(_counts(name.removeprefix("by_"), decisions[name]))
    columns = ("ts", "decision_id", "effect", "agent", "user", "action", "reason", "code")
    held = content["denials_and_holds"]
    parts.append(f"<h2>Denials and holds ({held['total']})</h2>" + _rows(held["listed"], columns))
    approvals = content["approvals"]
    parts.append(
        f"<h2>Approvals ({approvals['total']})</h2>"
        + _rows(
            approvals["listed"],
            ("ts", "approval_id", "effect", "approver", "reason", "requested_by_decision"),
        )
    )
    changes = content["identity_changes"]
    parts.append(
        f"<h2>Agent, tier and token changes ({changes['total']})</h2>"
        + _rows(changes["listed"], ("ts", "kind", "effect", "agent", "reason", "extra"))
    )
    parts.append(
        "<h2>Policy changes</h2>"
        + _rows(content["policy_changes"], ("ts", "effect", "reason", "extra"))
    )
    checkpoints = content["checkpoints"]
    verdict = checkpoints["verification"]
    state = {True: ("ok", "verified"), False: ("bad", "FAILED"), None: ("bad", "not verified")}
    css, word = state[verdict["ok"]]
    parts.append(
        f"<h2>Signed checkpoints</h2><p>the log against its signed checkpoints: "
        f"<span class={css}>{word}</span> {_e(verdict.get('problem') or '')}</p>"
        + _rows(checkpoints["covering"], ("number", "time", "size"))
    )
    parts.append(f"<h2>Sampled decisions ({len(content['samples'])})</h2>")
    for item in content["samples"]:
        parts.append(_sample(item))
    parts.append("</body></html>\n")
    return "".join(parts)


def _sample(item: dict[str, Any]) -> str:
    heading = f"<section class=sample><h3>{_e(item['decision_id'])}</h3>"
    if item.get("missing"):
        return f"{heading}<p>no such record</p></section>"
    problem = _e(item["proof_problem"] or "")
    proof_state = {
        True: "<span class=ok>inclusion proof verified</span>",
        False: f"<span class=bad>no valid proof</span> {problem}",
        None: "proof not checked (no key)",
    }[item["proof_ok"]]
    answers = (
        ("who asked", item["who"]),
        ("with what permissions", item["permissions"]),
        ("what data", item["data"]),
        ("what was scanned and found", item["scanned"]),
        ("the decision", item["decision"]),
    )
    rows = "".join(
        f"<tr><th>{_e(name)}</th><td><pre>{_json(value)}</pre></td></tr>" for name, value in answers
    )
    proof = ""
    if item["proof"] is not None:  # open, so a printed page shows it
        proof = f"<details open><summary>proof</summary><pre>{_json(item['proof'])}</pre></details>"
    return f"{heading}<p>{proof_state}</p><table>{rows}</table>{proof}</section>"


def _counts(name: str, counts: dict[str, int]) -> str:
    body = "".join(f"<tr><td>{_e(key)}</td><td>{count}</td></tr>" for key, count in counts.items())
    return f"<table><tr><th>{_e(name)}</th><th>decisions</th></tr>{body}</table>"


def _rows(items: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    if not items:
        return "<p>none</p>"
    head = "".join(f"<th>{_e(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(item.get(column))}</td>" for column in columns) + "</tr>"
        for item in items
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"<pre>{_json(value)}</pre>"
    return _e("" if value is None else str(value))


def _json(value: Any) -> str:
    return _e(json.dumps(value, indent=1, ensure_ascii=False, default=str))


def _e(text: str) -> str:
    return html.escape(text, quote=True)
