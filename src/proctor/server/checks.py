"""A check body and its caller as one ``Runtime`` check, on the event loop unless it waits."""

from __future__ import annotations

from time import perf_counter

from anyio import to_thread
from starlette.requests import Request

from proctor.errors import ProctorError
from proctor.model.decision import Decision, Effect
from proctor.model.request import RunState, User
from proctor.runtime import CheckCall, Runtime, unrecorded
from proctor.runtime.check_state import Check
from proctor.runtime.pipeline import settling_waits
from proctor.server.auth import ADMIN, CHECK_ANY, Principal
from proctor.server.bodies import CheckBody, UserBody
from proctor.server.errors import ApiError
from proctor.server.replays import keyed_decision_id
from proctor.server.state import GatewayState
from proctor.telemetry import TRACEPARENT_HEADER, extract_traceparent


def bind(state: GatewayState, principal: Principal, body: CheckBody) -> CheckBody:
    """Who the check is for, as the credential allows.

    An admin key with ``check`` decides for any agent (a trusted PEP); an
    agent key only for its own agent, and for a user only as far as
    ``user_assertions`` lets it; a delegation token for its own agent and user
    (the token is the check's token). ``at`` (a what-if time) needs the
    ``admin`` scope.
    """
    if body.at is not None and not (principal.kind == "admin" and ADMIN in principal.scopes):
        raise ApiError(
            403, "`at` (a what-if time) needs the `admin` scope", code="insufficient_scope"
        )
    if principal.kind == "admin":
        if not principal.holds(CHECK_ANY):
            raise ApiError(
                403,
                "this route needs an admin credential with scope `check`",
                code="insufficient_scope",
                details={"required_scope": CHECK_ANY},
            )
        return body
    if body.agent is not None and body.agent != principal.agent_id:
        raise ApiError(
            403,
            f"this credential checks for agent `{principal.agent_id}`, not `{body.agent}`",
            code="agent_mismatch",
        )
    if principal.kind == "delegation":
        if body.user is not None:
            raise ApiError(
                400, "a delegation token names the user: send no `user`", code="invalid_body"
            )
        return body.model_copy(update={"agent": principal.agent_id, "token": principal.token})
    assert principal.agent_id is not None
    asserted = state.user_assertions.bound(principal.agent_id, body)
    return asserted.model_copy(update={"agent": principal.agent_id})


async def decide_once(
    state: GatewayState, principal: Principal, body: CheckBody, traceparent: str | None = None
) -> Decision:
    """``decide``, once per ``request_id`` when the body has one (``replays.py``)."""
    if body.request_id is None:
        return await decide(state, body, traceparent)
    decision_id = keyed_decision_id(principal, body)
    return await state.replays.once(
        decision_id, lambda: decide(state, body, traceparent, decision_id=decision_id)
    )


async def decide(
    state: GatewayState,
    body: CheckBody,
    traceparent: str | None = None,
    *,
    decision_id: str | None = None,
) -> Decision:
    """``traceparent``: the caller's W3C header; the decision's span becomes its child.

    Decided on the event loop; only what may wait leaves it for a thread: the
    settling of a call that meets an approval, a limit, a run ceiling or a
    ``tiers:`` rule (``settling_waits``), and a whole check that reads a store
    before its policies decide (``_waits_before_deciding``).
    """
    started = perf_counter()
    runtime = state.runtime
    call = call_of(body, traceparent, decision_id)
    if _waits_before_deciding(runtime, body):
        check, decision = await to_thread.run_sync(_begin_and_settle, runtime, call)
    else:
        check, decision = runtime.begin(call)
        if settling_waits(check, decision):
            decision = await to_thread.run_sync(runtime.settle, check, decision)
        else:
            decision = runtime.settle(check, decision)
    try:
        await state.commits.wait(decision.decision_id)  # answered once its record is committed
    except ProctorError as exc:
        if check.charged:  # not recorded, so not spent: off the answer's path
            charged, check.charged = check.charged, []
            runtime.charge_returns.take_back(charged)
        if decision.effect is not Effect.DENY:  # its record may commit yet (commits.py)
            state.commits.correct_later(decision.decision_id, exc.message)
        decision = unrecorded(decision, exc.message)
    state.metrics.observe(decision.effect.value, perf_counter() - started, decision.code)
    return decision


def _begin_and_settle(runtime: Runtime, call: CheckCall) -> tuple[Check, Decision]:
    check, decision = runtime.begin(call)
    return check, runtime.settle(check, decision)


def _waits_before_deciding(runtime: Runtime, body: CheckBody) -> bool:
    """True when the deciding stages read a store, or the record's append waits for its commit.

    A run's owner is read (and claimed) in the state store and its provenance
    in the provenance store; a token's id is looked up in the revocations; a
    ``durability: sync`` store commits inside the append.
    """
    return (
        body.run_id is not None
        or body.token is not None
        or getattr(runtime.audit, "durability", None) != "batched"
    )


def traceparent_of(request: Request) -> str | None:
    """The request's valid ``traceparent`` header (Starlette's headers ignore case already)."""
    return valid_traceparent(request.headers.get(TRACEPARENT_HEADER))


def valid_traceparent(value: str | None) -> str | None:
    """``value`` when it is a valid W3C ``traceparent``, else None."""
    return None if value is None else extract_traceparent({TRACEPARENT_HEADER: value})


def call_of(
    body: CheckBody, traceparent: str | None = None, decision_id: str | None = None
) -> CheckCall:
    """The body as the runtime's one value for a check (its record's id, when keyed)."""
    return CheckCall(
        body.action,
        agent=body.agent,
        user=user_of(body.user),
        args=body.args,
        resource=body.resource,
        context=body.context,
        run=RunState(body.run_id) if body.run_id else None,
        trace_id=body.trace_id,
        at=body.at,
        token=body.token,
        traceparent=traceparent,
        decision_id=decision_id,
    )


def user_of(user: str | UserBody | None) -> str | User | None:
    if user is None or isinstance(user, str):
        return user
    scopes = tuple(user.scopes) if user.scopes is not None else ()
    return User(user.sub, scopes, dict(user.claims))
