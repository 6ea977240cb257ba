"""Sessions on the wire: one client's cap, and an upstream that ends with its session."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.mcp.listening import ACCEPT, HELLO, child_pids, listening, stop
from tests.mcp.wires import UPSTREAMS

PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
SLOW = {"jsonrpc": "2.0", "id": 3, "method": "tools/call"}
SLOW["params"] = {"name": "slow_secret", "arguments": {}}


def _settled(pid: int, count: int) -> set[int]:
    deadline = time.monotonic() + 20
    while len(found := child_pids(pid)) != count and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the process table, not waiting for time to pass
    return found


def test_a_client_past_its_cap_ends_its_oldest_idle_session_and_its_upstream(
    workdir: Path,
) -> None:
    process, url = listening(workdir, UPSTREAMS["raw"], "--sessions-per-client", "2")
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            ids = []
            for _ in range(3):
                opened = client.post(url, json=HELLO)
                assert opened.status_code == 200
                ids.append({"Mcp-Session-Id": opened.headers["mcp-session-id"]})
            upstreams = _settled(process.pid, 2)
            first = client.post(url, json=PING, headers=ids[0])
            others = [client.post(url, json=PING, headers=ids[n]).status_code for n in (1, 2)]
            # both sessions busy (a call in flight each): a fourth is refused, none is ended
            busy = [
                client.send(client.build_request("POST", url, json=SLOW, headers=h), stream=True)
                for h in ids[1:]
            ]
            refused = client.post(url, json=HELLO)
            still = [
                client.post(url, json={**PING, "id": 4}, headers=h).status_code for h in ids[1:]
            ]
            for response in busy:
                response.close()
    finally:
        stop(process)
    assert len(upstreams) == 2  # the ended session's upstream process is gone
    assert first.status_code == 404
    assert others == [200, 200]
    assert refused.status_code == 429
    assert "sessions of this client are all busy" in refused.json()["error"]
    assert still == [200, 200]


def test_progress_tokens_that_are_no_string_or_number_are_not_a_500(workdir: Path) -> None:
    """A `_meta.progressToken` that is a list or an object (MCP: a string or an integer)
    was a key of the session's progress table: 500, and a request stuck in flight; a
    server's progress naming one stopped the session's pump. Now both are passed on."""
    process, url = listening(workdir, UPSTREAMS["raw"])
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            session = {"Mcp-Session-Id": client.post(url, json=HELLO).headers["mcp-session-id"]}
            answers = []
            for n, token in enumerate([[1], {"a": 1}, True, 1.5, "t", 7], 10):
                call = {"jsonrpc": "2.0", "id": n, "method": "tools/call"}
                call["params"] = {
                    "name": "secret",
                    "arguments": {},
                    "_meta": {"progressToken": token},
                }
                answers.append(client.post(url, json=call, headers=session))
            odd = {"jsonrpc": "2.0", "id": 20, "method": "tools/call"}
            odd["params"] = {"name": "odd_progress", "arguments": {}, "_meta": {"progressToken": 1}}
            after = client.post(url, json=odd, headers=session)
            ping = client.post(url, json=PING, headers=session)
    finally:
        stop(process)
    assert [a.status_code for a in answers] == [200] * 6
    assert all('"result"' in a.text for a in answers)
    assert after.status_code == 200
    assert '"done"' in after.text
    assert ping.status_code == 200
