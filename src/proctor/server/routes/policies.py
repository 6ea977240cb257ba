"""The policy routes: reload, the stored versions and their activation.

``POST /v1/admin/policies/reload`` compiles first and replaces only when
everything compiled. Without a body the config's policy files are read
again; with ``{"texts": [...]}`` those YAML documents become the whole set.
A set that fails to compile is answered with every error and the running set
stays. A set of no policies (which would deny every call) is refused with
409 ``policy_set_empty`` unless the body says ``"allow_empty": true``.

A gateway that decides with the store's versions (``storage.policies:
store``) pushes the reloaded set as the new active version
(``PolicyVersions.push``, as ``proctor policy push`` does), and every process
on the store follows it. Any other gateway swaps its own set and keeps the
texts by digest in the store, so records naming the digest can be explained.
Either way the change (or refusal) is an audit record, and the new set goes
live only once its record is stored: with the audit store down the reload
answers 503 and the running set stays.

Under ``serve --workers N`` each worker holds its own compiled set. From the
store, every worker follows the pushed version as any process does. Otherwise
a reload from the config's files is made by the worker that gets it and then
by every worker, which the supervisor replaces one by one (each compiles the
files at start); a reload from ``texts`` would reach one worker only and is
refused (409 ``reload_reaches_one_worker``).
"""

from __future__ import annotations

import contextlib
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.errors import ProctorError
from proctor.policy import CompiledPolicySet, load_policies
from proctor.runtime import Runtime
from proctor.runtime.following import follower_of, versions_of
from proctor.runtime.policy_versions import POLICY_SET_EMPTY, PolicyVersionError, PolicyVersions
from proctor.server.auth import AUDIT_READ, POLICIES_WRITE, Principal, require
from proctor.server.bodies import ActivateBody, PoliciesBody, read_json
from proctor.server.errors import ApiError
from proctor.server.state import GatewayState, caller
from proctor.server.supervisor import restart_workers
from proctor.storage.errors import StorageError

RELOAD_REACHES_ONE_WORKER = "reload_reaches_one_worker"

_STATUS = {POLICY_SET_EMPTY: 409, "policy_version_unknown": 404}


def _versions(state: GatewayState) -> PolicyVersions | None:
    return versions_of(state.runtime)


def _from_store(state: GatewayState) -> bool:
    follower = follower_of(state.runtime)
    return follower is not None and follower.settings.from_store


def _credential(principal: Principal) -> dict[str, str]:
    return {"kind": "admin_key", "id": principal.name}


async def reload(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, POLICIES_WRITE)
    has_body = bool(await request.body())
    body = await read_json(request, PoliciesBody) if has_body else PoliciesBody()
    runtime = state.runtime
    source = "request" if body.texts is not None else "config"
    workers_apart = state.workers > 1 and not _from_store(state)
    if workers_apart and body.texts is not None:
        raise ApiError(
            409,
            f"`{state.workers}` worker processes each hold the policies and a reload from "
            "`texts` reaches one: change the config's files and reload from them, push the "
            "set to the store, or serve with `--workers 1`",
            code=RELOAD_REACHES_ONE_WORKER,
        )

    def compile_and_swap() -> dict[str, Any]:
        compiled = _compiled(state, body, source, principal)
        versions = _versions(state)
        if versions is not None and _from_store(state):
            try:
                pushed = versions.push(
                    compiled,
                    by=principal.name,
                    credential=_credential(principal),
                    message=body.message,
                    allow_empty=body.allow_empty,
                    source=source,
                )
            except PolicyVersionError as exc:
                raise ApiError(_STATUS.get(exc.code, 400), exc.message, code=exc.code) from exc
            return {
                "policies": len(compiled.policies),
                "rules": len(compiled),
                "source": source,
                "version": pushed["version"],
                "digest": compiled.digest,
            }
        _refuse_empty(runtime, compiled, source, body.allow_empty, principal)
        # The change is recorded (and stored) before it takes effect: an audit store
        # that cannot take the record leaves the running set in place (503).
        names = [p.name for p in compiled.policies]
        _record_reload(
            runtime, "allow", f"{len(names)} policies loaded from the {source}", principal,
            {"source": source, "policies": names, "digest": compiled.digest},
        )  # fmt: skip
        runtime.replace_policies(compiled)
        if versions is not None:
            with contextlib.suppress(StorageError):  # the texts are kept for `policy show`
                versions.keep(compiled)
        return {
            "policies": len(compiled.policies),
            "rules": len(compiled),
            "source": source,
            "digest": compiled.digest,
        }

    answer = await to_thread.run_sync(compile_and_swap)
    if workers_apart:
        restart_workers()  # the others read the same files as they start
        answer["workers"] = f"{state.workers} restarting on the new set"
    return JSONResponse(answer)


