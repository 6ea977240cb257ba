"""Sign-in, sessions and the guards on every dashboard route (in-process, no browser)."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Mount, Route

from proctor.runtime import build_runtime
from proctor.server.ui import sessions
from tests.server.ui.conftest import AUDITOR_KEY, CAROL_KEY, PEP_KEY, ROOT_KEY, signed_in_client

ORIGIN = {"Origin": "http://testserver"}


def _dashboard_routes(client: Any) -> list[tuple[str, str]]:
    mount = next(r for r in client.app.routes if isinstance(r, Mount) and r.path == "/ui")
    found = []
    for route in mount.routes:
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, "/ui" + re.sub(r"\{[^}]+\}", "x", route.path)))
    return found


def test_every_page_but_sign_in_sends_a_stranger_to_sign_in(dashboard_app: Any) -> None:
    dashboard_app.cookies.clear()
    for method, path in _dashboard_routes(dashboard_app):
        if path == "/ui/login":
            continue
        answer = dashboard_app.request(method, path, follow_redirects=False, headers=ORIGIN)
        if path == "/ui/":
            assert answer.headers["location"] == "/ui/feed"
        elif method == "GET":
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/ui/login?next="), path
        else:  # a POST without a session has no CSRF token either
            assert answer.status_code in (303, 403), path


def test_every_post_without_the_csrf_token_is_403(dashboard_app: Any) -> None:
    token = signed_in_client(dashboard_app, "root", ROOT_KEY)
    posts = [path for method, path in _dashboard_routes(dashboard_app) if method == "POST"]
    assert len(posts) >= 5
    for path in posts:
        assert dashboard_app.post(path, data={}, headers=ORIGIN).status_code == 403, path
        wrong = {"csrf": token[:-2] + "xx", "reason": "r"}
        assert dashboard_app.post(path, data=wrong, headers=ORIGIN).status_code == 403, path
        foreign = {"Origin": "http://evil.example"}
        answer = dashboard_app.post(path, data={"csrf": token, "reason": "r"}, headers=foreign)
        assert answer.status_code == 403, path
        assert dashboard_app.post(path, data={"csrf": token}).status_code == 403, path  # no origin
    # the session survived all of that
    assert dashboard_app.get("/ui/feed", follow_redirects=False).status_code == 200


def test_a_wrong_key_or_a_key_without_audit_read_cannot_sign_in(dashboard_app: Any) -> None:
    dashboard_app.cookies.clear()
    page = dashboard_app.get("/ui/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    for account, key in (("root", "pa_wrong"), ("carol", ROOT_KEY), ("pep", PEP_KEY)):
        answer = dashboard_app.post(
            "/ui/login",
            data={"csrf": token[1], "account": account, "key": key},
            headers=ORIGIN,
        )
        assert answer.status_code == 401, account
        assert "do not match" in answer.text


def test_sign_in_goes_only_to_a_dashboard_page(dashboard_app: Any) -> None:
    dashboard_app.cookies.clear()
    page = dashboard_app.get("/ui/login", params={"next": "https://evil.example/x"})
    assert 'name="next" value="/ui/feed"' in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = _post_sign_in(dashboard_app, token[1], "root", ROOT_KEY, next_page="//evil.example")
    assert answer.headers["location"] == "/ui/feed"


def test_sign_out_ends_the_session(dashboard_app: Any) -> None:
    token = signed_in_client(dashboard_app, "auditor", AUDITOR_KEY)
    answer = dashboard_app.post(
        "/ui/logout", data={"csrf": token}, headers=ORIGIN, follow_redirects=False
    )
    assert answer.status_code == 303
    assert dashboard_app.get("/ui/feed", follow_redirects=False).status_code == 303


def _session_cookie(client: Any) -> str:
    value: str = client.cookies[sessions.SESSION_COOKIE]
    return value


def _use_cookie(client: Any, value: str) -> None:
    """Send ``value`` as the session cookie, and no other."""
    client.cookies.clear()
    client.cookies.set(sessions.SESSION_COOKIE, value, path="/ui")


def test_a_short_session_secret_is_refused_at_start(tmp_path: Path, monkeypatch: Any) -> None:
    from proctor.errors import ProctorError
    from proctor.server.gateway import build_gateway
    from tests.server.ui.conftest import write_dashboard_config

    config = str(write_dashboard_config(tmp_path, tmp_path / "proctor.db"))
    # a cookie from the sign-in form is enough to try such a secret offline, then forge a session
    monkeypatch.setenv(sessions.SECRET_ENV, "hunter2")
    with pytest.raises(ProctorError) as refused:
        build_gateway(config, None)
    assert refused.value.code == "ui_secret_weak"
    assert "hunter2" not in refused.value.message
    monkeypatch.setenv(sessions.SECRET_ENV, "s" * 32)
    build_gateway(config, None).state.gateway.runtime.close()


def test_a_copied_cookie_is_refused_after_sign_out_here_and_on_another_gateway(
    tmp_path: Path,
) -> None:
    import warnings

    from proctor.server.gateway import build_gateway
    from tests.server.ui.conftest import write_dashboard_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    config = str(write_dashboard_config(tmp_path, tmp_path / "proctor.db"))
    one, other = build_gateway(config, None), build_gateway(config, None)  # one store, one secret
    with TestClient(one) as client, TestClient(other) as replica:
        token = signed_in_client(client, "carol", CAROL_KEY)
        copied = _session_cookie(client)  # what a thief (a shared machine, a proxy log) kept
        _use_cookie(replica, copied)
        assert replica.get("/ui/feed", follow_redirects=False).status_code == 200
        assert client.post("/ui/logout", data={"csrf": token}, headers=ORIGIN).status_code == 200
        _use_cookie(client, copied)
        assert client.get("/ui/feed", follow_redirects=False).status_code == 303
        decide = {"csrf": token, "reason": "replayed"}
        refused = client.post("/ui/approvals/x/approve", data=decide, headers=ORIGIN)
        assert refused.url.path == "/ui/login"
        replica.app.state.gateway.runtime.identity.revocations.expire()  # its 5 s refresh
        assert replica.get("/ui/feed", follow_redirects=False).status_code == 303
        signed_in_client(client, "carol", CAROL_KEY)  # a new sign-in is a new session
        assert client.get("/ui/feed", follow_redirects=False).status_code == 200


def test_without_identity_this_gateway_still_refuses_a_copied_cookie(tmp_path: Path) -> None:
    import warnings

    from proctor.server.gateway import build_gateway
    from tests.server.ui.conftest import write_dashboard_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    config = write_dashboard_config(tmp_path, tmp_path / "proctor.db")
    config.write_text(config.read_text().replace("identity: {allow_dev_tokens: true}", ""))
    app = build_gateway(str(config), None)
    assert app.state.gateway.runtime.identity is None
    with TestClient(app) as client:
        token = signed_in_client(client, "auditor", AUDITOR_KEY)
        copied = _session_cookie(client)
        assert client.post("/ui/logout", data={"csrf": token}, headers=ORIGIN).status_code == 200
        _use_cookie(client, copied)
        assert client.get("/ui/feed", follow_redirects=False).status_code == 303


def test_a_session_whose_sign_out_list_cannot_be_read_gets_a_503_not_the_page(
    clocked_dashboard: Any,
) -> None:
    client, _ = clocked_dashboard
    assert _try_sign_in(client, "carol", CAROL_KEY).status_code == 303
    identity = client.app.state.gateway.runtime.identity
    identity.store.close()  # the store holding signed-out sessions fails
    identity.revocations.expire()
    answer = client.get("/ui/feed", follow_redirects=False)
    assert answer.status_code == 503
    assert "storage_unavailable" in answer.text
    assert "/ui/logout" not in answer.text


def test_a_session_ends_eight_hours_after_sign_in_however_often_it_is_renewed(
    clocked_dashboard: Any,
) -> None:
    client, clock = clocked_dashboard
    assert _try_sign_in(client, "carol", CAROL_KEY).status_code == 303
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/ui/feed").text)
    assert token is not None
    for _ in range(15):
        clock.advance(minutes=30)
        # a form that only flashes a message signs the cookie afresh: a thief could keep it new
        answer = client.post(
            "/ui/approvals/x/approve",
            data={"csrf": token[1]},
            headers=ORIGIN,
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert "set-cookie" in answer.headers
        assert client.get("/ui/feed", follow_redirects=False).status_code == 200
    clock.advance(minutes=29)
    assert client.get("/ui/feed", follow_redirects=False).status_code == 200
    clock.advance(minutes=1)
    answer = client.get("/ui/feed", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/ui/login?next=")


def test_the_session_cookie_is_secure_over_tls_and_never_readable_by_script(
    dashboard_app: Any,
) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    # the app already runs: no second lifespan (its shutdown would close the shared stores)
    tls = TestClient(dashboard_app.app, base_url="https://testserver")
    page = tls.get("/ui/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    set_cookie = page.headers["set-cookie"].lower()
    assert "; secure" in set_cookie
    assert "httponly" in set_cookie
    assert "samesite=strict" in set_cookie
    assert "path=/ui" in set_cookie
    answer = _post_sign_in(tls, token[1], "carol", CAROL_KEY, origin="https://testserver")
    assert answer.status_code == 303
    assert "; secure" in answer.headers["set-cookie"].lower()
    dashboard_app.cookies.clear()
    plain = dashboard_app.get("/ui/login")  # plain HTTP (loopback) keeps working
    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "httponly" in plain.headers["set-cookie"].lower()


def test_a_cookie_planted_before_sign_in_is_not_the_signed_in_session(dashboard_app: Any) -> None:
    dashboard_app.cookies.clear()
    page = dashboard_app.get("/ui/login")
    planted = _session_cookie(dashboard_app)  # what an attacker could plant in a browser
    before = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert before is not None
    answer = _post_sign_in(dashboard_app, before[1], "carol", CAROL_KEY, follow=True)
    after = re.search(r'name="csrf" value="([^"]+)"', answer.text)
    assert answer.url.path == "/ui/feed"
    assert after is not None
    assert after[1] != before[1]  # a new CSRF token at sign-in
    signed_in = _session_cookie(dashboard_app)
    assert signed_in != planted
    for cookie, status in ((planted, 303), (signed_in, 200)):
        _use_cookie(dashboard_app, cookie)
        assert dashboard_app.get("/ui/feed", follow_redirects=False).status_code == status


def test_a_reader_cannot_decide_approvals_or_revoke(dashboard_app: Any) -> None:
    token = signed_in_client(dashboard_app, "auditor", AUDITOR_KEY)
    for path in ("/ui/approvals/x/approve", "/ui/approvals/x/reject", "/ui/agents/x/revoke"):
        answer = dashboard_app.post(path, data={"csrf": token, "reason": "r"}, headers=ORIGIN)
        assert answer.status_code == 403, path
        assert "lacks the scope" in answer.text


def test_the_pages_carry_the_security_headers(dashboard_app: Any) -> None:
    signed_in_client(dashboard_app, "carol", CAROL_KEY)
    answer = dashboard_app.get("/ui/feed")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    cookie = next(c for c in dashboard_app.cookies.jar if c.name == sessions.SESSION_COOKIE)
    assert cookie.path == "/ui"
    css = dashboard_app.get("/ui/static/dashboard.css")
    assert css.status_code == 200
    assert "cache-control" not in css.headers


def test_a_session_ends_when_its_key_leaves_the_config(dashboard_app: Any) -> None:
    signed_in_client(dashboard_app, "carol", CAROL_KEY)
    state = dashboard_app.app.state.gateway
    kept = state.settings
    state.settings = kept.model_copy(
        update={"admin_keys": [k for k in kept.admin_keys if k.id != "carol"]}
    )
    try:
        assert dashboard_app.get("/ui/feed", follow_redirects=False).status_code == 303
    finally:
        state.settings = kept


def test_the_session_secret_is_kept_beside_the_database(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv(sessions.SECRET_ENV, raising=False)

    class Store:
        path = str(tmp_path / "proctor.db")

    class State:
        class runtime:
            audit = Store()

    first = sessions.session_secret(State())  # type: ignore[arg-type]
    secret_file = tmp_path / ("proctor.db" + sessions.SECRET_SUFFIX)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert sessions.session_secret(State()) == first  # type: ignore[arg-type]
    monkeypatch.setenv(sessions.SECRET_ENV, "from-the-environment-" + "x" * 20)
    assert sessions.session_secret(State()).startswith("from-the-environment")  # type: ignore[arg-type]


@pytest.mark.parametrize("page", ["feed", "approvals", "agents", "policies", "limits", "chain"])
def test_every_page_renders_for_a_reader(dashboard_app: Any, page: str) -> None:
    signed_in_client(dashboard_app, "auditor", AUDITOR_KEY)
    answer = dashboard_app.get(f"/ui/{page}")
    assert answer.status_code == 200
    assert '<a class="skip" href="#main">' in answer.text


def test_an_origin_listed_for_a_proxy_is_accepted(dashboard_app: Any, monkeypatch: Any) -> None:
    token = signed_in_client(dashboard_app, "auditor", AUDITOR_KEY)
    proxied = {"Origin": "https://proctor.example"}
    refused = dashboard_app.post("/ui/logout", data={"csrf": token}, headers=proxied)
    assert refused.status_code == 403
    monkeypatch.setenv(sessions.ORIGINS_ENV, "https://other.example, https://proctor.example/")
    answer = dashboard_app.post(
        "/ui/logout", data={"csrf": token}, headers=proxied, follow_redirects=False
    )
    assert answer.status_code == 303


def test_a_chunked_form_past_the_body_limit_is_413_not_500(dashboard_app: Any) -> None:
    token = signed_in_client(dashboard_app, "root", ROOT_KEY)
    limit = dashboard_app.app.state.gateway.settings.max_body_bytes

    def chunks() -> Any:  # no Content-Length: the size shows only while reading
        yield f"csrf={token}&reason=".encode()
        for _ in range(limit // 65_536 + 2):
            yield b"x" * 65_536

    for path in ("/ui/login", "/ui/logout", "/ui/approvals/nope/approve", "/ui/agents/x/revoke"):
        answer = dashboard_app.post(
            path,
            content=chunks(),
            headers={**ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 413, (path, answer.status_code, answer.text[:200])
        assert answer.json()["code"] == "body_too_large"


@pytest.fixture
def clocked_dashboard(tmp_path: Path) -> Any:
    """The gateway app in-process on a manual clock: the sign-in window moves without sleeping."""
    import warnings
    from datetime import UTC, datetime

    from proctor.clock import ManualClock
    from proctor.config import load_config
    from proctor.server import create_app
    from tests.server.ui.conftest import write_dashboard_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    loaded = load_config(write_dashboard_config(tmp_path, tmp_path / "proctor.db"))
    app = create_app(build_runtime(loaded, clock=clock, wait_for_audit=False), config=loaded)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, clock


def _try_sign_in(client: Any, account: str, key: str) -> Any:
    client.cookies.clear()
    page = client.get("/ui/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return _post_sign_in(client, token[1], account, key)


def _post_sign_in(
    client: Any,
    token: str,
    account: str,
    key: str,
    *,
    next_page: str = "/ui/feed",
    origin: str = ORIGIN["Origin"],
    follow: bool = False,
) -> Any:
    return client.post(
        "/ui/login",
        data={"csrf": token, "account": account, "key": key, "next": next_page},
        headers={"Origin": origin},
        follow_redirects=follow,
    )


def _sign_in_records(client: Any) -> list[dict[str, Any]]:
    audit = client.app.state.gateway.runtime.audit
    audit.flush(timeout=5.0)
    records = [audit.get(row.decision_id) for row in audit.iter_rows()]
    return [r for r in records if r is not None and r.get("kind") == "sign_in"]


def test_failed_sign_ins_from_one_address_are_limited_and_audited(
    clocked_dashboard: Any,
) -> None:
    client, clock = clocked_dashboard
    for attempt in range(5):
        assert _try_sign_in(client, "root", f"pa_guess-{attempt}").status_code == 401
    refused = _try_sign_in(client, "root", ROOT_KEY)  # even the right key, unread
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "900"
    assert "too many failed sign-ins" in refused.text
    assert _try_sign_in(client, "auditor", AUDITOR_KEY).status_code == 429  # same address
    records = _sign_in_records(client)
    assert len(records) == 5
    assert {r["effect"] for r in records} == {"deny"}
    assert [r["extra"]["locked"] for r in records] == [False] * 4 + [True]
    assert records[0]["extra"]["account"] == "root"
    assert records[0]["extra"]["client"] == "testclient"
    assert "pa_guess" not in str(records)  # the tried keys are never recorded
    clock.advance(seconds=899)
    assert _try_sign_in(client, "root", ROOT_KEY).headers["retry-after"] == "1"
    clock.advance(seconds=1)
    assert _try_sign_in(client, "root", ROOT_KEY).status_code == 303


def test_failed_sign_ins_against_one_key_id_are_limited_across_addresses(
    clocked_dashboard: Any,
) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    client, clock = clocked_dashboard
    for number in range(10):
        spread = TestClient(client.app, client=(f"198.51.100.{number}", 40000))
        assert _try_sign_in(spread, "root", "pa_wrong").status_code == 401
    fresh = TestClient(client.app, client=("203.0.113.9", 40000))
    assert _try_sign_in(fresh, "root", ROOT_KEY).status_code == 429
    assert _try_sign_in(fresh, "auditor", AUDITOR_KEY).status_code == 303  # other key ids sign in
    assert len(_sign_in_records(client)) == 10
    clock.advance(minutes=15)
    assert _try_sign_in(fresh, "root", ROOT_KEY).status_code == 303
