"""What the framework adapters share: actions by tool name, refusals the model can read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proctor import ActionDenied, ApprovalRequired, Proctor
from proctor.adapters._gate import AwaitingResults, FrameworkGate, refusal_message
from proctor.mcp.gate import ToolGate
from proctor.model.decision import Decision, Effect
from tests.adapters.conftest import (
    ALICE,
    CUSTOMER,
    LEAKY_CUSTOMER,
    REDACTED_CUSTOMER,
    decisions,
    outputs,
)
from tests.adapters.shop.tools import ANNOTATIONS, CARD, IBAN, INJECTED, MASKED_CARD


def test_actions_default_to_call_the_server_and_the_tool_name() -> None:
    gate = FrameworkGate(server="shop", actions={"refund": "write:refund"})
    assert gate.action_for("refund") == "write:refund"
    assert gate.action_for("lookup_order") == "call:shop/lookup_order"


def test_on_block_is_checked_when_the_gate_is_built() -> None:
    with pytest.raises(ValueError, match="on_block must be `message` or `raise`"):
        FrameworkGate(server="shop", on_block="ignore")  # type: ignore[arg-type]


def test_arguments_that_are_not_a_json_object_are_denied(guard: Proctor) -> None:
    with guard.session(user=ALICE):
        call = FrameworkGate(server="shop").check_json("lookup_order", "[1, 2]")
    assert (call.decision.effect, call.decision.code) == (Effect.DENY, "invalid_arguments")


def test_refusals_say_what_happened_and_what_next() -> None:
    denied = Decision(Effect.DENY, "Orders are never deleted.", decision_id="d-1")
    held = Decision(
        Effect.REQUIRE_APPROVAL,
        "Refunds over $100 need approval",
        decision_id="d-2",
        obligations=({"approval_id": "a-7"},),
    )
    assert refusal_message("delete_order", "call:shop/delete_order", denied) == (
        "proctor denied the call to `delete_order` (action `call:shop/delete_order`): "
        "Orders are never deleted. The tool did not run. Decision id: d-1."
    )
    assert refusal_message("refund", "write:refund", held) == (
        "proctor held the call to `refund` (action `write:refund`) for approval: Refunds over "
        "$100 need approval. The tool did not run. Approval id: a-7. Once a person approves it, "
        "the identical call may be made again. Decision id: d-2."
    )


def test_outputs_are_redacted_or_withheld(guard: Proctor) -> None:
    gate = FrameworkGate(server="shop", actions={"crm": "call:shop/lookup_customer"})
    with guard.session(user=ALICE):
        call = gate.check("crm", {"customer_id": "C-9"})
        redacted = gate.review_output(call, CUSTOMER)
        withheld = gate.review_output(call, LEAKY_CUSTOMER)
        clean = gate.review_output(call, "no customer")
    assert (redacted.value, redacted.changed, redacted.refused) == (REDACTED_CUSTOMER, True, False)
    assert withheld.refused
    assert withheld.value.startswith("proctor withheld the result of `crm`")
    assert "AKIA" not in withheld.value
    assert (clean.value, clean.changed) == ("no customer", False)


def test_raising_gates_raise_the_sdk_errors(guard: Proctor) -> None:
    gate = FrameworkGate(server="shop", actions={"refund": "write:refund"}, on_block="raise")
    with guard.session(user=ALICE):
        held = gate.check("refund", {"order_id": "A-1", "amount": 500})
        denied = gate.check("delete_order", {"order_id": "A-1"})
        customer = gate.check("lookup_customer", {"customer_id": "C-9"})
        with pytest.raises(ApprovalRequired) as approval:
            gate.refuse(held)
        with pytest.raises(ActionDenied):
            gate.refuse(denied)
        with pytest.raises(ActionDenied) as output:
            gate.review_output(customer, LEAKY_CUSTOMER)
    assert approval.value.approval_id == guard.approvals.list()[0].approval_id
    assert output.value.decision.code == "scan_denied"


MISSING_FRAMEWORKS = """
import sys
sys.modules["agents"] = sys.modules["langchain"] = None
for module in ("proctor.adapters.openai_agents", "proctor.adapters.langchain"):
    try:
        __import__(module)
    except ImportError as exc:
        print(exc)
