"""Signed webhook notifications of new approvals (``approvals.webhook`` in ``proctor.yaml``).

The body is JSON (``{"type": "approval.pending", "approval": {...}}``), sent
by POST from one background thread, so a slow or failing receiver never slows
or changes a decision. Each request carries::

    X-Proctor-Timestamp: 1795600000
    X-Proctor-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>

Receivers check the signature with ``verify_signature`` (or the same HMAC) and
reject old timestamps to stop replays. The secret is read from the environment
variable the config names, never from the file.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from proctor.errors import ProctorError
from proctor.limits.approvals import Approval
from proctor.telemetry import TRACEPARENT_HEADER, current_traceparent

log = logging.getLogger("proctor.webhooks")
SIGNATURE_HEADER = "X-Proctor-Signature"
TIMESTAMP_HEADER = "X-Proctor-Timestamp"
_RETRIES = (0.5, 2.0)


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://")
    secret_env: str = "PROCTOR_WEBHOOK_SECRET"
    timeout: float = Field(default=5.0, gt=0, le=60)


class ApprovalsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    webhook: WebhookConfig | None = None


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: int = 300
) -> bool:
    """True when ``signature`` signs ``body`` at ``timestamp``, within ``tolerance`` seconds."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs(now - moment) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, moment, body), signature)


class ApprovalWebhook:
    """Posts each new approval to ``url``; call it with the approval (a ``Guardrails`` hook)."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float = 5.0,
        wall_clock: Callable[[], float] = time.time,
        retry_pauses: tuple[float, ...] = _RETRIES,
    ) -> None:
        self.url = url
        self._secret = secret
        self._timeout = timeout
        self._wall_clock = wall_clock
        self._retry_pauses = retry_pauses
        # each message with the traceparent of the check that raised it (W3C Trace Context)
        self._queue: queue.Queue[tuple[dict[str, Any], str | None] | None] = queue.Queue(
            maxsize=10_000
        )
        self.sent = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="proctor-webhook", daemon=True)
        self._thread.start()

    def __call__(self, approval: Approval) -> None:
        try:
            message = {"type": "approval.pending", "approval": approval.to_dict()}
            self._queue.put_nowait((message, current_traceparent()))
        except queue.Full:
            self.failed += 1
            log.warning("webhook queue is full; approval %s not notified", approval.approval_id)

    def close(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            message, traceparent = item
            body = orjson.dumps(message)
            for attempt, pause in enumerate((*self._retry_pauses, None)):
                if self._post(body, traceparent):
                    self.sent += 1
                    break
                if pause is None:
                    self.failed += 1
                    log.warning("webhook %s failed %d times; giving up", self.url, attempt + 1)
                    break
                threading.Event().wait(pause)

    def _post(self, body: bytes, traceparent: str | None = None) -> bool:
        # imported here: loading a config must not load the HTTP and TLS stack
        import urllib.error
        import urllib.request

        timestamp = int(self._wall_clock())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        if traceparent is not None:
            headers[TRACEPARENT_HEADER] = traceparent
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return 200 <= int(response.status) < 300
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("webhook %s: %s", self.url, exc)
            return False


def approval_webhook(config: ApprovalsConfig) -> ApprovalWebhook | None:
    """The webhook ``config`` asks for; raises ``ProctorError`` when its secret is not set."""
    settings = config.webhook
    if settings is None:
        return None
    secret = os.environ.get(settings.secret_env)
    if not secret:
        raise ProctorError(
            f"the approval webhook needs a secret in the environment variable "
            f"`{settings.secret_env}`",
            code="webhook_secret_missing",
        )
    return ApprovalWebhook(settings.url, secret.encode(), timeout=settings.timeout)
