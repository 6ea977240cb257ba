"""``POST /v1/admin/policies/reload``: compile first, replace only when everything compiled.

Without a body the config's policy files are read again; with
``{"texts": [...]}`` those YAML documents become the whole set. A set that
fails to compile is answered with every error and the running set stays. A
set of no policies (which would deny every call) is refused with 409
``policy_set_empty`` unless the body says ``"allow_empty": true``. The change
(or refusal) is written to the audit trail, and the new set goes live only
once its record is stored: with the audit store down the reload answers 503
and the running set stays.

Under ``serve --workers N`` each worker holds its own compiled set: a reload
from the config's files is made by the worker that gets it and then by every
worker, which the supervisor replaces one by one (each compiles the files at
start); a reload from ``texts`` would reach one worker only and is refused
(409 ``reload_reaches_one_worker``).
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.errors import ProctorError
from proctor.policy import load_policies
from proctor.server.auth import AUDIT_READ, POLICIES_WRITE, require
from proctor.server.bodies import PoliciesBody, read_json
from proctor.server.errors import ApiError
from proctor.server.state import caller
from proctor.server.workers import restart_workers

POLICY_SET_EMPTY = "policy_set_empty"
RELOAD_REACHES_ONE_WORKER = "reload_reaches_one_worker"


async def reload(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, POLICIES_WRITE)
    has_body = bool(await request.body())
    body = await read_json(request, PoliciesBody) if has_body else PoliciesBody()
    runtime = state.runtime
    if state.workers > 1 and body.texts is not None:
        raise ApiError(
            409,
            f"`{state.workers}` worker processes each hold the policies and a reload from "
            "`texts` reaches one: change the config's files and reload from them, or serve "
            "with `--workers 1`",
            code=RELOAD_REACHES_ONE_WORKER,
        )

    def compile_and_swap() -> dict[str, Any]:
        timezone = runtime.policies.timezone
        paths = state.config.policy_paths if state.config is not None else []
        source = "request" if body.texts is not None else "config"

        def record(effect: str, reason: str, extra: dict[str, Any], wait: bool = False) -> None:
            runtime.record(
                "policy_change",
                action="policy:reload",
                effect=effect,
                reason=reason,
                agent=None,
                user=principal.name,
                extra={"source": source, **extra},
                wait=wait,
            )

        def refuse(message: str, code: str) -> None:
            record("deny", f"rejected: {message}", {"error": code})

        try:
            compiled = (
                load_policies(texts=body.texts, timezone=timezone)
                if body.texts is not None
                else load_policies(paths, timezone=timezone)
            )
        except ProctorError as exc:
            refuse(exc.message, exc.code)
            raise
        if not compiled.policies and not body.allow_empty:
            message = (
                f"the {source} gives no policies, so every call would be denied; "
                'send `"allow_empty": true` to load an empty set on purpose'
            )
            refuse(message, POLICY_SET_EMPTY)
            raise ApiError(409, message, code=POLICY_SET_EMPTY)
        # The change is recorded (and stored) before it takes effect: an audit store
        # that cannot take the record leaves the running set in place (503).
        record(
            "allow",
            f"{len(compiled.policies)} policies loaded from the {source}",
            {"policies": [p.name for p in compiled.policies]},
            wait=True,
        )
        runtime.replace_policies(compiled)
        return {"policies": len(compiled.policies), "rules": len(compiled), "source": source}

    answer = await to_thread.run_sync(compile_and_swap)
    if state.workers > 1:
        restart_workers()  # the others read the same files as they start
        answer["workers"] = f"{state.workers} restarting on the new set"
    return JSONResponse(answer)


async def list_policies(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    policies = state.runtime.policies
    return JSONResponse(
        {"policies": [{"name": p.name} for p in policies.policies], "rules": len(policies)}
    )


routes = [
    Route("/v1/admin/policies", list_policies, methods=["GET"]),
    Route("/v1/admin/policies/reload", reload, methods=["POST"]),
]
