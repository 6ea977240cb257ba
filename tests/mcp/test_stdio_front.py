"""The stdio front at the byte level: stdout carries JSON-RPC only; one upstream per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from proctor.audit.canonical import digest
from tests.mcp.conftest import EVERYTHING, PROXY, SOURCES, TIME, audit_records
from tests.mcp.listening import HELLO, child_pids
from tests.server.gateway import free_port


def _send(process: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write(json.dumps(message).encode() + b"\n")
    process.stdin.flush()


def _read(process: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    value: dict[str, Any] = json.loads(line)
    return value


def test_stdout_is_json_rpc_only_and_one_upstream(workdir: Path) -> None:
    process = subprocess.Popen(
        [*PROXY, "--config", str(workdir / "proctor.yaml"), "--name", "time", "--", *TIME],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=workdir,
        env={
            **os.environ,
            "PROCTOR_AGENT": "desk-bot",
            "PROCTOR_USER": "alice",
            "PROCTOR_LOG_LEVEL": "DEBUG",  # logs go to stderr, whatever their volume
        },
    )
    try:
        _send(process, HELLO)
        assert _read(process)["result"]["serverInfo"]["name"] == "mcp-time"
        children = child_pids(process.pid)
        assert len(children) == 1  # this session's upstream, and no other
        _send(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        _send(
            process,
            {
                "jsonrpc": "2.0",
                "id": "c1",
                "method": "tools/call",
                "params": {"name": "get_current_time", "arguments": {"timezone": "UTC"}},
            },
        )
        _send(
            process,
            {
                "jsonrpc": "2.0",
                "id": "c2",
                "method": "tools/call",
                "params": {"name": "shutdown_host", "arguments": {}},
            },
        )
        answers = {message["id"]: message for message in (_read(process) for _ in range(3))}
        assert [tool["name"] for tool in answers[2]["result"]["tools"]] == [
            "get_current_time",
            "convert_time",
        ]
        assert answers["c1"]["result"]["structuredContent"]["timezone"] == "UTC"
        assert answers["c2"]["result"]["isError"] is True
        assert process.stdin is not None
        process.stdin.close()  # the client goes away: the proxy and its upstream end
        assert process.wait(20) == 0
        assert process.stdout is not None
        rest = process.stdout.read().decode()
        assert all(json.loads(line)["jsonrpc"] == "2.0" for line in rest.splitlines() if line)
        assert process.stderr is not None
        assert "proctor mcp-proxy" in process.stderr.read().decode()  # the logs went here
        for child in children:
            assert not Path(f"/proc/{child}").exists() or _zombie(child)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


_AFTER = ["--", *EVERYTHING]


def test_a_task_result_is_reviewed(workdir: Path, node_servers: None) -> None:
    """A task-augmented call's result, fetched later with `tasks/result`, is recorded too."""
    policy = workdir / "policy.yaml"
    policy.write_text(
        policy.read_text()
        + '  - {id: research, action: "call:everything/simulate-research-query", effect: allow}\n'
    )
    process = subprocess.Popen(
        [*PROXY, "--config", str(workdir / "proctor.yaml"), "--name", "everything", *_AFTER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
        env={**os.environ, "PROCTOR_AGENT": "desk-bot", "PROCTOR_USER": "alice"},
    )
    try:
        _send(
            process,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {"tasks": {}},
                    "clientInfo": {"name": "bytes", "version": "1"},
                },
            },
        )
        assert "result" in _read(process)
        _send(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(
            process,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {
                    "name": "simulate-research-query",
                    "arguments": {"topic": "tides"},
                    "task": {"ttl": 60000},
                },
            },
        )
        while (created := _read(process)).get("id") != 2:
            continue  # tools/list_changed and other notifications
        task_id = created["result"]["task"]["taskId"]
        _send(
            process,
            {"jsonrpc": "2.0", "id": 3, "method": "tasks/result", "params": {"taskId": task_id}},
        )
        while (message := _read(process)).get("id") != 3:
            continue  # task status notifications
        assert "tides" in json.dumps(message["result"])
        assert process.stdin is not None
        process.stdin.close()  # the proxy ends, flushing its audit trail
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    outputs = [r for r in audit_records(workdir) if r["kind"] == "output"]
    assert len(outputs) == 1
    assert outputs[0]["action"] == "call:everything/simulate-research-query"
    assert outputs[0]["result_digest"] == digest(message["result"])  # the report, not the handle


