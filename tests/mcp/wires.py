"""A client at the JSON-RPC level, over the proxy's stdio front or its Streamable HTTP front.

Tests of attacks need what an SDK client will not send (reused ids, calls
without ids, ids that are lists), so they write the messages themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.mcp.conftest import PROXY, SOURCES
from tests.server.gateway import free_port

SERVERS = Path(__file__).parent / "servers"
UPSTREAMS = {
    "raw": [sys.executable, str(SERVERS / "raw_server.py")],
    "sdk": [sys.executable, str(SERVERS / "sdk_server.py")],
    "conformance": [sys.executable, str(SERVERS.parent / "conformance" / "server.py"), "stdio"],
}
Message = dict[str, Any]
HELLO: Message = {
    "jsonrpc": "2.0",
    "id": "hello",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {"elicitation": {}},
        "clientInfo": {"name": "wire", "version": "1"},
    },
}


def answers(message: Message, request_id: Any) -> bool:
    return "method" not in message and message.get("id") == request_id


class Wire:
    """One proxy process and one session with it; ``close`` ends both (the trail is flushed)."""

    process: subprocess.Popen[bytes]

    def send(self, message: Any) -> None:
        """A notification, a response or anything else that is answered on no stream."""
        raise NotImplementedError

    def stream(self, message: Message) -> Iterator[Message]:
        """Send a request; the messages that come for it, its answer last."""
        raise NotImplementedError

    def call(self, message: Message) -> list[Message]:
        return list(self.stream(message))

    def answer(self, message: Message) -> Message:
        return self.call(message)[-1]

    def open(self) -> None:
        assert "result" in self.answer(HELLO)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self) -> None:
        raise NotImplementedError


class StdioWire(Wire):
    def __init__(self, workdir: Path, server: str | None, env: dict[str, str]) -> None:
        """The proxy in front of ``server``, or of the config's servers when None."""
        upstream = ["--name", server, "--", *UPSTREAMS[server]] if server is not None else []
        self.process = subprocess.Popen(
            [*PROXY, "--config", str(workdir / "proctor.yaml"), *upstream],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env={**os.environ, **SOURCES, **env},
        )

    def write(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def read(self) -> Message:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the proxy closed its stdout"
        value: Message = json.loads(line)
        return value

    def send(self, message: Any) -> None:
        self.write(json.dumps(message).encode())

    def stream(self, message: Message) -> Iterator[Message]:
        self.send(message)
        return self.until(message["id"])

    def until(self, request_id: Any) -> Iterator[Message]:
        while True:
            item = self.read()
            yield item
            if answers(item, request_id):
                return

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            assert self.process.wait(20) == 0
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


class HttpWire(Wire):
    def __init__(self, workdir: Path, server: str, env: dict[str, str]) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.session_id: str | None = None
        self.process = subprocess.Popen(
            [*PROXY, "--config", str(workdir / "proctor.yaml"), "--name", server]
            + [f"--listen=127.0.0.1:{port}", "--"]
            + UPSTREAMS[server],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env={**os.environ, **SOURCES, **env},
        )
        self.client = httpx.Client(timeout=30.0)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, "the proxy exited"
            try:
                self.client.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.1)  # polling a process start-up, not waiting for time to pass

    def headers(self) -> dict[str, str]:
        found = {"Accept": "application/json, text/event-stream"}
        if self.session_id is not None:
            found["Mcp-Session-Id"] = self.session_id
        return found

    def post(self, body: bytes) -> httpx.Response:
        headers = {**self.headers(), "Content-Type": "application/json"}
        return self.client.post(self.url, content=body, headers=headers)

    def send(self, message: Any) -> None:
        assert self.post(json.dumps(message).encode()).status_code == 202

    def stream(self, message: Message) -> Iterator[Message]:
        """Posted now (the request is in flight on return); its events are read as iterated."""
        headers = {**self.headers(), "Content-Type": "application/json"}
        request = self.client.build_request("POST", self.url, json=message, headers=headers)
        response = self.client.send(request, stream=True)
        self.session_id = response.headers.get("mcp-session-id", self.session_id)
        return self._events(response, message["id"])

    @staticmethod
    def _events(response: httpx.Response, request_id: Any) -> Iterator[Message]:
        try:
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                response.read()
                yield response.json()
                return
            for line in response.iter_lines():
                if line.startswith("data: "):
                    item = json.loads(line[len("data: ") :])
                    yield item
                    if answers(item, request_id):
                        return
        finally:
            response.close()

    def close(self) -> None:
        self.client.close()
        self.process.terminate()  # a clean stop closes the sessions and flushes the trail
        try:
            self.process.wait(20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def open_wire(front: str, workdir: Path, server: str, env: dict[str, str] | None = None) -> Wire:
    wire_env = {"PROCTOR_AGENT": "desk-bot", "PROCTOR_USER": "alice", **(env or {})}
    wire: Wire = (StdioWire if front == "stdio" else HttpWire)(workdir, server, wire_env)
    try:
        wire.open()
    except BaseException:
        wire.process.kill()
        wire.process.wait()
        raise
    return wire
