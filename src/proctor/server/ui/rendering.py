"""Pages from Jinja2 templates: the signed-in account, the CSRF token and flash messages in each."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from proctor.server.state import GatewayState
from proctor.server.ui.sessions import Account, csrf_token

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

NAVIGATION = (
    ("feed", "Decisions"),
    ("approvals", "Approvals"),
    ("agents", "Agents"),
    ("policies", "Policies"),
    ("limits", "Budgets and runs"),
    ("chain", "Chain"),
)


# Characters that change how the text around them is shown, or show as nothing: a bidi
# override (U+202E) shows an IBAN reversed, a zero-width space hides inside a name. Pages
# show them as their `\uXXXX` escapes, so an approver reads what the record holds.
_UNSEEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_KEPT = frozenset("\n\t")


def shown(text: str) -> str:
    """``text`` with the characters above as ``\\uXXXX`` (charts and pages alike)."""
    if text.isprintable():  # fast: no character of those kinds (nor a line break)
        return text
    return "".join(
        f"\\u{ord(ch):04x}" if ch not in _KEPT and unicodedata.category(ch) in _UNSEEN else ch
        for ch in text
    )


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}`` on a page: attacker-chosen text shows what it holds, escaped after."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return shown(value)
    return value


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _when(ts: Any) -> str:
    text = str(ts or "")
    return text[:19].replace("T", " ") + (" UTC" if text else "")


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_finalize,
)
_environment.filters["pretty"] = _pretty
_environment.filters["when"] = _when
templates = Jinja2Templates(env=_environment)


def base(request: Request) -> str:
    """The dashboard's path prefix (``/ui`` where it is mounted)."""
    root: str = request.scope.get("root_path", "")
    return root


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    account: Account | None,
    status: int = 200,
    page: str = "",
) -> HTMLResponse:
    flashes = request.session.pop("flash", []) if "session" in request.scope else []
    response: HTMLResponse = templates.TemplateResponse(
        request,
        name,
        {
            "ui": base(request),
            "account": account,
            "csrf": csrf_token(request) if "session" in request.scope else "",
            "flashes": flashes,
            "navigation": NAVIGATION,
            "page": page,
            **context,
        },
        status_code=status,
    )
    return response


def fragment(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    """Part of a page (the feed's new rows): no layout, and flash messages stay for the page."""
    response: HTMLResponse = templates.TemplateResponse(
        request, name, {"ui": base(request), **context}
    )
    return response


def flash(request: Request, text: str, kind: str = "info") -> None:
    """A message shown once on the next page (after a POST redirects)."""
    messages = list(request.session.get("flash", []))
    messages.append({"kind": kind, "text": text})
    request.session["flash"] = messages[-5:]


def redirect(request: Request, path: str) -> Response:
    """303 See Other after a POST, so reloading the page does not repeat it."""
    return RedirectResponse(base(request) + path, status_code=303)


def gateway_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state
