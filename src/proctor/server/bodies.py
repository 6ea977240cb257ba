"""Typed request bodies (pydantic at the edge) and the reading of a JSON body."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from proctor.identity.exchange import MAX_SCOPES
from proctor.model.nesting import MAX_WIRE_DEPTH, wire_nests_too_deep
from proctor.server.errors import ApiError

M = TypeVar("M", bound=BaseModel)
MAX_BATCH = 100


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserBody(_Body):
    sub: str = Field(min_length=1, max_length=500)
    # scope sets compare their wildcard patterns pairwise: a bound keeps a check cheap
    scopes: list[str] | None = Field(default=None, max_length=MAX_SCOPES)
    claims: dict[str, Any] = Field(default_factory=dict)


class CheckBody(_Body):
    """One check: the SDK's ``check`` parameters (``at`` needs the admin scope)."""

    action: str = Field(max_length=2000)  # the runtime judges it (a deny, not a 400)
    agent: str | None = Field(default=None, max_length=200)
    user: str | UserBody | None = None
    args: dict[str, Any] | None = None
    resource: str | None = Field(default=None, max_length=2000)
    context: dict[str, Any] | None = None
    # no control character: PostgreSQL text refuses a NUL, so a run could not be read
    run_id: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    trace_id: str | None = Field(default=None, max_length=200)
    token: str | None = Field(default=None, max_length=16_384)
    at: datetime | None = None
    # A client's key for this check: a retry with the same key and body is answered
    # from the first decision, which is recorded once (server/replays.py).
    request_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
    )


class OutputBody(CheckBody):
    """A tool's result to review (``POST /v1/outputs``); ``call_id`` is the check's decision id."""

    result: Any = None
    call_id: str | None = Field(default=None, max_length=200)
    tool: str | None = Field(default=None, max_length=200)
    record: bool = False


class TaskBody(_Body):
    """What the user asked in a run (``POST /v1/runs/{run_id}/task``): trusted values."""

    content: Any


class BatchBody(_Body):
    checks: list[CheckBody] = Field(min_length=1, max_length=MAX_BATCH)


class AgentCreateBody(_Body):
    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
    role: str | None = None
    tier: str = "unverified"
    owner: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    api_key: bool = True
    public_key: dict[str, Any] | None = None  # a public JWK, for signed client assertions


class TierBody(_Body):
    tier: str
    by: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class PoliciesBody(_Body):
    """Policy documents (YAML text) to replace the loaded set; none: re-read the config's files."""

    texts: list[str] | None = Field(default=None, max_length=100)
    allow_empty: bool = Field(default=False, strict=True)  # a set of no policies denies every call
    message: str = Field(default="", max_length=2000)  # kept with a version pushed to the store


class ActivateBody(_Body):
    """The stored policy version to make active again (a rollback)."""

    version: int = Field(ge=1, le=2**62, strict=True)


class ApprovalDecisionBody(_Body):
    """``by``, when sent, must be the credential's own id: the credential is the approver."""

    by: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


async def read_json(request: Request, model: type[M]) -> M:
    """The body as ``model``: 415 unless JSON, 400 with every problem when it does not fit."""
    require_json(request.headers.get("content-type"))
    return parse_json(await request.body(), model)


def require_json(content_type: str | None) -> None:
    """415 unless the ``Content-Type`` (absent: JSON) is JSON."""
    kind = (content_type or "application/json").split(";")[0].strip()
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise ApiError(415, f"send `application/json`, not `{kind}`", code="unsupported_media")


def parse_json(raw: bytes, model: type[M]) -> M:
    """``raw`` as ``model``: 400 ``invalid_json``, or 400 ``invalid_body`` with every problem."""
    try:
        value = orjson.loads(raw or b"null")
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not JSON: {exc}", code="invalid_json") from exc
    if wire_nests_too_deep(raw, value):
        raise ApiError(
            400, f"the body nests deeper than {MAX_WIRE_DEPTH} levels", code="invalid_json"
        )
    return validate(model, value)


def validate(model: type[M], value: Any) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = [
            {"path": ".".join(str(p) for p in item["loc"]), "message": item["msg"]}
            for item in exc.errors(include_url=False, include_input=False)
        ]
        first = problems[0] if problems else {"path": "", "message": "invalid"}
        where = f" at `{first['path']}`" if first["path"] else ""
        raise ApiError(
            400,
            f"the body does not fit{where}: {first['message'].lower()}",
            code="invalid_body",
            details={"problems": problems},
        ) from exc
