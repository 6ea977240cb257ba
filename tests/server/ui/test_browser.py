"""The dashboard in a real browser (Debian's Chromium through Playwright) against a real gateway.

Screenshots of the key pages go to ``test-artifacts/ui/`` (ignored by git);
with ``PROCTOR_UPDATE_SCREENSHOTS=1`` the two shown in the README are also
written to ``docs/images/``.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from proctor import governed_tool
from proctor.limits.approvals import Approval
from proctor.sdk import ApprovalRequired, ProctorClient
from tests.server.ui.conftest import ARTIFACTS, CAROL_KEY, PEP_KEY, ROOT_KEY, Gateway

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DOCS_IMAGES = Path(__file__).resolve().parents[3] / "docs" / "images"


@governed_tool("write:refund")
def process_refund(order_id: str, amount: float, currency: str = "USD") -> str:
    return f"refunded {amount} {currency} on {order_id}"


def screenshot(page: Any, name: str, *, readme: bool = False, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if readme and os.environ.get("PROCTOR_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / f"{name}.png")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    try:
        yield opened
    finally:
        context.close()


def sign_in(page: Any, gateway: Gateway, account: str, key: str) -> None:
    page.goto(f"{gateway.url}/ui/")
    page.get_by_label("Account (the key's id)").fill(account)
    page.get_by_label("Admin key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/ui/feed$"))


def held_refund(gateway: Gateway, order: str, amount: float) -> tuple[ProctorClient, str]:
    """The SDK (a governed tool over the gateway) makes a refund that waits for approval."""
    client = ProctorClient(gateway.url, token=PEP_KEY, agent="support-bot")
    with client.session(user="dave"), pytest.raises(ApprovalRequired) as held:
        process_refund(order, amount)
    approval_id = held.value.approval_id
    assert approval_id is not None
    return client, approval_id


def test_sign_in_is_required_and_a_wrong_key_is_refused(page: Any, gateway: Gateway) -> None:
    page.goto(f"{gateway.url}/ui/approvals")
    assert "/ui/login" in page.url
    page.get_by_label("Account (the key's id)").fill("carol")
    page.get_by_label("Admin key").fill("pa_not-the-key")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="do not match").wait_for()
    screenshot(page, "dashboard-login")
    page.get_by_label("Admin key").fill(CAROL_KEY)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/ui/approvals$"))  # back where the visitor was going
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/ui/login$"))
    page.goto(f"{gateway.url}/ui/feed")
    assert "/ui/login" in page.url


def test_feed_search_and_pagination(page: Any, gateway: Gateway) -> None:
    sign_in(page, gateway, "root", ROOT_KEY)
    rows = page.locator("#feed-rows tr")
    assert rows.count() >= 25  # the demo's calls
    page.reload()  # without the one-time "signed in" message
    screenshot(page, "dashboard-feed", readme=True, full_page=False)
    page.get_by_label("User").fill("alice")
    page.get_by_label("Effect").select_option("deny")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*user=alice.*effect=deny.*"))
    assert rows.count() >= 4
    for cell in rows.locator("td:nth-child(3)").all_inner_texts():
        assert cell == "alice"
    assert set(rows.locator(".badge").all_inner_texts()) == {"deny"}
    # the whole audit pages back, newest first, by record number
    page.goto(f"{gateway.url}/ui/feed?before=10")
    numbers = [int(text) for text in rows.locator("td.num").all_inner_texts()]
    assert numbers == sorted(numbers, reverse=True)
    assert max(numbers) == 9


def test_the_live_feed_adds_new_decisions(page: Any, gateway: Gateway) -> None:
    sign_in(page, gateway, "root", ROOT_KEY)
    assert page.get_by_label(re.compile("^Live")).is_checked()
    client = ProctorClient(gateway.url, token=PEP_KEY, agent="support-bot")
    decision = client.check("read:orders", user="alice", args={"order_id": "LIVE-1"})
    client.close()
    link = page.locator(f'a[href$="/ui/decisions/{decision.decision_id}"]')
    link.wait_for(timeout=8_000)  # polled every 3 s


def test_a_decision_page_answers_in_order(page: Any, gateway: Gateway) -> None:
    sign_in(page, gateway, "auditor", "pa_ui-auditor-key-0123456789")
    page.get_by_label("Action").fill("write:refund")
    page.get_by_label("Effect").select_option("allow")
    page.get_by_label("User").fill("alice")
    page.get_by_label("User").press("Enter")
    page.wait_for_url(re.compile(r".*action=write%3Arefund.*"))
    page.locator("#feed-rows a").last.click()  # the oldest: alice's $40 refund
    page.wait_for_url(re.compile(r".*/ui/decisions/.*"))
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert headings == [
        "1. Who asked",
        "2. What permissions were held",
        "3. What data",
        "4. What was scanned and found",
        "5. Which rules and limits decided",
        "The record's chain status",
    ]
    main = page.locator("main")
    text = main.inner_text()
    assert "alice@shop.example" in text  # the user's claims
    assert "support-bot" in text
    assert "direct: alice → support-bot" in text
    assert "verified" in text
    assert "write:refund" in text
    assert '"amount": 40' in text
    assert "sha256:" in text
    assert "No scanner findings in this record." in text
    assert "refund-small" in text
    assert "limit `refund-budget` for user `alice`" in text
    assert "Intact" in text
    assert "its hash matches its content" in text
    screenshot(page, "dashboard-decision", readme=True)


def test_approve_a_held_refund_and_the_sdk_call_completes(page: Any, gateway: Gateway) -> None:
    client, approval_id = held_refund(gateway, "C-9001", 250)
    outcome: dict[str, Any] = {}

    def waiting_agent() -> None:
        # the SDK's ApprovalDesk.wait returns once the dashboard decides; the call is re-run
        approval: Approval = gateway.state.approvals.wait(approval_id, timeout=30, poll=0.2)
        outcome["status"] = approval.status.value
        with client.session(user="dave"):
            outcome["result"] = process_refund("C-9001", 250)

    waiter = threading.Thread(target=waiting_agent)
    waiter.start()
    sign_in(page, gateway, "carol", CAROL_KEY)
    page.get_by_role("link", name="Approvals").click()
    card = page.locator(f"#approval-{approval_id}")
    card.get_by_label("Reason").fill("regular customer, checked the order")
    screenshot(page, "dashboard-approvals")
    card.get_by_role("button", name="Approve").click()
    page.get_by_role("status").filter(has_text="approved write:refund for dave").wait_for()
    waiter.join(30)
    client.close()
    assert outcome == {"status": "approved", "result": "refunded 250 USD on C-9001"}
    record = httpx.get(
        f"{gateway.url}/v1/audit",
        params={"kind": "approval", "effect": "approved"},
        headers={"Authorization": f"Bearer {ROOT_KEY}"},
    ).json()["records"][-1]["record"]
    assert record["extra"]["approver"] == "carol"
    assert record["reason"] == "approved by `carol`: regular customer, checked the order"


def test_reject_a_held_refund_and_the_call_stays_denied(page: Any, gateway: Gateway) -> None:
    client, approval_id = held_refund(gateway, "C-9002", 300)
    sign_in(page, gateway, "carol", CAROL_KEY)
    page.goto(f"{gateway.url}/ui/approvals")
    card = page.locator(f"#approval-{approval_id}")
    card.get_by_label("Reason").fill("duplicate of C-9001")
    card.get_by_role("button", name="Reject").click()
    page.get_by_role("status").filter(has_text="rejected write:refund").wait_for()
    assert gateway.state.approvals.get(approval_id).status.value == "rejected"
    with client.session(user="dave"), pytest.raises(ApprovalRequired) as again:
        process_refund("C-9002", 300)  # the same call asks anew; the rejected one never passes
    client.close()
    assert again.value.approval_id != approval_id
    assert "rejected" in page.locator("main").inner_text()


def test_a_reader_sees_the_queue_but_cannot_decide(page: Any, gateway: Gateway) -> None:
    sign_in(page, gateway, "auditor", "pa_ui-auditor-key-0123456789")
    page.goto(f"{gateway.url}/ui/approvals")
    assert page.get_by_role("button", name="Approve").count() == 0
    assert "lacks" in page.locator("main").inner_text()


def test_a_post_without_the_csrf_token_is_refused(page: Any, gateway: Gateway) -> None:
    client, approval_id = held_refund(gateway, "C-9003", 150)
    client.close()
    sign_in(page, gateway, "carol", CAROL_KEY)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    target = f"{gateway.url}/ui/approvals/{approval_id}/approve"
    origin = {"Origin": gateway.url}
    # the signed-in session's cookie, but no token: 403
    refused = httpx.post(target, data={"reason": "x"}, cookies=cookies, headers=origin)
    assert refused.status_code == 403
    # a wrong token, and the right token from another origin: 403 too
    wrong = httpx.post(
        target, data={"reason": "x", "csrf": "guess"}, cookies=cookies, headers=origin
    )
    assert wrong.status_code == 403
    page.goto(f"{gateway.url}/ui/approvals")
    token = page.locator('input[name="csrf"]').first.get_attribute("value")
    foreign = httpx.post(
        target,
        data={"reason": "x", "csrf": token},
        cookies=cookies,
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403
    # from the page itself (script-less fetch in the browser, no token): refused as well
    status = page.evaluate(
        """async (url) => (await fetch(url, {method: "POST",
            headers: {"content-type": "application/x-www-form-urlencoded"},
            body: "reason=x"})).status""",
        target,
    )
    assert status == 403
    assert gateway.state.approvals.get(approval_id).status.value == "pending"


def test_the_keyboard_reaches_and_submits_the_controls(page: Any, gateway: Gateway) -> None:
    page.goto(f"{gateway.url}/ui/login")
    # autofocus is applied at the browser's next rendering step, not by the time the load
    # event fires: wait for it (up to 5 s) instead of reading the focus at once
    page.wait_for_function("document.activeElement.id === 'account'", timeout=5000)
    assert page.evaluate("document.activeElement.id") == "account"
    page.keyboard.type("root")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "key"
    page.keyboard.type(ROOT_KEY)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/ui/feed$"))
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    focus_id = page.evaluate("document.activeElement.id")
    assert focus_id == "main"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-user":
            break
    else:
        pytest.fail("Tab never reached the User filter")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    page.keyboard.type("bob")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*user=bob.*"))
    assert set(page.locator("#feed-rows td:nth-child(3)").all_inner_texts()) == {"bob"}


def test_every_control_has_a_label(page: Any, gateway: Gateway) -> None:
    held_refund(gateway, "C-9004", 120)[0].close()  # an approval form on the queue
    sign_in(page, gateway, "root", ROOT_KEY)
    for path in ("feed", "approvals", "agents", "policies", "limits", "chain"):
        page.goto(f"{gateway.url}/ui/{path}")
        controls = page.locator("input:not([type=hidden]), select, textarea")
        assert path not in ("feed", "approvals") or controls.count() > 0
        for index in range(controls.count()):
            control = controls.nth(index)
            control_id = control.get_attribute("id")
            assert control_id, control.evaluate("e => e.outerHTML")
            label = " ".join(page.locator(f'label[for="{control_id}"]').inner_text().split())
            assert page.get_by_label(label, exact=True).get_attribute("id") == control_id
        for button in page.get_by_role("button").all():
            assert button.inner_text().strip(), button.evaluate("e => e.outerHTML")
        assert page.get_by_role("link", name="Skip to content").count() == 1
        if path in ("limits", "agents", "policies"):
            screenshot(page, f"dashboard-{path}")


def test_the_chain_view_verifies_the_whole_trail(page: Any, gateway: Gateway) -> None:
    sign_in(page, gateway, "auditor", "pa_ui-auditor-key-0123456789")
    page.get_by_role("link", name="Chain").click()
    page.get_by_role("button", name="Verify the whole chain").click()
    result = page.get_by_role("status").filter(has_text="records intact")
    result.wait_for()
    assert "Verified" in result.inner_text()
    screenshot(page, "dashboard-chain")


def test_the_demo_payment_to_an_injected_iban_is_approved_here(page: Any, gateway: Gateway) -> None:
    held = [a for a in gateway.state.approvals.list("pending", 200) if a.action == "write:payment"]
    assert held, "the demo leaves its payment to an IBAN from an injected document pending"
    approval_id = held[0].approval_id
    sign_in(page, gateway, "carol", CAROL_KEY)
    page.goto(f"{gateway.url}/ui/approvals")
    card = page.locator(f"#approval-{approval_id}")
    card.get_by_label("Reason").fill("called the customer: the account is hers")
    card.get_by_role("button", name="Approve").click()
    page.get_by_role("status").filter(has_text="approved write:payment").wait_for()
    assert gateway.state.approvals.get(approval_id).status.value == "approved"


def test_the_demo_payment_page_says_where_the_iban_came_from(page: Any, gateway: Gateway) -> None:
    held = [a for a in gateway.state.approvals.list(None, 200) if a.action == "write:payment"]
    sign_in(page, gateway, "carol", CAROL_KEY)
    page.goto(f"{gateway.url}/ui/decisions/{held[0].requested_by_decision}")
    text = page.locator("main").inner_text()
    assert "payment-from-untrusted-data" in text
    assert "read_document" in text  # the tool whose output supplied the IBAN


@pytest.mark.parametrize(
    "wanted",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "/ui/..//evil.example/x",
        "/ui/\\evil.example",
        "/ui/../\\/evil.example",
        "/ui/\t/evil.example",
    ],
)
def test_sign_in_never_leaves_the_gateway_however_next_is_spelled(
    page: Any, gateway: Gateway, wanted: str
) -> None:
    # the browser resolves the Location itself: backslashes, dot segments and tabs included
    page.route(re.compile(r"^https?://evil\.example/"), lambda route: route.fulfill(body="evil"))
    page.goto(f"{gateway.url}/ui/login?next={quote(wanted)}")
    page.get_by_label("Account (the key's id)").fill("auditor")
    page.get_by_label("Admin key").fill("pa_ui-auditor-key-0123456789")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/ui/login" not in url)
    assert urlsplit(page.url).netloc == urlsplit(gateway.url).netloc, page.url


def test_another_origin_cannot_frame_the_approve_button(page: Any, gateway: Gateway) -> None:
    client, _ = held_refund(gateway, "C-9010", 160)
    client.close()
    sign_in(page, gateway, "carol", CAROL_KEY)
    # another service on the host frames the queue under a decoy (clickjacking); the same
    # site, so the SameSite cookie goes along: only the headers stand in the way
    decoy = f'<p>win a prize</p><iframe src="{gateway.url}/ui/approvals"></iframe>'.encode()

    class Decoy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(decoy)

        def log_message(self, *args: Any) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Decoy) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")  # the frame loaded too
        finally:
            server.shutdown()
    framed = page.frames[1]
    assert framed.locator("button.approve").count() == 0
    assert framed.locator("form").count() == 0  # no dashboard page at all
