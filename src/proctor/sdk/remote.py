"""``ProctorClient``: the SDK's surface over a ``proctor serve`` gateway.

``check``, ``session`` and ``@governed_tool`` (through its sessions) work as
with the in-process ``Proctor``. One pooled httpx client per instance, with
timeouts; connection attempts are retried (the request was not sent), and
idempotent reads (``GET``) are retried a bounded number of times. A check
carries a fresh ``request_id`` and is sent once more when its connection
breaks before an answer (a gateway shutting down, a reset): the gateway
answers a repeat from the first decision, recorded once.

Failing closed: when the gateway cannot be reached or answers with a server
error, ``check`` returns a deny with code ``gateway_unavailable``. With
``fail_open=True`` it returns an allow with code ``fail_open`` instead, so
the choice is visible in the decision (and nothing is recorded: the gateway
never saw the call). A refused request (bad credential, bad body) is a deny
with the envelope's code, whatever ``fail_open`` says.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack, cast

import httpx

from proctor.errors import ProctorError
from proctor.model.decision import Decision, Diagnostic, Effect, ShadowResult
from proctor.model.request import Agent, User
from proctor.runtime import AgentLike, CallFields, CheckCall, OutputCall, OutputFields
from proctor.sdk.session import OpensSessions

if TYPE_CHECKING:
    # the gateway's client needs no policy compiler or scanners: the value is built on use
    from proctor.runtime.scanning import OutputReview

GATEWAY_UNAVAILABLE = "gateway_unavailable"
FAIL_OPEN = "fail_open"
# The connection closed or reset under a sent request, before (all of) an answer.
_BROKEN = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"


class GatewayError(ProctorError):
    """A gateway request other than a check failed (its envelope's code and message)."""

    code = "gateway_error"

    def __init__(self, message: str, *, code: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message, code=code)


class ProctorClient(OpensSessions):
    """Decide tool calls through a gateway: ``ProctorClient("http://127.0.0.1:8700", token=...)``.

    ``token`` is the caller's credential (an agent API key, a delegation
    token, or an admin key with the ``check`` scope for a trusted PEP).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        agent: AgentLike = None,
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
        read_retries: int = 2,
        fail_open: bool = False,
        max_connections: int = 64,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.agent = agent
        self.fail_open = fail_open
        self._read_retries = max(0, min(read_retries, 5))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport
            or httpx.HTTPTransport(
                retries=2,
                limits=httpx.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_connections
                ),
            ),
        )

    # -- checks ----------------------------------------------------------------------

    def check(self, action: str, **fields: Unpack[CallFields]) -> Decision:
        """As ``Proctor.check``, decided and recorded by the gateway; never raises for a deny.

        ``traceparent`` (a W3C trace context header) is sent as the request's header:
        the gateway's decision span joins the caller's trace.
        """
        return self.decide(CheckCall(action, **fields))

    def decide(self, call: CheckCall) -> Decision:
        """``check`` for a ``CheckCall`` built by the caller."""
        body = {**_check_body(call, self.agent), "request_id": uuid.uuid4().hex}
        try:
            response = self._post_keyed("/v1/check", body, _trace(call.traceparent))
        except httpx.TransportError as exc:
            return self._unreachable(f"the gateway could not be reached ({_describe(exc)})")
        if response.status_code >= 500:
            return self._unreachable(f"the gateway failed ({_envelope_message(response)})")
        if response.status_code != 200:
            return _refused(response)
        return decision_from_dict(response.json())

    def check_batch(
        self, checks: Sequence[Mapping[str, Any]], *, traceparent: str | None = None
    ) -> list[Decision]:
        """Several checks in one request (each a dict of ``check``'s keyword arguments).

        ``traceparent``: one W3C trace context for the whole batch, as in ``check``.
        """
        bodies = [
            {
                **_check_body(CheckCall(str(item["action"]), **_fields(item)), self.agent),
                "request_id": uuid.uuid4().hex,
            }
            for item in checks
        ]
        try:
            response = self._post_keyed("/v1/check/batch", {"checks": bodies}, _trace(traceparent))
        except httpx.TransportError as exc:
            return [
                self._unreachable(f"the gateway could not be reached ({_describe(exc)})")
            ] * len(bodies)
        if response.status_code >= 500:
            return [self._unreachable(_envelope_message(response))] * len(bodies)
        if response.status_code != 200:
            return [_refused(response)] * len(bodies)
        return [decision_from_dict(item) for item in response.json()["decisions"]]

    def _post_keyed(
        self, path: str, body: dict[str, Any], headers: dict[str, str] | None
    ) -> httpx.Response:
        """POST checks keyed by request ids; sent once more if the connection broke first."""
        try:
            return self._http.post(path, json=body, headers=headers)
        except _BROKEN:
            return self._http.post(path, json=body, headers=headers)

    def review_output(
        self, action: str, result: Any, **fields: Unpack[OutputFields]
    ) -> OutputReview:
        """As ``Proctor.review_output``, by the gateway; an unreachable gateway withholds."""
        call = OutputCall(action, result, **fields)
        checked = CheckCall(
            action,
            agent=call.agent,
            user=call.user,
            run=call.run,
            trace_id=call.trace_id,
            token=call.token,
        )
        body = _check_body(checked, self.agent)
        body.update(
            {"result": result, "call_id": call.call_id, "tool": call.tool, "record": call.record}
        )
        try:
            response = self._http.post("/v1/outputs", json=body)
        except httpx.TransportError as exc:
            return _withheld(f"the gateway could not be reached ({_describe(exc)})")
        if response.status_code != 200:
            return _withheld(f"the gateway refused the result ({_envelope_message(response)})")
        return review_from_dict(response.json())

    def remember_task(self, run_id: str, content: Any) -> None:
        """As ``Proctor.remember_task``; raises ``GatewayError`` when the gateway refuses."""
        try:
            response = self._http.post(f"/v1/runs/{run_id}/task", json={"content": content})
        except httpx.TransportError as exc:
            raise GatewayError(
                f"the gateway could not be reached ({_describe(exc)})", code=GATEWAY_UNAVAILABLE
            ) from exc
        if response.status_code != 200:
            raise GatewayError(
                _envelope_message(response), code="task_refused", status=response.status_code
            )

    def exchange(
        self,
        *,
        subject_token: str,
        scope: str | Sequence[str] = (),
        audience: str | None = None,
        actor_token: str | None = None,
        actor_token_type: str | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """RFC 8693 token exchange at ``/oauth2/token``; raises ``GatewayError`` when refused."""
        form = {
            "grant_type": _TOKEN_EXCHANGE,
            "subject_token": subject_token,
            "subject_token_type": _ACCESS_TOKEN,
        }
        scopes = scope if isinstance(scope, str) else " ".join(scope)
        optional = {
            "scope": scopes or None,
            "audience": audience,
            "actor_token": actor_token,
            "actor_token_type": actor_token_type,
            "run_id": run_id,
        }
        form.update({key: value for key, value in optional.items() if value})
        try:
            response = self._http.post("/oauth2/token", data=form)
        except httpx.TransportError as exc:
            raise GatewayError(
                f"the gateway could not be reached ({_describe(exc)})", code=GATEWAY_UNAVAILABLE
            ) from exc
        issued: dict[str, Any] = _json_or_raise(response)
        return issued

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """An idempotent read (``/v1/audit``...), retried on network failures and 5xx."""
        delay = 0.05
        for attempt in range(self._read_retries + 1):
            try:
                response = self._http.get(path, params=dict(params or {}))
            except httpx.TransportError as exc:
                if attempt == self._read_retries:
                    raise GatewayError(
                        f"the gateway could not be reached ({_describe(exc)})",
                        code=GATEWAY_UNAVAILABLE,
                    ) from exc
            else:
                if response.status_code < 500 or attempt == self._read_retries:
                    return _json_or_raise(response)
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def audit_record(self, decision_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.get(f"/v1/audit/{decision_id}")
        return found

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ProctorClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _unreachable(self, why: str) -> Decision:
        if self.fail_open:
            return Decision(
                Effect.ALLOW,
                f"allowed without a decision (fail_open): {why}",
                code=FAIL_OPEN,
            )
        return Decision(Effect.DENY, f"denied (fail closed): {why}", code=GATEWAY_UNAVAILABLE)


def decision_from_dict(body: Mapping[str, Any]) -> Decision:
    """A ``Decision`` from its wire form (``Decision.to_dict``)."""
    shadow = body.get("shadow")
    return Decision(
        Effect(body["effect"]),
        str(body.get("reason", "")),
        tuple(body.get("rule_ids", ())),
        str(body.get("decision_id", "")),
        tuple(body.get("effective_scopes", ())),
        obligations=tuple(body.get("obligations", ())),
        findings=tuple(body.get("findings", ())),
        diagnostics=tuple(
            Diagnostic(d["code"], d["message"], d.get("rule_id"))
            for d in body.get("diagnostics", ())
        ),
        shadow=(
            ShadowResult(Effect(shadow["effect"]), tuple(shadow["rule_ids"]), shadow["reason"])
            if shadow
            else None
        ),
        code=str(body.get("code", "")),
        redacted_args=body.get("redacted_args"),
    )


def review_from_dict(body: Mapping[str, Any]) -> OutputReview:
    """An ``OutputReview`` from its wire form (``OutputReview.to_dict``)."""
    from proctor.runtime.scanning import OutputReview

    return OutputReview(
        Effect(body["effect"]),
        body.get("value"),
        str(body.get("reason", "")),
        findings=tuple(body.get("findings", ())),
        rule_ids=tuple(body.get("rule_ids", ())),
        redacted=bool(body.get("redacted", False)),
        review_id=str(body.get("review_id", "")),
        approval_id=body.get("approval_id"),
        code=str(body.get("code", "")),
    )


def _withheld(why: str) -> OutputReview:
    from proctor.runtime.scanning import OutputReview

    return OutputReview(
        Effect.DENY, None, f"withheld (fail closed): {why}", code=GATEWAY_UNAVAILABLE
    )


def _trace(traceparent: str | None) -> dict[str, str] | None:
    return {"traceparent": traceparent} if traceparent else None


def _fields(item: Mapping[str, Any]) -> CallFields:
    """A batch item's keyword arguments (every key but ``action``), as ``check`` takes them."""
    unknown = set(item) - {"action", *CallFields.__annotations__}
    if unknown:
        raise TypeError(f"unknown check fields: {sorted(unknown)}")
    return cast(CallFields, {key: value for key, value in item.items() if key != "action"})


def _check_body(call: CheckCall, default_agent: AgentLike) -> dict[str, Any]:
    """The wire body of ``POST /v1/check`` (``traceparent`` travels as a header)."""
    body: dict[str, Any] = {"action": call.action}
    agent = call.agent if call.agent is not None else default_agent
    if agent is not None:
        body["agent"] = agent.id if isinstance(agent, Agent) else agent
    if call.user is not None:
        body["user"] = _user(call.user)
    run, at = call.run, call.at
    optional = {
        "args": dict(call.args) if call.args is not None else None,
        "resource": call.resource,
        "context": dict(call.context) if call.context else None,
        "run_id": run.run_id if run is not None else None,
        "trace_id": call.trace_id,
        "token": call.token,
        "at": at.isoformat() if at is not None else None,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def _user(user: User | str | Mapping[str, Any]) -> str | dict[str, Any]:
    if isinstance(user, str):
        return user
    if isinstance(user, User):
        return {"sub": user.sub, "scopes": list(user.scopes), "claims": dict(user.claims)}
    claims = {k: v for k, v in user.items() if k not in ("sub", "scopes")}
    return {
        "sub": str(user.get("sub", "")),
        "scopes": list(user.get("scopes", ())),
        "claims": claims,
    }


def _refused(response: httpx.Response) -> Decision:
    code, message = _envelope(response)
    return Decision(Effect.DENY, f"the gateway refused the request: {message}", code=code)


def _envelope(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        return str(body.get("code", "gateway_error")), str(body.get("error_description", ""))
    except ValueError:
        return "gateway_error", f"HTTP {response.status_code}"


def _envelope_message(response: httpx.Response) -> str:
    return f"HTTP {response.status_code}: {_envelope(response)[1]}"


def _json_or_raise(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        code, message = _envelope(response)
        raise GatewayError(message, code=code, status=response.status_code)
    return response.json()


def _describe(exc: httpx.TransportError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
