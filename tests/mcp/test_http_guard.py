"""The HTTP front's header checks, on the wire: DNS rebinding, the protocol version, sessions."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.mcp.listening import ACCEPT, HELLO, listening, stop
from tests.mcp.wires import UPSTREAMS


def test_a_foreign_host_or_origin_is_refused_and_loopback_is_served(workdir: Path) -> None:
    process, url = listening(workdir, UPSTREAMS["raw"], "--allowed-host", "mcp.internal")
    port = url.split(":")[2].split("/")[0]
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            rebound = client.post(url, json=HELLO, headers={"Host": "evil.example"})
            rebound_port = client.post(url, json=HELLO, headers={"Host": f"evil.example:{port}"})
            page = client.post(url, json=HELLO, headers={"Origin": "http://evil.example"})
            null_origin = client.post(url, json=HELLO, headers={"Origin": "null"})
            tricked = client.post(url, json=HELLO, headers={"Host": "localhost@evil.example"})
            listed = client.get(url, headers={"Host": "evil.example", "Mcp-Session-Id": "x"})
            local = {"Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"}
            served = client.post(url, json=HELLO, headers=local)
            ipv6 = client.post(url, json=HELLO, headers={"Host": f"[::1]:{port}"})
            named = client.post(url, json=HELLO, headers={"Host": "mcp.internal"})
    finally:
        stop(process)
    for refused in (rebound, rebound_port, page, null_origin, tricked, listed):
        assert refused.status_code == 403
        assert "is not allowed here" in refused.json()["error"]
    assert "`evil.example`" in rebound.json()["error"]
    for accepted in (served, ipv6, named):
        assert accepted.status_code == 200
        assert accepted.headers["mcp-session-id"]


def test_the_listen_address_is_an_allowed_host(workdir: Path) -> None:
    """127.0.0.2 is none of the loopback names: it is allowed as the address listened on."""
    process, url = listening(workdir, UPSTREAMS["raw"], address="127.0.0.2")
    try:
        answered = httpx.post(url, json=HELLO, headers=ACCEPT, timeout=30)  # Host: 127.0.0.2:PORT
        renamed = httpx.post(url, json=HELLO, headers={**ACCEPT, "Host": "evil.example"})
    finally:
        stop(process)
    assert answered.status_code == 200
    assert renamed.status_code == 403


def test_an_unsupported_protocol_version_answers_400(workdir: Path) -> None:
    process, url = listening(workdir, UPSTREAMS["raw"])
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            opened = client.post(url, json=HELLO)
            session = {"Mcp-Session-Id": opened.headers["mcp-session-id"]}
            ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
            bad = client.post(url, json=ping, headers={**session, "MCP-Protocol-Version": "1999"})
            also_get = client.get(url, headers={**session, "MCP-Protocol-Version": "x" * 5000})
            good = client.post(
                url, json=ping, headers={**session, "MCP-Protocol-Version": "2025-06-18"}
            )
    finally:
        stop(process)
    assert bad.status_code == 400
    assert "unsupported `MCP-Protocol-Version` `1999`" in bad.json()["error"]["message"]
    assert also_get.status_code == 400
    assert len(also_get.text) < 1000  # the header is not echoed whole
    assert good.status_code == 200


def test_a_request_without_a_session_answers_400_and_an_unknown_one_404(workdir: Path) -> None:
    process, url = listening(workdir, UPSTREAMS["raw"])
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            listed = client.post(url, json={"jsonrpc": "2.0", "id": 7, "method": "tools/list"})
            discover = client.post(
                url, json={"jsonrpc": "2.0", "id": 8, "method": "server/discover"}
            )
            stream = client.get(url)
            delete = client.delete(url)
            unknown = client.get(url, headers={"Mcp-Session-Id": "forged"})
    finally:
        stop(process)
    assert listed.status_code == 400
    assert listed.json()["id"] == 7
    assert "missing the `mcp-session-id` header" in listed.json()["error"]["message"]
    assert discover.status_code == 400  # a newer client falls back to `initialize` on a 4xx
    assert stream.status_code == 400
    assert delete.status_code == 400
    assert unknown.status_code == 404
