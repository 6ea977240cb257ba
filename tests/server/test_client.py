"""``ProctorClient`` against a real ``proctor serve`` on loopback."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor import governed_tool
from proctor.config import load_config
from proctor.runtime import build_runtime
from proctor.sdk import Proctor, ToolCallBlocked
from proctor.sdk.remote import FAIL_OPEN, GATEWAY_UNAVAILABLE, GatewayError, ProctorClient
from proctor.storage import open_audit_store
from tests.server.gateway import (
    ADMIN_KEY,
    AUDITOR_KEY,
    PEP_KEY,
    ServerProcess,
    free_port,
    start_server,
    write_config,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    config = write_config(tmp_path_factory.mktemp("gateway"))
    process = start_server(config)
    yield process
    process.stop()


@governed_tool("write:refund")
def refund(order_id: str, amount: int) -> str:
    return f"refunded {amount} on {order_id}"


def test_governed_tools_run_through_remote_sessions(server: ServerProcess) -> None:
    with ProctorClient(server.url, token=PEP_KEY) as client:
        with client.session(agent="support-bot", user="alice"):
            assert refund("A-1", 40) == "refunded 40 on A-1"
        with client.session(agent="support-bot", user="alice"), pytest.raises(ToolCallBlocked):
            refund("A-2", 4000)


def test_the_same_request_gives_the_same_decision_and_record_shape(
    server: ServerProcess, tmp_path: Path
) -> None:
    config = load_config(write_config(tmp_path))
    local = Proctor(build_runtime(config, audit=":memory:"))
    with ProctorClient(server.url, token=PEP_KEY) as client:
        for action, args in (
            ("read:orders", None),
            ("write:refund", {"amount": 50}),
            ("delete:orders", None),
        ):
            mine = local.check(action, agent="support-bot", user="alice", args=args)
            theirs = client.check(action, agent="support-bot", user="alice", args=args)
            assert (theirs.effect, theirs.rule_ids, theirs.code, theirs.reason) == (
                mine.effect,
                mine.rule_ids,
                mine.code,
                mine.reason,
            )
            local.runtime.audit.flush()
            local_record = local.runtime.audit.get(mine.decision_id)
            with ProctorClient(server.url, token=AUDITOR_KEY) as auditor:
                remote_record = auditor.audit_record(theirs.decision_id)
            assert local_record is not None
            assert set(remote_record) == set(local_record)
            for key in ("kind", "action", "effect", "rule_ids", "user", "agent", "args_digest"):
                assert remote_record[key] == local_record[key], key
    local.close()


def test_batch_and_reads(server: ServerProcess) -> None:
    with ProctorClient(server.url, token=ADMIN_KEY) as client:
        decisions = client.check_batch(
            [
                {"action": "read:a", "agent": "support-bot"},
                {"action": "delete:a", "agent": "support-bot"},
            ]
        )
        assert [d.effect.value for d in decisions] == ["allow", "deny"]
        assert client.get("/v1/audit/verify")["ok"] is True
        with pytest.raises(GatewayError) as missing:
            client.audit_record("no-such-id")
        assert missing.value.code == "record_not_found"


def test_a_traceparent_travels_as_the_header_and_names_the_records_trace(
    server: ServerProcess,
) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace}-00f067aa0ba902b7-01"
    with ProctorClient(server.url, token=ADMIN_KEY) as client:
        one = client.check("read:a", agent="support-bot", traceparent=traceparent)
        (batched,) = client.check_batch(
            [{"action": "read:a", "agent": "support-bot"}], traceparent=traceparent
        )
        plain = client.check("read:a", agent="support-bot")
        records = [client.audit_record(d.decision_id) for d in (one, batched, plain)]
    assert [r["trace_id"] == trace for r in records] == [True, True, False]


def test_an_unreachable_gateway_fails_closed_unless_told_otherwise() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with ProctorClient(url, token=PEP_KEY, timeout=0.5, connect_timeout=0.2) as closed:
        decision = closed.check("read:orders", agent="support-bot")
        assert decision.denied
        assert decision.code == GATEWAY_UNAVAILABLE
        with pytest.raises(GatewayError):
            closed.get("/v1/audit/verify")
    with ProctorClient(url, token=PEP_KEY, fail_open=True, connect_timeout=0.2) as opened:
        decision = opened.check("read:orders", agent="support-bot")
        assert decision.allowed
        assert decision.code == FAIL_OPEN
        assert "fail_open" in decision.reason


def test_a_refused_request_is_a_deny_even_when_failing_open(server: ServerProcess) -> None:
    with ProctorClient(server.url, token="pa_wrong", fail_open=True) as client:
        decision = client.check("read:orders", agent="support-bot")
        assert decision.denied
        assert decision.code == "token_malformed"  # neither an admin key nor a token


def test_sigterm_drains_and_flushes(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    server = start_server(config)
    with ProctorClient(server.url, token=PEP_KEY) as client:
        ids = [client.check("read:x", agent="support-bot").decision_id for _ in range(20)]
    # uvicorn shuts down gracefully, then re-raises the signal: the exit status says SIGTERM
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert "Finished server process" in server.log.read_text()
    store = open_audit_store(str(tmp_path / "proctor.db"))
    try:
        assert all(store.get(decision_id) is not None for decision_id in ids)
        assert store.verify().ok
    finally:
        store.close()
