"""OpenID AuthZEN Authorization API 1.0: proctor as a PDP.

§6 Access Evaluation API, ``POST /access/v1/evaluation``: a request of
``subject``, ``action``, ``resource`` and ``context`` answered with
``{"decision": bool, "context": {...}}``. §7 Access Evaluations API,
``POST /access/v1/evaluations``: top-level defaults plus an ``evaluations``
array, each item overriding them; ``options.evaluations_semantic`` is
``execute_all`` (default), ``deny_on_first_deny`` or ``permit_on_first_permit``.

The mapping onto a proctor check: ``subject.id`` is the user (its
``properties`` become claims, ``properties.scopes`` the scopes, else a user
configured under ``users`` keeps its own scopes and claims); the agent
is the caller's own agent (agent key or delegation token), else
``subject.properties.agent`` or ``context.agent`` for a PEP holding an admin
key with ``check``; ``action.name`` is the action, prefixed with nothing when
it already reads ``verb:resource``, else suffixed with ``:<resource.type>``;
``resource.id`` is the resource and ``resource.properties`` the arguments.
Only ``allow`` is ``decision: true``; ``require_approval`` is false with the
approval in the context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.model.decision import Decision
from proctor.model.request import User
from proctor.server.auth import Principal
from proctor.server.bodies import CheckBody, UserBody, _Body, read_json, validate
from proctor.server.checks import bind, decide
from proctor.server.errors import ApiError
from proctor.server.state import GatewayState, caller
from proctor.telemetry import extract_traceparent

_SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")


class Entity(_Body):
    type: str = Field(min_length=1, max_length=200)
    id: str = Field(min_length=1, max_length=500)
    properties: dict[str, Any] = Field(default_factory=dict)


class ActionEntity(_Body):
    name: str = Field(min_length=1, max_length=500)
    properties: dict[str, Any] = Field(default_factory=dict)


class EvaluationBody(_Body):
    subject: Entity
    action: ActionEntity
    resource: Entity
    context: dict[str, Any] = Field(default_factory=dict)


class PartialEvaluation(_Body):
    subject: Entity | None = None
    action: ActionEntity | None = None
    resource: Entity | None = None
    context: dict[str, Any] | None = None


class EvaluationsBody(_Body):
    subject: Entity | None = None
    action: ActionEntity | None = None
    resource: Entity | None = None
    context: dict[str, Any] | None = None
    evaluations: list[PartialEvaluation] = Field(default_factory=list, max_length=100)
    options: dict[str, Any] = Field(default_factory=dict)


async def evaluation(request: Request) -> Response:
    state, principal = caller(request)
    body = await read_json(request, EvaluationBody)
    return JSONResponse(await _evaluate(state, principal, body, request))


async def evaluations(request: Request) -> Response:
    state, principal = caller(request)
    body = await read_json(request, EvaluationsBody)
    semantic = str(body.options.get("evaluations_semantic", "execute_all"))
    if semantic not in _SEMANTICS:
        raise ApiError(
            400,
            f"unknown `evaluations_semantic` `{semantic}`",
            code="invalid_body",
            details={"expected": list(_SEMANTICS)},
        )
    defaults = {
        "subject": body.subject,
        "action": body.action,
        "resource": body.resource,
        "context": body.context,
    }
    items = body.evaluations or [PartialEvaluation()]
    answers: list[dict[str, Any]] = []
    for item in items:
        merged = {key: getattr(item, key) or value for key, value in defaults.items()}
        if merged["context"] is None:
            merged["context"] = {}
        one = validate(EvaluationBody, {k: v for k, v in merged.items() if v is not None})
        answer = await _evaluate(state, principal, one, request)
        answers.append(answer)
        if (semantic == "deny_on_first_deny" and not answer["decision"]) or (
            semantic == "permit_on_first_permit" and answer["decision"]
        ):
            break
    if not body.evaluations:
        return JSONResponse(answers[0])
    return JSONResponse({"evaluations": answers})


async def _evaluate(
    state: GatewayState, principal: Principal, body: EvaluationBody, request: Request
) -> dict[str, Any]:
    check = bind(state, principal, _as_check(principal, body, state.runtime.users))
    return _answer(await decide(state, check, extract_traceparent(request.headers)))


def _as_check(principal: Principal, body: EvaluationBody, users: Mapping[str, User]) -> CheckBody:
    properties = dict(body.subject.properties)
    context = dict(body.context)
    agent = properties.pop("agent", None) or context.pop("agent", None)
    scopes = properties.pop("scopes", None)
    if isinstance(scopes, str):
        scopes = scopes.split()
    configured = users.get(body.subject.id)
    if scopes is None and configured is not None:  # a configured user keeps its scopes and claims
        scopes = list(configured.scopes)
        properties = {**configured.claims, **properties}
    name = body.action.name
    action = name if ":" in name else f"{name}:{body.resource.type}"
    user: UserBody | None = None
    if principal.kind != "delegation":
        user = validate(
            UserBody,
            {
                "sub": body.subject.id,
                "scopes": scopes,
                "claims": {"type": body.subject.type, **properties},
            },
        )
    return validate(
        CheckBody,
        {
            "action": action,
            "agent": agent if principal.kind == "admin" else None,
            "user": user.model_dump() if user is not None else None,
            "resource": body.resource.id,
            "args": {**body.resource.properties, **body.action.properties} or None,
            "context": context or None,
        },
    )


def _answer(decision: Decision) -> dict[str, Any]:
    context: dict[str, Any] = {
        "id": decision.decision_id,
        "reason_admin": {"en": decision.reason},
        "effect": decision.effect.value,
        "rule_ids": list(decision.rule_ids),
    }
    if decision.code:
        context["code"] = decision.code
    if decision.obligations:
        context["obligations"] = list(decision.obligations)
    return {"decision": decision.allowed, "context": context}


routes = [
    Route("/access/v1/evaluation", evaluation, methods=["POST"]),
    Route("/access/v1/evaluations", evaluations, methods=["POST"]),
]
