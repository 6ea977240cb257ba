"""A prompt-injection judge behind HTTP, for ``proctor.scanners.judge.JudgeScanner``.

I/O, so it sits beside the other outbound client (``webhooks``) rather than in
the pure ``scanners`` package; ``build_cascade`` takes ``http_judge`` from here.
``httpx`` is imported when a judge is built, not when this module is: only a
configuration with a judge ``url`` pays for it.

Wire format, version 1. proctor sends::

    POST <url>
    Content-Type: application/json
    {"version": 1, "text": "<the text>", "direction": "input" | "output"}

and expects ``200`` with::

    {"score": <number from 0 to 1>, "reason": "<short sentence, optional>"}

Anything else (a timeout, a connection error, a non-2xx status, a body that is
not that JSON) raises a ``ScanError`` with code ``judge_failed``; the cascade
reports the stage ``failed`` and, fail-closed, adds a ``scan.incomplete`` finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from proctor.scanners import Direction
from proctor.scanners.errors import INVALID_SCANNER_OPTIONS, JUDGE_FAILED, ScanError
from proctor.scanners.judge import JudgeVerdict

if TYPE_CHECKING:
    import httpx

WIRE_VERSION = 1


class HttpJudge:
    """Calls a judge service; one connection pool, shared by the threads that scan."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 2.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ScanError(
                f"the judge `url` must be an http(s) URL, not `{url}`",
                code=INVALID_SCANNER_OPTIONS,
            )
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s <= 0:
            raise ScanError(
                f"the judge `timeout_s` must be a positive number of seconds, not `{timeout_s}`",
                code=INVALID_SCANNER_OPTIONS,
            )
        import httpx

        self.url = url
        self.timeout_s = float(timeout_s)
        self._client = httpx.Client(
            timeout=self.timeout_s, headers=dict(headers or {}), transport=transport
        )

    def __call__(self, text: str, direction: Direction) -> JudgeVerdict:
        import httpx

        body = {"version": WIRE_VERSION, "text": text, "direction": str(direction)}
        try:
            response = self._client.post(self.url, json=body)
            response.raise_for_status()
            reply = response.json()
        except httpx.TimeoutException as exc:
            raise _failed(f"the judge did not answer within {self.timeout_s:g} s") from exc
        except httpx.HTTPStatusError as exc:
            raise _failed(f"the judge answered HTTP {exc.response.status_code}") from exc
        except httpx.HTTPError as exc:
            raise _failed(f"the judge could not be reached ({type(exc).__name__})") from exc
        except ValueError as exc:
            raise _failed("the judge's reply is not JSON") from exc
        return _verdict(reply)

    def close(self) -> None:
        self._client.close()


def http_judge(
    url: str, *, timeout_s: float = 2.0, headers: Mapping[str, str] | None = None
) -> HttpJudge:
    """A judge callable that POSTs each text to ``url`` (wire format in this module's doc)."""
    return HttpJudge(url, timeout_s=timeout_s, headers=headers)


def _verdict(reply: Any) -> JudgeVerdict:
    if not isinstance(reply, dict) or "score" not in reply:
        raise _failed('the judge\'s reply must be a JSON object with `"score"`')
    reason = reply.get("reason", "")
    if reason is None:
        reason = ""
    return JudgeVerdict(reply["score"], reason)


def _failed(message: str) -> ScanError:
    return ScanError(message, code=JUDGE_FAILED)
