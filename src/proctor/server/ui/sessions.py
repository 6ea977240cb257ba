"""Who is signed in to the dashboard, and the guards every state change passes.

Sign-in is with an admin key (``server.admin_keys``): the account is the
key's id, the password the key itself. The session cookie (Starlette's
``SessionMiddleware``, signed with itsdangerous) keeps the key's id and the
start of its SHA-256; each request looks the key up again, so a key removed or
replaced in the config ends its sessions once the server restarts with it.
A session lasts ``SESSION_SECONDS`` from its sign-in, however often the cookie
is renewed, and signing out ends it for a copy of the cookie too (``ended.py``).

The key's id is also the approver's name: a key with id ``carol`` approves as
the configured user ``carol``, whose claims (``groups``, ``roles``) are
checked against the rule's ``approvers``.

Every POST carries the session's CSRF token in a hidden ``csrf`` field and an
``Origin`` (or ``Referer``) naming this server; anything else is refused with 403.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request

from proctor.errors import ProctorError
from proctor.server.auth import ADMIN, AUDIT_READ
from proctor.server.state import GatewayState
from proctor.server.ui.ended import EndedSessions

_log = logging.getLogger("proctor.server.ui")

SECRET_ENV = "PROCTOR_UI_SECRET"
ORIGINS_ENV = "PROCTOR_UI_ORIGINS"
SECRET_SUFFIX = ".ui-secret"
UI_SECRET_WEAK = "ui_secret_weak"
# Anyone can fetch a signed cookie from the sign-in form and try secrets against it
# offline: a configured one needs at least this many characters (the gateway's own are
# 32 random bytes)
SECRET_MIN_CHARACTERS = 32
CSRF_FIELD = "csrf"
SESSION_COOKIE = "proctor_ui"
SESSION_SECONDS = 8 * 3600
_FINGERPRINT = 16  # hex digits of the key's SHA-256 kept in the cookie: which key, not the key


class SignInRequired(Exception):
    """Raised by ``account``: the page redirects to the sign-in form."""


@dataclass(frozen=True, slots=True)
class Account:
    """The signed-in admin key: its id (the approver name) and its scopes."""

    name: str
    scopes: frozenset[str]
    key_sha256: str

    def holds(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes


def check_key(state: GatewayState, name: str, key: str) -> Account | None:
    """The account for ``name`` and ``key`` when they match an admin key allowed to read."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    found: Account | None = None
    for entry in state.settings.admin_keys:  # every entry compared: no early exit
        same_name = hmac.compare_digest(entry.id.encode(), name.encode())
        if hmac.compare_digest(digest, entry.sha256) and same_name:
            found = Account(entry.id, frozenset(entry.scopes), entry.sha256)
    if found is None or not found.holds(AUDIT_READ):
        return None
    return found


def sign_in(request: Request, account: Account, now: float) -> None:
    """Start a fresh session (a new id and CSRF token: no fixation across sign-ins)."""
    request.session.clear()
    request.session.update(
        {
            "account": account.name,
            "key": account.key_sha256[:_FINGERPRINT],
            "id": secrets.token_urlsafe(16),
            "since": int(now),
            CSRF_FIELD: secrets.token_urlsafe(32),
        }
    )


def sign_out(request: Request, ended: EndedSessions, now: float) -> None:
    """Clear the cookie and end the session, so a copy of the cookie is refused too."""
    session_id, since = request.session.get("id"), request.session.get("since")
    if isinstance(session_id, str) and isinstance(since, int):
        ended.end(session_id, since + SESSION_SECONDS, now)
    request.session.clear()


def _live(request: Request, ended: EndedSessions, now: float) -> bool:
    """Signed in less than ``SESSION_SECONDS`` ago (not later than now) and not signed out."""
    session_id, since = request.session.get("id"), request.session.get("since")
    if not isinstance(session_id, str) or type(since) is not int:
        return False  # a cookie from before sessions had ids: sign in again
    if not since <= now < since + SESSION_SECONDS:
        return False
    return not ended.ended(session_id, now)


def current(request: Request, state: GatewayState) -> Account | None:
    """The signed-in account, or None (also when its key left the config or it expired)."""
    name, digest = request.session.get("account"), request.session.get("key")
    if not isinstance(name, str) or not isinstance(digest, str):
        return None
    now = state.runtime.clock().timestamp()
    if not _live(request, request.app.state.ended_sessions, now):
        return None
    for entry in state.settings.admin_keys:
        if entry.id == name and hmac.compare_digest(entry.sha256[:_FINGERPRINT], digest):
            account = Account(entry.id, frozenset(entry.scopes), entry.sha256)
            return account if account.holds(AUDIT_READ) else None
    return None


def account(request: Request, state: GatewayState, scope: str = AUDIT_READ) -> Account:
    """The signed-in account holding ``scope``; redirect to sign-in, or 403 without the scope."""
    found = current(request, state)
    if found is None:
        raise SignInRequired
    if not found.holds(scope):
        raise HTTPException(403, f"your key `{found.name}` lacks the scope `{scope}`")
    return found


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    return token if isinstance(token, str) else ""


async def checked_form(request: Request) -> dict[str, str]:
    """The POSTed form, once its CSRF token and origin are this session's and this server's."""
    _check_origin(request)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = csrf_token(request)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "the form's CSRF token is missing or stale: reload the page")
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _check_origin(request: Request) -> None:
    """A browser sends ``Origin`` on POST; it must be this server (``Referer`` when absent).

    This server is the scheme and ``Host`` the request came with, or an origin
    listed in ``PROCTOR_UI_ORIGINS`` (behind a proxy that rewrites them).
    """
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent:
        raise HTTPException(403, "the request names no origin")
    parts = urlsplit(sent)
    origin = f"{parts.scheme}://{parts.netloc}"
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    listed = {item.strip().rstrip("/") for item in os.environ.get(ORIGINS_ENV, "").split(",")}
    if origin != own and origin not in listed:
        raise HTTPException(403, f"cross-origin request from `{origin}`")


def session_secret(state: GatewayState) -> str:
    """``PROCTOR_UI_SECRET`` (32+ characters), else a 0600 file beside the SQLite file, else new.

    Per process (PostgreSQL, memory) means sessions end when the server restarts
    and do not carry across replicas: set ``PROCTOR_UI_SECRET`` there.
    """
    configured = os.environ.get(SECRET_ENV)
    if configured:
        if len(configured) < SECRET_MIN_CHARACTERS:
            raise ProctorError(
                f"`{SECRET_ENV}` has {len(configured)} characters: a dashboard session secret "
                f"needs at least {SECRET_MIN_CHARACTERS} (make one with `python -c "
                '"import secrets; print(secrets.token_urlsafe(32))"`)',
                code=UI_SECRET_WEAK,
            )
        return configured
    path = getattr(state.runtime.audit, "path", None)
    if isinstance(path, str) and path and Path(path).parent.is_dir():
        try:
            return _secret_file(Path(path + SECRET_SUFFIX))
        except OSError as exc:  # a read-only directory: sessions last as long as the process
            _log.warning("cannot keep the dashboard's session secret beside %s: %s", path, exc)
    return secrets.token_urlsafe(32)


def _secret_file(path: Path) -> str:
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="utf-8").strip()
        if not mode & 0o077 and len(text) >= 32:
            return text
    secret = secrets.token_urlsafe(32)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret)
    os.replace(temporary, path)
    return secret