"""


def test_a_missing_framework_names_the_extra_to_install() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", MISSING_FRAMEWORKS],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    agents, langchain = completed.stdout.splitlines()
    assert agents.startswith("`proctor.adapters.openai_agents` needs the OpenAI Agents SDK")
    assert "pip install 'proctor[openai-agents]'" in agents
    assert "pip install 'proctor[langchain]'" in langchain


def test_a_result_that_cannot_be_reviewed_is_withheld(guard: Proctor) -> None:
    class Unreadable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    gate = FrameworkGate(server="shop")
    with guard.session(user=ALICE):
        call = gate.check("lookup_order", {"order_id": "A-1"})
        reviewed = gate.review_output(call, Unreadable())
    assert reviewed.refused
    assert "could not be reviewed (RuntimeError)" in reviewed.value


def test_tools_are_named_and_described_as_the_mcp_proxy_names_them() -> None:
    hints = {"lookup_order": {"readOnlyHint": True}}
    shop, warehouse = FrameworkGate(server="shop", annotations=hints), FrameworkGate(server="wh")
    # one tool name on two servers: two actions, as through the proxy
    assert shop.tool("lookup_order").action == "call:shop/lookup_order"
    assert warehouse.tool("lookup_order").action == "call:wh/lookup_order"
    assert shop.tool("lookup_order") == ToolGate(None).describe(  # type: ignore[arg-type]
        "shop", {"name": "lookup_order", "annotations": {"readOnlyHint": True}}
    )
    # no hints, or hints of the wrong type: the worst case of each, as the proxy reads them
    bad_hints: dict[str, object] = {"lookup_order": [("readOnlyHint", True)]}
    for gate in (warehouse, FrameworkGate(server="wh", annotations=bad_hints)):  # type: ignore[arg-type]
        context = gate.tool("lookup_order").context()["tool"]
        assert (context["read_only"], context["destructive"], context["open_world"]) == (
            False,
            True,
            True,
        )


@pytest.mark.parametrize("server", ["", "a/b", None, ["shop"]])
def test_a_server_name_is_one_segment(server: object) -> None:
    with pytest.raises(ValueError, match="server must be a name"):
        FrameworkGate(server=server)  # type: ignore[arg-type]


def test_results_are_recorded_and_remembered_as_the_servers_tool_output(shop: Proctor) -> None:
    session = shop.session(agent="desk-bot", user="alice", run_id="r-1")
    gate = FrameworkGate(server="shop", annotations=ANNOTATIONS, session=session)
    read = gate.check("read_document", {"name": "invoice-7"})
    gate.review_output(read, INJECTED)
    transfer = gate.check("transfer", {"iban": IBAN, "amount": 40})
    assert transfer.decision.requires_approval
    (output,) = outputs(shop, "call:shop/read_document")
    assert output["extra"]["tool"] == "shop/read_document"
    assert output["extra"]["call"] == read.decision.decision_id
    taint = decisions(shop, "call:shop/transfer")[-1]["extra"]["taint"]["iban"]
    assert (taint["tool"], taint["call"]) == ("shop/read_document", read.decision.decision_id)


def test_a_check_that_fails_denies_the_call(guard: Proctor) -> None:
    class Broken:
        def check(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("the store is gone")

    gate = FrameworkGate(server="shop", session=Broken())  # type: ignore[arg-type]
    call = gate.check("lookup_order", {})
    assert (call.allowed, call.decision.code) == (False, "check_failed")


def test_calls_awaiting_results_are_bounded_and_a_reused_id_starts_afresh() -> None:
    """A run cancelled mid-call leaves calls no result comes for: the oldest go first."""
    awaiting: AwaitingResults[str] = AwaitingResults(limit=2)
    for call_id in ("a", "b", "c"):
        awaiting.put(call_id, call_id.upper())
    awaiting.put("b", "B2")
    assert [awaiting.pop(call_id) for call_id in ("a", "b", "c", "b")] == [None, "B2", "C", None]


def test_a_key_the_input_scan_masked_is_not_passed_on_beside_its_masked_form(
    shop: Proctor,
) -> None:
    """The adapters that merge the framework's arguments (injected ones included) with the
    checked ones hand the tool ``passed_over``: a card written as an argument's name
    reaches the tool masked only, and an argument proctor never checked stays."""
    given = {"order_id": "A-1", CARD: "paid", "text": f"card {CARD}"}
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        call = FrameworkGate(server="shop").check("add_note", given)
    assert call.masked
    passed = call.passed_over({**given, "tool_call_id": "call-7"})
    assert CARD not in json.dumps(passed)
    assert passed["order_id"] == "A-1"
    assert passed["text"] == f"card {MASKED_CARD}"
    assert passed["tool_call_id"] == "call-7"  # injected by the framework, never checked
    assert list(passed.values()).count("paid") == 1  # the masked key keeps its value once
