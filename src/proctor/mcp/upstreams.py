"""The upstream servers of a proxy: from the command line and the ``mcp_proxy:`` config."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from proctor.config import LoadedConfig, McpServerConfig
from proctor.mcp.channels import Channel, ProcessChannel
from proctor.mcp.errors import MCP_CONFIG, MCP_SERVER_UNDECLARED, McpProxyError

# Launchers whose first argument is not the server's name (``uvx mcp-server-git``).
_LAUNCHERS = {"uvx", "npx", "uv", "run", "python", "python3", "node", "bunx", "pipx", "tool", "-m"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Upstream:
    """One MCP server behind the proxy: a command to start, or a Streamable HTTP URL."""

    name: str
    command: tuple[str, ...] = ()
    url: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None

    async def open(self) -> Channel:
        if self.url is not None:
            from proctor.mcp.http_upstream import HttpUpstreamChannel

            return await HttpUpstreamChannel.connect(self.url)
        return await ProcessChannel.start(self.command, env=self.env, cwd=self.cwd)


def server_name(command: Sequence[str], url: str | None = None) -> str:
    """A default name for the command-line server: ``mcp-server-git``, ``server-everything``."""
    if url is not None:
        host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return _clean(host) or "upstream"
    for part in command:
        if part.startswith("-") or PurePosixPath(part).name in _LAUNCHERS:
            continue
        name = PurePosixPath(part.split("@", 2)[-1] if part.startswith("@") else part).name
        return _clean(name.removesuffix(".py").removesuffix(".js")) or "upstream"
    return "upstream"


def upstreams(
    loaded: LoadedConfig | None,
    *,
    name: str | None,
    command: Sequence[str],
    url: str | None,
) -> list[Upstream]:
    """The command-line server (if any) and the configured ones, each with a valid name."""
    configured: Mapping[str, McpServerConfig] = (
        loaded.config.mcp_proxy.servers if loaded is not None else {}
    )
    found: list[Upstream] = []
    if command or url:
        if command and url:
            raise McpProxyError(
                "give either a command after `--` or `--upstream URL`, not both", code=MCP_CONFIG
            )
        chosen = name or server_name(command, url)
        _check_declared(chosen, configured, named=name is not None)
        spec = configured.get(chosen)
        found.append(
            Upstream(
                chosen,
                tuple(command),
                url,
                dict(spec.env) if spec else {},
                _cwd(loaded, spec),
            )
        )
    for key, spec in configured.items():
        if found and key == found[0].name:
            continue
        if not spec.command and not spec.url:
            continue  # tool actions only, for a server started from the command line
        found.append(
            Upstream(key, tuple(spec.command or ()), spec.url, dict(spec.env), _cwd(loaded, spec))
        )
    if not found:
        raise McpProxyError(
            "no upstream server: give its command after `--` (e.g. "
            "`proctor mcp-proxy -- uvx mcp-server-git`), `--upstream URL`, "
            "or servers under `mcp_proxy.servers` in the config",
            code=MCP_CONFIG,
        )
    for upstream in found:
        if not _NAME.match(upstream.name):
            raise McpProxyError(
                f"server name `{upstream.name}` is not usable in an action: use letters, "
                "digits, `_`, `-` and `.` (pass `--name`)",
                code=MCP_CONFIG,
            )
    return found


def _check_declared(chosen: str, configured: Mapping[str, McpServerConfig], *, named: bool) -> None:
    """A config that names servers for the command line must name this one.

    Otherwise its tool actions (``git_reset: delete:repo``) would silently
    not apply and the tools would run under the default ``call:`` actions.
    """
    declared = sorted(key for key, spec in configured.items() if not spec.command and not spec.url)
    if not declared or chosen in configured:
        return
    listed = ", ".join(f"`{key}`" for key in declared)
    how = "named with `--name`" if named else "named after its command"
    raise McpProxyError(
        f"the server started is `{chosen}` ({how}), but `mcp_proxy.servers` configures "
        f"{listed} and not `{chosen}`: its tool actions would not apply",
        code=MCP_SERVER_UNDECLARED,
        hint=f"pass `--name {declared[0]}`" if len(declared) == 1 else "pass `--name SERVER`",
        details={"server": chosen, "configured": declared},
    )


def tool_actions(loaded: LoadedConfig | None) -> dict[str, dict[str, str]]:
    if loaded is None:
        return {}
    return {key: dict(spec.tools) for key, spec in loaded.config.mcp_proxy.servers.items()}


def _cwd(loaded: LoadedConfig | None, spec: McpServerConfig | None) -> str | None:
    if spec is None or spec.cwd is None:
        return None
    return str(loaded.resolve(spec.cwd)) if loaded is not None else spec.cwd


def _clean(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name).strip("-.")[:64]