# -- how a stdio session ends ----------------------------------------------------------------

RAW = [sys.executable, str(Path(__file__).parent / "servers" / "raw_server.py")]


def _raw_proxy(workdir: Path, *upstream: str, **streams: Any) -> subprocess.Popen[bytes]:
    (workdir / "policy.yaml").write_text(
        'name: open\nrules: [{id: any, action: "call:*", effect: allow}]\n'
    )
    command = ["--name", "raw", "--", *RAW] if not upstream else list(upstream)
    return subprocess.Popen(
        [*PROXY, "--config", str(workdir / "proctor.yaml"), *command],
        stdin=streams.get("stdin", subprocess.PIPE),
        stdout=streams.get("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        cwd=workdir,
        env={**os.environ, **SOURCES, "PROCTOR_AGENT": "desk-bot", "PROCTOR_USER": "alice"},
    )


def _call(request_id: int, tool: str) -> dict[str, Any]:
    params = {"name": tool, "arguments": {}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def _finish(process: subprocess.Popen[bytes]) -> tuple[list[dict[str, Any]], str]:
    """Close the proxy's input; every message it wrote until it exited, and its stderr."""
    try:
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return [json.loads(line) for line in out.splitlines() if line.strip()], err.decode()


@pytest.mark.parametrize("which", ["stdin", "stdout"])
def test_a_file_for_stdin_or_stdout_is_a_coded_error(workdir: Path, which: str) -> None:
    path = workdir / "stream.jsonl"
    path.write_text(json.dumps(HELLO) + "\n")
    mode = "rb" if which == "stdin" else "wb"
    with path.open(mode) as stream:
        process = _raw_proxy(workdir, **{which: stream})
        _, raw_err = process.communicate(timeout=60)
    err = raw_err.decode()
    assert process.returncode == 2
    assert "mcp_stdio_unusable" in err
    assert f"standard {'input' if which == 'stdin' else 'output'} is a file" in err
    assert "Traceback" not in err


def test_an_unreachable_upstream_url_is_named_not_a_traceback(workdir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    process = _raw_proxy(workdir, "--name", "raw", "--upstream", url)
    _send(process, HELLO)
    answer = _read(process)  # answered before the input closes: the session is over
    messages, err = _finish(process)
    assert answer["id"] == 1
    assert url in answer["error"]["message"]
    assert messages == []
    assert process.returncode == 2
    assert "mcp_upstream_unavailable" in err
    assert url in err
    assert "Traceback" not in err
    assert "CancelledError" not in err


def test_an_upstream_crash_is_logged_and_its_calls_answered(workdir: Path) -> None:
    process = _raw_proxy(workdir)
    _send(process, HELLO)
    assert "result" in _read(process)
    _send(process, _call(2, "crash"))
    answer = _read(process)
    messages, err = _finish(process)
    assert answer["id"] == 2
    assert "exited with code 3" in answer["error"]["message"]
    assert "raw_server.py" in answer["error"]["message"]
    assert messages == []
    assert process.returncode == 2
    assert "ERROR the upstream server" in err  # the log line
    assert "error[mcp_upstream_unavailable]" in err


def test_answers_in_flight_are_delivered_after_the_client_closes_its_input(
    workdir: Path,
) -> None:
    process = _raw_proxy(workdir)
    _send(process, HELLO)
    assert "result" in _read(process)
    _send(process, _call(2, "late"))  # answered by the server only after the next message
    _send(process, {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"})
    messages, err = _finish(process)  # stdin closes right away
    assert process.returncode == 0, err
    (answer,) = messages
    assert answer["id"] == 2
    assert answer["result"]["content"][0]["text"] == "late answer"
