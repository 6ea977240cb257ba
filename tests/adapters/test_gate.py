"""What the framework adapters share: actions by tool name, refusals the model can read."""

from __future__ import annotations

import subprocess
import sys

import pytest

from proctor import ActionDenied, ApprovalRequired, Proctor
from proctor.adapters._gate import FrameworkGate, refusal_message
from proctor.model.decision import Decision, Effect
from tests.adapters.conftest import ALICE, CUSTOMER, LEAKY_CUSTOMER, REDACTED_CUSTOMER


def test_actions_default_to_call_and_the_tool_name() -> None:
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