def _compiled(
    state: GatewayState, body: PoliciesBody, source: str, principal: Principal
) -> CompiledPolicySet:
    """The set the reload asks for; a refusal is recorded and raised."""
    runtime = state.runtime
    timezone = runtime.policies.timezone
    paths = state.config.policy_paths if state.config is not None else []
    try:
        return (
            load_policies(texts=body.texts, timezone=timezone)
            if body.texts is not None
            else load_policies(paths, timezone=timezone)
        )
    except ProctorError as exc:
        _record_refusal(runtime, exc.message, exc.code, source, principal)
        raise


def _refuse_empty(
    runtime: Runtime,
    compiled: CompiledPolicySet,
    source: str,
    allow_empty: bool,
    principal: Principal,
) -> None:
    if compiled.policies or allow_empty:
        return
    message = (
        f"the {source} gives no policies, so every call would be denied; "
        'send `"allow_empty": true` to load an empty set on purpose'
    )
    _record_refusal(runtime, message, POLICY_SET_EMPTY, source, principal)
    raise ApiError(409, message, code=POLICY_SET_EMPTY)


def _record_refusal(
    runtime: Runtime, message: str, code: str, source: str, principal: Principal
) -> None:
    why = f"rejected: {message}"
    _record_reload(runtime, "deny", why, principal, {"source": source, "error": code})


def _record_reload(
    runtime: Runtime, effect: str, reason: str, principal: Principal, extra: dict[str, Any]
) -> None:
    """The reload's ``policy_change`` record; an accepted one is stored before it applies."""
    runtime.record(
        "policy_change",
        action="policy:reload",
        effect=effect,
        reason=reason,
        agent=None,
        user=principal.name,
        extra=extra,
        wait=effect == "allow",
    )


async def list_policies(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    policies = state.runtime.policies
    follower = follower_of(state.runtime)
    return JSONResponse(
        {
            "policies": [{"name": p.name} for p in policies.policies],
            "rules": len(policies),
            "digest": policies.digest,
            "version": follower.version if follower is not None else None,
        }
    )


async def list_versions(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    versions = _versions(state)
    if versions is None:
        return JSONResponse({"versions": [], "active": None})

    def read() -> dict[str, Any]:
        active = versions.store.active()
        return {
            "versions": [v.to_dict() for v in versions.store.versions()],
            "active": None if active is None else active.version,
        }

    return JSONResponse(await to_thread.run_sync(read))


async def activate(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, POLICIES_WRITE)
    body = await read_json(request, ActivateBody)
    versions = _versions(state)
    if versions is None:
        raise ApiError(
            409, "this gateway keeps no policy versions: it has no shared store",
            code="policy_store_absent",
        )  # fmt: skip

    def run() -> dict[str, Any]:
        try:
            return versions.activate(
                body.version, by=principal.name, credential=_credential(principal)
            )
        except PolicyVersionError as exc:
            raise ApiError(_STATUS.get(exc.code, 400), exc.message, code=exc.code) from exc

    return JSONResponse(await to_thread.run_sync(run))


routes = [
    Route("/v1/admin/policies", list_policies, methods=["GET"]),
    Route("/v1/admin/policies/reload", reload, methods=["POST"]),
    Route("/v1/admin/policies/versions", list_versions, methods=["GET"]),
    Route("/v1/admin/policies/activate", activate, methods=["POST"]),
]
