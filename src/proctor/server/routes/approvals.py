"""Approvals: list pending (or any) approvals, approve or reject one; every decision audited.

The approver is the admin key that sends the decision: its id is checked
against the rule's ``approvers`` (as the configured user of that name) and
recorded with the credential. ``by`` in the body is only a confirmation: one
that names anybody else is refused, never trusted.
"""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.limits.errors import APPROVAL_NOT_FOUND, APPROVER_NOT_ALLOWED, LimitsError
from proctor.server.auth import APPROVALS_WRITE, AUDIT_READ, require
from proctor.server.bodies import ApprovalDecisionBody, read_json
from proctor.server.errors import ApiError
from proctor.server.state import caller

_STATUSES = ("pending", "approved", "rejected", "consumed")


async def list_approvals(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    status = request.query_params.get("status")
    if status is not None and status not in _STATUSES:
        raise ApiError(
            400,
            f"unknown status `{status}`",
            code="invalid_query",
            details={"expected": list(_STATUSES)},
        )
    now = state.runtime.clock()
    found = await to_thread.run_sync(lambda: state.approvals.list(status, 100))
    return JSONResponse({"approvals": [item.to_dict(now) for item in found]})


async def _decide(request: Request, approve: bool) -> Response:
    state, principal = caller(request)
    require(principal, APPROVALS_WRITE)
    approval_id = request.path_params["approval_id"]
    body = await read_json(request, ApprovalDecisionBody)
    approver = principal.name
    if body.by is not None and body.by != approver:
        raise ApiError(
            403,
            f"this credential decides as `{approver}`, not `{body.by}`",
            code="approver_mismatch",
            details={"approver": approver},
        )
    desk = state.approvals
    credential = {"kind": "admin_key", "admin_key": approver}

    def decide() -> dict[str, object]:
        try:
            decided = desk.decide(
                approval_id,
                approve=approve,
                by=approver,
                reason=body.reason,
                credential=credential,
            )
        except LimitsError as exc:
            status = {APPROVAL_NOT_FOUND: 404, APPROVER_NOT_ALLOWED: 403}.get(exc.code, 409)
            raise ApiError(status, exc.message, code=exc.code) from exc
        return decided.to_dict(state.runtime.clock())

    return JSONResponse(await to_thread.run_sync(decide))


async def approve(request: Request) -> Response:
    return await _decide(request, True)


async def reject(request: Request) -> Response:
    return await _decide(request, False)


routes = [
    Route("/v1/admin/approvals", list_approvals, methods=["GET"]),
    Route("/v1/admin/approvals/{approval_id}/approve", approve, methods=["POST"]),
    Route("/v1/admin/approvals/{approval_id}/reject", reject, methods=["POST"]),
]
