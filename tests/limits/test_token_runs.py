"""A run named in a delegation token is the run of every call made with that token."""

from __future__ import annotations

from proctor.clock import ManualClock
from proctor.identity.exchange import TokenExchangeRequest
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.storage import open_audit_store
from tests.identity import factory as f

POLICY = 'name: all\nrules: [{action: "*", effect: allow}]\nruns: {max_tool_calls: 2}\n'


def test_the_token_run_counts_against_its_ceilings() -> None:
    clock = ManualClock(f.NOW)
    identity = f.service(clock)
    runtime = Runtime(
        policies=load_policies(texts=[POLICY]),
        registry=identity.registry,
        audit=open_audit_store(":memory:"),
        clock=clock,
        identity=identity,
    )
    request = TokenExchangeRequest(
        subject_token=f.user_token("alice", "read:* write:refund"), run_id="task-77"
    )
    token = runtime.exchange(request, actor="sales-assistant").response.access_token
    decisions = [runtime.check("read:orders", token=token) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[2].code == "run_ceiling"
    record = f.last_record(runtime)
    assert record["run_id"] == "task-77"
    runtime.close()
