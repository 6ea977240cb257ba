"""Delegation: Alice and Bob use the same `sales-assistant` agent with their own scopes.

Each user's token is exchanged (RFC 8693) for a short-lived delegation token:
scopes = user ∩ role ∩ requested. Alice (read:*, write:refund) gets her agent
to refund; Bob (read:*) cannot; neither can send e-mail, though the agent's
role could. Then the assistant hands a refund to `refund-worker` (agent to
agent: `act` nests, scopes only narrow). Every record names the user, the
agent chain and the scopes held. Run with `proctor demo` or `python scenario.py`.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from proctor import Proctor
from proctor.clock import ManualClock
from proctor.config import LoadedConfig, load_config
from proctor.identity.errors import ExchangeError
from proctor.runtime import build_runtime

HERE = Path(__file__).resolve().parent
STYLES = {"allow": "green", "deny": "red", "require_approval": "yellow"}
USERS = {"alice": ("read:*", "write:refund"), "bob": ("read:*",)}
CALLS = (
    ("read:orders", {"order_id": "A-1001"}),
    ("write:refund", {"order_id": "A-1001", "amount": 40}),
    ("write:email", {"to": "c@x.example"}),
)


def load(workdir: Path, db: str | None) -> LoadedConfig:
    """The example's config, with the key file (and the default audit file) in ``workdir``."""
    loaded = load_config(HERE / "proctor.yaml")
    settings = loaded.config
    assert settings.identity is not None
    identity = settings.identity.model_copy(update={"key_file": str(workdir / "keys.json")})
    storage = settings.storage.model_copy(update={"audit": db or str(workdir / "sales.db")})
    config = settings.model_copy(update={"identity": identity, "storage": storage})
    return LoadedConfig(config, loaded.base, loaded.file)


def run(db: str | None = None, console: Console | None = None) -> bool:
    """Play the scenario; True when the audit chain verifies and the outcomes are the expected."""
    out = console or Console(highlight=False, width=None if sys.stdout.isatty() else 110)
    clock = ManualClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build_runtime(load(Path(tmp), db), clock=clock)
        assert runtime.identity is not None
        with Proctor(runtime) as guard:
            table = Table(title="sales-assistant acting for two users", title_justify="left")
            for column in ("user", "token scopes", "action", "effect", "why"):
                table.add_column(column, overflow="fold")
            outcomes: dict[tuple[str, str], str] = {}
            for user, scopes in USERS.items():
                user_token = runtime.identity.mint_dev_user_token(user, scopes)
                issued = guard.exchange(subject_token=user_token, actor="sales-assistant")
                with guard.session(token=issued.access_token) as session:
                    for action, args in CALLS:
                        decision = session.check(action, args=args)
                        outcomes[(user, action)] = decision.effect.value
                        why = ", ".join(decision.rule_ids) or decision.code
                        table.add_row(
                            user,
                            issued.scope,
                            action,
                            f"[bold {STYLES[decision.effect.value]}]{decision.effect}[/]",
                            why,
                        )
            out.print(table)
            # Bob asks for a refund scope outright: refused, not silently narrowed.
            bob_token = runtime.identity.mint_dev_user_token("bob", USERS["bob"])
            try:
                guard.exchange(
                    subject_token=bob_token, actor="sales-assistant", scope="write:refund"
                )
                escalation = "issued (wrong!)"
            except ExchangeError as refused:
                escalation = f"{refused.error}: {refused.message}"
            out.print(f"bob asks for `write:refund`: [red]{escalation}[/]", soft_wrap=True)
            # Agent to agent: the assistant hands Alice's refund to refund-worker.
            alice_token = runtime.identity.mint_dev_user_token("alice", USERS["alice"])
            first = guard.exchange(subject_token=alice_token, actor="sales-assistant")
            second = guard.exchange(
                subject_token=first.access_token, actor="refund-worker", scope="write:refund"
            )
            handed = guard.check(
                "write:refund", args={"order_id": "A-1002", "amount": 25}, token=second.access_token
            )
            out.print(
                f"alice → sales-assistant → refund-worker, scope `{second.scope}`: "
                f"write:refund [bold {STYLES[handed.effect.value]}]{handed.effect}[/]"
            )
            runtime.audit.flush()
            trail = Table(
                title="audit: user → agent chain → action → scopes held", title_justify="left"
            )
            for column in ("seq", "kind", "user", "chain", "action", "effect", "scopes held"):
                trail.add_column(column, overflow="fold")
            for record in runtime.audit.tail(12):
                chain = " → ".join(item["sub"] for item in reversed(record["delegation"]))
                trail.add_row(
                    str(record["seq"]),
                    record["kind"],
                    (record["user"] or {}).get("sub", "-"),
                    chain or record["agent"]["id"] or "-",
                    record["action"],
                    f"[{STYLES[record['effect']]}]{record['effect']}[/]",
                    " ".join(record["effective_scopes"]),
                )
            out.print(trail)
            report = runtime.audit.verify()
    expected = {
        ("alice", "write:refund"): "allow",
        ("bob", "write:refund"): "deny",
        ("alice", "write:email"): "deny",
        ("bob", "write:email"): "deny",
    }
    ok = report.ok and all(outcomes[key] == value for key, value in expected.items())
    ok = ok and handed.allowed and escalation.startswith("invalid_scope")
    if report.ok:
        out.print(f"[green]audit chain verified[/]: {report.checked} records intact")
    else:
        out.print(f"[red]audit chain broken[/] at record {report.first_bad_seq}: {report.problem}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if run(sys.argv[1] if len(sys.argv) > 1 else None) else 1)
