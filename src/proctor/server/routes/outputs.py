"""``POST /v1/outputs`` (a tool's result, scanned and remembered) and a run's task."""

from __future__ import annotations

from functools import partial

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.errors import ProctorError
from proctor.identity.exchange import MAX_RUN_ID
from proctor.limits.run_owners import RUN_MISMATCH, RUN_NOT_OWNED
from proctor.model.decision import AUDIT_UNAVAILABLE, Effect
from proctor.model.request import RunState
from proctor.server.auth import Principal
from proctor.server.bodies import CheckBody, OutputBody, TaskBody, read_json
from proctor.server.checks import bind, user_of
from proctor.server.errors import ApiError
from proctor.server.routes.check import WIRE_VERSION
from proctor.server.state import caller


async def review_output(request: Request) -> Response:
    state, principal = caller(request)
    body = bind(state, principal, await read_json(request, OutputBody))
    assert isinstance(body, OutputBody)
    call = partial(
        state.runtime.review_output,
        body.action,
        body.result,
        call_id=body.call_id,
        agent=body.agent,
        user=user_of(body.user),
        run=RunState(body.run_id) if body.run_id else None,
        tool=body.tool,
        trace_id=body.trace_id,
        token=body.token,
        record=body.record,
    )
    review = await to_thread.run_sync(call)
    try:  # answered by its own record's fate, as a check is (commits.py)
        await state.commits.wait(review.review_id or None)
    except ProctorError as exc:
        if review.effect is not Effect.DENY:  # its record may commit yet: corrected then
            state.commits.correct_later(review.review_id, exc.message)
        return JSONResponse(
            {
                "version": WIRE_VERSION,
                **review.to_dict(),
                "effect": "deny",
                "allowed": False,
                "value": None,
                "reason": f"withheld: {exc.message}",
                "code": AUDIT_UNAVAILABLE,
            }
        )
    return JSONResponse({"version": WIRE_VERSION, **review.to_dict()})


async def remember_task(request: Request) -> Response:
    """A run's task, from the run's own agent (and user), or an admin key with ``check``.

    A delegation token issued for a run adds to that run only; an agent key or
    token adds to a run it (or, for a token, an agent of its chain) started, or
    claims an unclaimed one. Each addition is an audit record naming the credential.
    """
    state, principal = caller(request)
    run_id = request.path_params["run_id"]
    if not 0 < len(run_id) <= MAX_RUN_ID or not run_id.isprintable():
        raise ApiError(
            400,
            f"a run id has 1 to {MAX_RUN_ID} printable characters",
            code="invalid_run_id",
        )
    bind(state, principal, CheckBody(action="run:task", run_id=run_id))  # who may act in a run
    body = await read_json(request, TaskBody)
    agent, user = _task_caller(principal, run_id)
    credential = {"kind": principal.kind, "id": principal.name}
    runtime = state.runtime

    def remember() -> None:
        if agent is not None:
            why = runtime.run_owners.claim(
                run_id,
                agent,
                user,
                runtime.clock(),
                any_user=user is None,
                delegators=principal.delegators,
            )
            if why is not None:
                raise ApiError(403, f"not remembered: {why}", code=RUN_NOT_OWNED)
        runtime.remember_task(run_id, body.content, agent=agent, user=user, credential=credential)

    try:
        await to_thread.run_sync(remember)
        await state.commits.wait()
    except ApiError:
        raise
    except ProctorError as exc:  # no record, nothing remembered: the caller may retry
        raise ApiError(503, f"not remembered: {exc.message}", code=exc.code) from exc
    return JSONResponse({"version": WIRE_VERSION, "run_id": run_id, "remembered": True})


def _task_caller(principal: Principal, run_id: str) -> tuple[str | None, str | None]:
    """The agent and user a task is checked against (none for an admin key)."""
    if principal.kind == "admin":
        return None, None
    if principal.kind == "delegation":
        if principal.run_id is not None and principal.run_id != run_id:
            raise ApiError(
                403,
                f"the token is bound to run `{principal.run_id}`, not `{run_id}`",
                code=RUN_MISMATCH,
            )
        return principal.agent_id, principal.name
    return principal.agent_id, None


routes = [
    Route("/v1/outputs", review_output, methods=["POST"]),
    Route("/v1/runs/{run_id}/task", remember_task, methods=["POST"]),
]
