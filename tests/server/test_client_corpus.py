"""The semantics corpus (tests/cases) through ``ProctorClient`` against a real ``proctor serve``.

Each case file becomes a config (its roles, agents and policies); the case's
time travels as the admin-only what-if ``at``; a case with its own policy
reloads it through the admin API (a load error must be refused with the
same code, leaving the file's policies in place). Cases that share no state
share one server per file and time zone; a file with limits or runs (state
carried from call to call) gets a fresh server per case. Every decision is
compared with the library's for the same case: effect, rule ids, code, reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from proctor.model.request import User
from proctor.sdk.policy_tests import DEFAULT_TIME, run_test_file
from proctor.sdk.remote import ProctorClient
from tests.server.gateway import ADMIN_KEY, ServerProcess, sha, start_server

CASES = Path(__file__).parent.parent / "cases"
FILES = sorted(CASES.glob("*.yaml"))

pytestmark = pytest.mark.slow


def _documents(spec: dict[str, Any]) -> list[str]:
    inline = spec.get("policy")
    documents = inline if isinstance(inline, list) else [inline] if inline is not None else []
    return [d if isinstance(d, str) else yaml.safe_dump(d, sort_keys=False) for d in documents]


def _write_config(directory: Path, spec: dict[str, Any], timezone: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, text in enumerate(_documents(spec)):
        path = directory / f"policy-{number}.yaml"
        path.write_text(text)
        paths.append(path.name)
    agents = [a if isinstance(a, dict) else {"id": a} for a in spec.get("agents", [])]
    config = {
        "policies": paths,
        "timezone": timezone,
        "roles": {name: {"scopes": scopes} for name, scopes in spec.get("roles", {}).items()},
        "agents": agents,
        "storage": {"audit": "proctor.db"},
        "server": {"admin_keys": [{"id": "root", "sha256": sha(ADMIN_KEY), "scopes": ["admin"]}]},
    }
    path = directory / "proctor.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _user(spec: Any) -> User | str | None:
    if spec is None or isinstance(spec, str):
        return spec
    claims = {k: v for k, v in spec.items() if k not in ("sub", "scopes", "claims")}
    claims.update(spec.get("claims", {}))
    return User(str(spec["sub"]), tuple(spec.get("scopes", ())), claims)


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Servers:
    """One server per key, started on first use and stopped at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.running: dict[str, tuple[ServerProcess, ProctorClient]] = {}

    def get(self, key: str, spec: dict[str, Any], timezone: str) -> ProctorClient:
        if key not in self.running:
            config = _write_config(self.root / key, spec, timezone)
            server = start_server(config)
            self.running[key] = (server, ProctorClient(server.url, token=ADMIN_KEY))
        return self.running[key][1]

    def stop(self, key: str) -> None:
        server, client = self.running.pop(key)
        client.close()
        server.stop()

    def stop_all(self) -> None:
        for key in list(self.running):
            self.stop(key)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[_Servers]:
    pool = _Servers(tmp_path)
    yield pool
    pool.stop_all()


def _run_file(file: Path, servers: _Servers) -> tuple[int, list[str]]:
    spec = yaml.safe_load(file.read_text())
    expected = run_test_file(file)
    stateful = any("limits" in d or "runs" in d for d in _documents(spec)) or any(
        "before" in c for c in spec["cases"]
    )
    compared, failures = 0, []
    for index, (case, library) in enumerate(zip(spec["cases"], expected, strict=True)):
        if case.get("roles") or case.get("agents") or isinstance(case.get("agent"), dict):
            continue  # per-case registries are not a server's config
        timezone = str(case.get("timezone", spec.get("timezone", "UTC")))
        key = f"{file.stem}-{timezone.replace('/', '_')}" + (f"-{index}" if stateful else "")
        client = servers.get(key, spec, timezone)
        own = "policy" in case or "policies" in case
        if "policies" in case:
            continue  # file paths relative to the case file: library-only
        if own:
            refused = _reload(client, _documents(case))
            if library.error_codes or refused is not None:
                codes = set(library.error_codes)
                if refused is None or not codes & refused:
                    failures.append(f"{case['name']}: library {codes}, gateway {refused}")
                compared += 1
                continue
        when = _time(str(case.get("at", spec.get("at", DEFAULT_TIME))))
        agent = case.get("agent", spec.get("agent"))
        for earlier in case.get("before", ()):
            merged = {**case, **earlier}
            for _ in range(int(earlier.get("repeat", 1))):
                client.check(
                    str(merged.get("action", "")),
                    agent=merged.get("agent", spec.get("agent")),
                    user=_user(merged.get("user")),
                    args=merged.get("args"),
                    context=merged.get("context"),
                    run=_run(merged),
                    at=_time(str(merged.get("at", when.isoformat()))),
                )
        remote = client.check(
            str(case.get("action", "")),
            agent=agent,
            user=_user(case.get("user")),
            args=case.get("args"),
            resource=case.get("resource"),
            context=case.get("context"),
            run=_run(case),
            at=when,
        )
        local = library.decision
        assert local is not None, case["name"]
        got = (remote.effect, remote.rule_ids, remote.code, _ids_out(remote.reason))
        want = (local.effect, local.rule_ids, local.code, _ids_out(local.reason))
        if got != want:
            failures.append(f"{case['name']}: library {want}, gateway {got}")
        compared += 1
        if own:
            _reload(client, _documents(spec))
        if stateful:
            servers.stop(key)
    return compared, failures


def _ids_out(reason: str) -> str:
    """Approval ids are random: the same decision names another id."""
    return re.sub(r"approval `[0-9a-f-]{36}`", "approval `<id>`", reason)


def _run(case: dict[str, Any]) -> Any:
    from proctor.model.request import RunState

    return RunState(str(case["run"])) if case.get("run") else None


def _reload(client: ProctorClient, texts: list[str]) -> set[str] | None:
    """None when the gateway took the policies, else the error codes it refused them with."""
    body = {"texts": texts, "allow_empty": True}  # a case may mean no policy at all
    response = client._http.post("/v1/admin/policies/reload", json=body)
    if response.status_code == 200:
        return None
    body = response.json()
    codes = {body["code"]} | {e["code"] for e in body.get("details", {}).get("errors", [])}
    return codes


@pytest.mark.timeout(600)  # the whole corpus over HTTP: 3 minutes on a busy machine
def test_the_gateway_decides_the_corpus_as_the_library_does(servers: _Servers) -> None:
    total, failures = 0, []
    for file in FILES:
        compared, problems = _run_file(file, servers)
        total += compared
        failures += [f"{file.stem}: {p}" for p in problems]
    assert not failures, "\n".join(failures)
    print(f"compared {total} of {sum(len(yaml.safe_load(f.read_text())['cases']) for f in FILES)}")
    assert total >= 100, total
