"""The OpenAPI 3.1 document of the gateway, served at ``/openapi.json``.

Request schemas come from the pydantic bodies, so the document and the
validation cannot drift; every operation names its error envelope.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from proctor.server.bodies import (
    ActivateBody,
    AgentCreateBody,
    ApprovalDecisionBody,
    BatchBody,
    CheckBody,
    OutputBody,
    PoliciesBody,
    TaskBody,
    TierBody,
)
from proctor.server.routes.authzen import EvaluationBody, EvaluationsBody

_ERROR = {
    "type": "object",
    "required": ["error", "error_description", "code", "status"],
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "code": {"type": "string"},
        "status": {"type": "integer"},
        "hint": {"type": "string"},
        "details": {"type": "object"},
    },
}
_OBJECT = {"type": "object"}
_PUBLIC = ("/healthz", "/readyz", "/.well-known/jwks.json", "/.well-known/authzen-configuration")


def _body(schemas: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, inner in schema.pop("$defs", {}).items():
        schemas[name] = inner
    schemas[model.__name__] = schema
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


def _op(
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ok: int = 200,
    public: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(ok): {"description": "ok", "content": {"application/json": {"schema": _OBJECT}}},
            "default": {
                "description": "the error envelope",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if body is not None:
        op["requestBody"] = body
    if params:
        op["parameters"] = list(params)
    if public:
        op["security"] = []
    return op


def _path(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    }


def _query(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"}}


def build_openapi(version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": _ERROR}
    token_form = {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "subject_token", "subject_token_type"],
                    "properties": {
                        name: {"type": "string"}
                        for name in (
                            "grant_type",
                            "subject_token",
                            "subject_token_type",
                            "actor_token",
                            "actor_token_type",
                            "scope",
                            "audience",
                            "resource",
                            "requested_token_type",
                            "run_id",
                        )
                    },
                }
            }
        },
    }
    audit_filters = [
        _query(name)
        for name in ("user", "agent", "action", "effect", "run", "kind", "since", "until")
    ] + [
        _query("cursor", {"type": "integer", "minimum": 0}),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
    ]
    # approving and rejecting a held call take the same body at the same kind of path
    decision, approval = _body(schemas, ApprovalDecisionBody), [_path("approval_id")]
    paths: dict[str, Any] = {
        "/v1/check": {"post": _op("Decide one call", body=_body(schemas, CheckBody))},
        "/v1/check/batch": {"post": _op("Decide several calls", body=_body(schemas, BatchBody))},
        "/v1/outputs": {
            "post": _op(
                "Review a tool's result (scan, redact, remember)", body=_body(schemas, OutputBody)
            )
        },
        "/v1/runs/{run_id}/task": {
            "post": _op(
                "Remember what the user asked in a run",
                body=_body(schemas, TaskBody),
                params=[_path("run_id")],
            )
        },
        "/access/v1/evaluation": {
            "post": _op("AuthZEN 1.0 access evaluation", body=_body(schemas, EvaluationBody))
        },
        "/access/v1/evaluations": {
            "post": _op("AuthZEN 1.0 access evaluations", body=_body(schemas, EvaluationsBody))
        },
        "/.well-known/authzen-configuration": {"get": _op("AuthZEN 1.0 PDP metadata", public=True)},
        "/oauth2/token": {"post": _op("RFC 8693 token exchange", body=token_form)},
        "/.well-known/jwks.json": {"get": _op("The signing keys (JWKS)", public=True)},
        "/v1/audit": {"get": _op("Audit records (filters, cursor by seq)", params=audit_filters)},
        "/v1/audit/verify": {"get": _op("Verify the hash chain")},
        "/v1/audit/checkpoint": {"get": _op("The latest signed checkpoint (C2SP signed note)")},
        "/v1/audit/{decision_id}": {"get": _op("One audit record", params=[_path("decision_id")])},
        "/v1/audit/{decision_id}/proof": {
            "get": _op("One record's inclusion proof (RFC 9162)", params=[_path("decision_id")])
        },
        "/v1/admin/agents": {
            "get": _op("Agents"),
            "post": _op("Register an agent", body=_body(schemas, AgentCreateBody), ok=201),
        },
        "/v1/admin/agents/{agent_id}": {"get": _op("One agent", params=[_path("agent_id")])},
        "/v1/admin/agents/{agent_id}/rotate": {
            "post": _op("A new API key; the old ones revoked", params=[_path("agent_id")])
        },
        "/v1/admin/agents/{agent_id}/tier": {
            "post": _op(
                "Change an agent's tier", body=_body(schemas, TierBody), params=[_path("agent_id")]
            )
        },
        "/v1/admin/agents/{agent_id}/revoke": {
            "post": _op("Revoke an agent and its credentials", params=[_path("agent_id")])
        },
        "/v1/admin/policies": {"get": _op("The loaded policies")},
        "/v1/admin/policies/reload": {
            "post": _op("Compile and replace the policies", body=_body(schemas, PoliciesBody))
        },
        "/v1/admin/policies/versions": {"get": _op("The stored policy versions")},
        "/v1/admin/policies/activate": {
            "post": _op("Make a stored policy version active", body=_body(schemas, ActivateBody))
        },
        "/v1/status": {"get": _op("Every live process on the store and its policy version")},
        "/v1/admin/approvals": {
            "get": _op(
                "Approvals",
                params=[
                    _query(
                        "status",
                        {"type": "string", "enum": ["pending", "approved", "rejected", "consumed"]},
                    )
                ],
            )
        },
        "/v1/admin/approvals/{approval_id}/approve": {
            "post": _op("Approve a held call", body=decision, params=approval)
        },
        "/v1/admin/approvals/{approval_id}/reject": {
            "post": _op("Reject a held call", body=decision, params=approval)
        },
        "/healthz": {"get": _op("The process answers", public=True)},
        "/readyz": {"get": _op("Store writable and policies loaded", public=True)},
        "/metrics": {"get": _op("Prometheus metrics")},
        "/openapi.json": {"get": _op("This document")},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "proctor gateway", "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


PUBLIC_PATHS = _PUBLIC
