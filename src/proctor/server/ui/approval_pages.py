"""The approvals queue: approve or reject a held-back call with a reason.

Decisions go through the gateway's ``ApprovalDesk`` (the runtime's), so the
approver rules apply, the decision is audited, and a caller waiting on the
desk, or retrying the identical call, sees it at once.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proctor.limits.approvals import Approval
from proctor.limits.errors import LimitsError
from proctor.server.auth import APPROVALS_WRITE
from proctor.server.ui.rendering import flash, gateway_state, redirect, render
from proctor.server.ui.sessions import account, checked_form

_RECENT = 20


async def queue(request: Request) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state)
    desk = state.approvals
    now = state.runtime.clock()

    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        waiting = [item.to_dict(now) for item in desk.list("pending", 200)]
        decided = [
            item.to_dict(now)
            for item in sorted(_decided(desk.list(None, 200)), key=_when, reverse=True)
        ][:_RECENT]
        pending = [item for item in waiting if item["status"] == "pending"]
        expired = [item for item in waiting if item["status"] != "pending"]
        return pending, expired, decided

    pending, expired, decided = await to_thread.run_sync(read)
    return render(
        request,
        "approvals.html",
        {
            "pending": pending,
            "expired": expired,
            "decided": decided,
            "may_decide": signed_in.holds(APPROVALS_WRITE),
        },
        account=signed_in,
        page="approvals",
    )


async def _decide(request: Request, approve: bool) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state, APPROVALS_WRITE)
    form = await checked_form(request)
    approval_id = request.path_params["approval_id"]
    reason = form.get("reason", "").strip()
    if not reason:
        flash(request, "give a reason: it is recorded in the audit with your name", "error")
        return redirect(request, f"/approvals#approval-{approval_id}")
    desk = state.approvals

    def decide() -> Approval:
        return desk.decide(
            approval_id,
            approve=approve,
            by=signed_in.name,
            reason=reason[:500],
            credential={"kind": "dashboard", "admin_key": signed_in.name},
        )

    try:
        decided = await to_thread.run_sync(decide)
    except LimitsError as exc:
        flash(request, f"not decided: {exc.message}", "error")
        return redirect(request, "/approvals")
    verb = "approved" if approve else "rejected"
    flash(request, f"{verb} {decided.action} for {decided.user or 'no user'} (…{approval_id[-8:]})")
    return redirect(request, "/approvals")


async def approve(request: Request) -> Response:
    return await _decide(request, True)


async def reject(request: Request) -> Response:
    return await _decide(request, False)


def _decided(items: list[Approval]) -> list[Approval]:
    return [item for item in items if item.decided_at is not None]


def _when(item: Approval) -> float:
    return item.decided_at.timestamp() if item.decided_at is not None else 0.0


routes = [
    Route("/approvals", queue, methods=["GET"]),
    Route("/approvals/{approval_id}/approve", approve, methods=["POST"]),
    Route("/approvals/{approval_id}/reject", reject, methods=["POST"]),
]
