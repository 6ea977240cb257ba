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
approval in the context. A batch answers each item with its ``decision`` alone
(the shape the interop runners compare), and an item that does not make a
whole request after its defaults are applied with ``decision: false`` and the
problem in its ``context`` (the certification scenario's ``execute_all``).

Forward compatibility (§5, §6.1): members the PDP does not know are ignored.
A top-level default may be partial (``"resource": {}``): each item replaces a
default entity whole, ``context`` included (an item's ``"context": {}`` means
no context). ``X-Request-ID`` is echoed (``request_id.py``), and the PDP's
metadata is served at ``/.well-known/authzen-configuration`` (§10).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.model.decision import Decision
from proctor.model.request import User
from proctor.server.auth import Principal
from proctor.server.bodies import CheckBody, M, UserBody, read_json, validate
from proctor.server.checks import bind, decide, traceparent_of
from proctor.server.errors import ApiError
from proctor.server.state import GatewayState, caller

_SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")
_PARTS = ("subject", "action", "resource", "context")
EVALUATION_PATH = "/access/v1/evaluation"
EVALUATIONS_PATH = "/access/v1/evaluations"
METADATA_PATH = "/.well-known/authzen-configuration"


class _Open(BaseModel):
    """A body whose unknown members are ignored, as AuthZEN asks of a PDP."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Entity(_Open):
    type: str = Field(min_length=1, max_length=200)
    id: str = Field(min_length=1, max_length=500)
    properties: dict[str, Any] = Field(default_factory=dict)


class ActionEntity(_Open):
    name: str = Field(min_length=1, max_length=500)
    properties: dict[str, Any] = Field(default_factory=dict)


class EvaluationBody(_Open):
    subject: Entity
    action: ActionEntity
    resource: Entity
    context: dict[str, Any] = Field(default_factory=dict)


class PartialEntity(_Open):
    """A default or an item's entity, checked once the item is whole."""

    type: str | None = Field(default=None, max_length=200)
    id: str | None = Field(default=None, max_length=500)
    name: str | None = Field(default=None, max_length=500)
    properties: dict[str, Any] | None = None


class PartialEvaluation(_Open):
    subject: PartialEntity | None = None
    action: PartialEntity | None = None
    resource: PartialEntity | None = None
    context: dict[str, Any] | None = None


class EvaluationsBody(PartialEvaluation):
    evaluations: list[PartialEvaluation] = Field(default_factory=list, max_length=100)
    options: dict[str, Any] = Field(default_factory=dict)


async def evaluation(request: Request) -> Response:
    state, principal = caller(request)
    body = await _read(request, EvaluationBody)
    return JSONResponse(await _evaluate(state, principal, body, request))


async def _read(request: Request, model: type[M]) -> M:
    """AuthZEN answers 400, not 415, to a body that is not `application/json`."""
    try:
        return await read_json(request, model)
    except ApiError as exc:
        if exc.status != 415:
            raise
        raise ApiError(400, exc.message, code=exc.code) from exc


async def evaluations(request: Request) -> Response:
    state, principal = caller(request)
    body = await _read(request, EvaluationsBody)
    semantic = str(body.options.get("evaluations_semantic", "execute_all"))
    if semantic not in _SEMANTICS:
        raise ApiError(
            400,
            f"unknown `evaluations_semantic` `{semantic}`",
            code="invalid_body",
            details={"expected": list(_SEMANTICS)},
        )
    if not body.evaluations:  # one evaluation: its defaults must make a whole request
        one = validate(EvaluationBody, _whole(body, PartialEvaluation()))
        return JSONResponse(await _evaluate(state, principal, one, request))
    answers: list[dict[str, Any]] = []
    for item in body.evaluations:
        try:
            one = validate(EvaluationBody, _whole(body, item))
        except ApiError as exc:
            reason = {"code": exc.code, "reason_admin": {"en": exc.message}}
            answer: dict[str, Any] = {"decision": False, "context": reason}
        else:
            answer = {"decision": (await _evaluate(state, principal, one, request))["decision"]}
        answers.append(answer)
        if (semantic == "deny_on_first_deny" and not answer["decision"]) or (
            semantic == "permit_on_first_permit" and answer["decision"]
        ):
            break
    return JSONResponse({"evaluations": answers})


def _whole(defaults: PartialEvaluation, item: PartialEvaluation) -> dict[str, Any]:
    """The item, each part it lacks taken whole from the defaults (§7.1)."""
    merged: dict[str, Any] = {}
    for part in _PARTS:
        value = getattr(item, part)
        if value is None:
            value = getattr(defaults, part)
        if isinstance(value, PartialEntity):
            value = value.model_dump(exclude_none=True)
        if value is not None:
            merged[part] = value
    return merged


async def metadata(request: Request) -> Response:
    """PDP metadata (§10.1): where the APIs are; public, like any discovery document."""
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "policy_decision_point": base,
            "access_evaluation_endpoint": base + EVALUATION_PATH,
            "access_evaluations_endpoint": base + EVALUATIONS_PATH,
        }
    )


async def _evaluate(
    state: GatewayState, principal: Principal, body: EvaluationBody, request: Request
) -> dict[str, Any]:
    check = bind(state, principal, _as_check(principal, body, state.runtime.users))
    return _answer(await decide(state, check, traceparent_of(request)))


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
    Route(EVALUATION_PATH, evaluation, methods=["POST"]),
    Route(EVALUATIONS_PATH, evaluations, methods=["POST"]),
    Route(METADATA_PATH, metadata, methods=["GET"]),
]
