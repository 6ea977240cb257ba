"""``proctor.yaml``: policies, roles, agents, local users, storage and time zone.

Paths in the file are relative to the file. Shape errors are reported with
their line and column, like policy errors.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from proctor.errors import ErrorGroup, Location, ProctorError
from proctor.identity.settings import IdentityConfig
from proctor.model.actions import InvalidPattern, parse_pattern, require_patterns
from proctor.model.tiers import TIER_NAMES
from proctor.policy.source import LocatedDocument, read_documents
from proctor.telemetry import TelemetryConfig
from proctor.webhooks import ApprovalsConfig

DEFAULT_CONFIG_NAME = "proctor.yaml"


class ConfigError(ProctorError):
    code = "invalid_config"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleConfig(_Strict):
    scopes: list[str] = Field(default_factory=list)
    description: str | None = None

    @field_validator("scopes")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        require_patterns(value)
        return value


class AgentConfig(_Strict):
    id: str = Field(min_length=1, max_length=200)
    role: str | None = None
    tier: str = "unverified"
    tags: list[str] = Field(default_factory=list)
    owner: str | None = None
    description: str | None = None
    # the agent's key may name users the config does not know, with their scopes
    may_assert_users: bool = False

    @field_validator("tier")
    @classmethod
    def _tier(cls, value: str) -> str:
        if value not in TIER_NAMES:
            raise ValueError(f"unknown tier `{value}`; expected one of {', '.join(TIER_NAMES)}")
        return value


class UserConfig(_Strict):
    scopes: list[str] = Field(default_factory=list)
    claims: dict[str, Any] = Field(default_factory=dict)


class StorageConfig(_Strict):
    audit: str = "proctor.db"
    durability: Literal["batched", "sync"] = "batched"
    # where records that cannot be written wait for their replay (docs/audit.md); default:
    # `<audit>.spill.jsonl` beside SQLite, `proctor-pg-<digest>.spill.jsonl` for PostgreSQL
    spill: str | None = Field(default=None, min_length=1, max_length=4096)
    # `store`: decide with the store's active policy version (docs/policies.md)
    policies: Literal["files", "store"] = "files"
    poll_seconds: float = Field(default=0.5, gt=0, le=60)
    heartbeat_seconds: float = Field(default=1.0, gt=0, le=300)
    grace_seconds: float = Field(default=30.0, ge=0, le=86_400)


class CheckpointsConfig(_Strict):
    """``audit.checkpoints:``: signed checkpoints of the audit log (docs/audit.md)."""

    enabled: bool = True
    origin: str = Field(default="proctor/audit", pattern=r"^[^\s+]{1,200}$")
    key_file: str = "proctor-audit-key.pem"  # Ed25519, made on first use; keep it off the db host
    signer_command: list[str] | None = Field(default=None, min_length=1)
    public_key: str | None = None  # the verifier key of signer_command's key
    every_records: int = Field(default=1000, ge=1, le=10_000_000)
    every_seconds: float = Field(default=1.0, gt=0, le=86_400)
    witnesses: list[str] = Field(default_factory=list)  # file:PATH, https://..., export


class AuditConfig(_Strict):
    """``audit:``: what a decision record keeps of a call's arguments (docs/audit.md)."""

    # redacted: personal data and secrets as placeholders; clear: as passed; digest: none
    store_args: Literal["redacted", "clear", "digest"] = "redacted"
    checkpoints: CheckpointsConfig = Field(default_factory=CheckpointsConfig)


class AdminKeyConfig(_Strict):
    """An admin credential for the gateway: its SHA-256 (hex), never the key itself."""

    id: str = Field(min_length=1, max_length=200)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[str] = Field(default_factory=lambda: ["admin"])


class ServerConfig(_Strict):
    """``proctor serve`` settings (docs/gateway.md)."""

    admin_keys: list[AdminKeyConfig] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)


class McpServerConfig(_Strict):
    """One upstream MCP server of ``proctor mcp-proxy`` (docs/mcp-proxy.md)."""

    command: list[str] | None = Field(default=None, min_length=1)
    url: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    tools: dict[str, str] = Field(default_factory=dict)  # tool name -> action

    @field_validator("tools")
    @classmethod
    def _actions(cls, value: dict[str, str]) -> dict[str, str]:
        for tool, action in value.items():
            try:
                parse_pattern(action)
            except InvalidPattern as exc:
                raise ValueError(f"tool `{tool}`: {exc}") from None
            if "*" in action.split(":"):
                raise ValueError(f"tool `{tool}`: an action, not a pattern, is expected")
        return value


class McpProxyConfig(_Strict):
    """``mcp_proxy:``: the upstreams of ``proctor mcp-proxy`` and their tools' actions."""

    servers: dict[str, McpServerConfig] = Field(default_factory=dict)


class ScanningConfig(_Strict):
    """Which scanners run (the model-free built-ins when absent) and how the cascade behaves."""

    scanners: list[str] | None = None
    fail_mode: Literal["open", "closed"] = "open"
    budget_ms: float | dict[str, float] = 25.0
    presidio: dict[str, Any] | None = None
    judge: dict[str, Any] | None = None
    pii: dict[str, Any] | None = None


class ExportConfig(_Strict):
    """``export:``: the audit streamed to a sink while ``proctor serve`` runs."""

    sink: str = Field(pattern=r"^(webhook:https?://\S+|file:\S.*)$")
    format: Literal["jsonl", "ocsf"] = "jsonl"
    cursor: str = "proctor-export.cursor"
    batch: int = Field(default=500, ge=1, le=10_000)
    interval: float = Field(default=1.0, gt=0, le=3600)
    timeout: float = Field(default=10.0, gt=0, le=120)


class ProctorConfig(_Strict):
    policies: list[str] = Field(default_factory=list)
    timezone: str = "UTC"
    default_agent: str | None = None
    roles: dict[str, RoleConfig] = Field(default_factory=dict)
    agents: list[AgentConfig] = Field(default_factory=list)
    users: dict[str, UserConfig] = Field(default_factory=dict)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    identity: IdentityConfig | None = None
    approvals: ApprovalsConfig = Field(default_factory=ApprovalsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    mcp_proxy: McpProxyConfig = Field(default_factory=McpProxyConfig)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)
    export: ExportConfig | None = None
    scanning: ScanningConfig | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone `{value}` (use an IANA name like `Europe/Berlin`)"
            ) from None
        return value


class LoadedConfig:
    """A checked config and the directory its relative paths start from."""

    def __init__(self, config: ProctorConfig, base: Path, file: str) -> None:
        self.config = config
        self.base = base
        self.file = file

    @property
    def policy_paths(self) -> list[Path]:
        return [self.resolve(path) for path in self.config.policies]

    @property
    def audit_location(self) -> str:
        target = self.config.storage.audit
        if target in (":memory:", "memory") or "://" in target:
            return target
        return str(self.resolve(target))

    @property
    def spill_location(self) -> str | None:
        spill = self.config.storage.spill
        return None if spill is None else str(self.resolve(spill))

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.base / candidate


def load_config(path: str | Path) -> LoadedConfig:
    """Read and check ``proctor.yaml``; raises ``ConfigError`` or ``ErrorGroup``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file: {exc.strerror or exc}",
            code="config_not_found",
            location=Location(str(file)),
        ) from exc
    try:
        documents = list(read_documents(text, str(file)))
    except ProctorError as exc:
        raise ConfigError(exc.message, code=exc.code, location=exc.location) from exc
    document = documents[0] if documents else LocatedDocument(str(file), {})
    return LoadedConfig(parse_config(document), file.resolve().parent, str(file))


def parse_config(document: LocatedDocument) -> ProctorConfig:
    try:
        config = ProctorConfig.model_validate(document.value or {})
    except ValidationError as exc:
        raise ErrorGroup(
            [_translate(e, document) for e in exc.errors()], code="invalid_config"
        ) from exc
    problems = _cross_check(config, document)
    if problems:
        raise ErrorGroup(problems, code="invalid_config")
    return config


def _cross_check(config: ProctorConfig, document: LocatedDocument) -> list[ProctorError]:
    problems: list[ProctorError] = []
    seen: set[str] = set()
    for index, agent in enumerate(config.agents):
        where = document.location(("agents", index))
        if agent.id in seen:
            problems.append(
                ConfigError(
                    f"agent `{agent.id}` is defined twice",
                    code="config_duplicate_agent",
                    location=where,
                )
            )
        seen.add(agent.id)
        if agent.role is not None and agent.role not in config.roles:
            close = difflib.get_close_matches(agent.role, list(config.roles), n=1)
            problems.append(
                ConfigError(
                    f"agent `{agent.id}` has role `{agent.role}`, "
                    "which is not defined under `roles`",
                    code="config_unknown_role",
                    location=document.location(("agents", index, "role")),
                    hint=f"did you mean `{close[0]}`?" if close else None,
                )
            )
    if config.default_agent is not None and config.default_agent not in seen:
        problems.append(
            ConfigError(
                f"`default_agent` names `{config.default_agent}`, which is not an agent",
                code="config_unknown_agent",
                location=document.location(("default_agent",)),
            )
        )
    return problems


def _translate(error: Any, document: LocatedDocument) -> ConfigError:
    path = tuple(error["loc"])
    name = str(path[-1]) if path else "config"
    if error["type"] == "extra_forbidden":
        known = _known_keys(path[:-1])
        close = difflib.get_close_matches(name, known, n=1)
        return ConfigError(
            f"unknown key `{name}`",
            code="config_unknown_key",
            location=document.location(path, key=True),
            hint=f"did you mean `{close[0]}`?" if close else None,
        )
    if error["type"] == "missing":
        return ConfigError(
            f"missing required key `{name}`",
            code="config_missing_key",
            location=document.location(path[:-1]),
        )
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    return ConfigError(
        f"`{name}`: {message}", code="config_invalid_value", location=document.location(path)
    )


def _known_keys(path: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``path``: the model found by walking the fields, through
    optional values, lists (an index) and mappings (a key such as a server's name)."""
    node: Any = ProctorConfig
    for part in path:
        model = _model_in(node)
        if model is not None:
            field = model.model_fields.get(str(part))
            if field is None:
                return []
            node = field.annotation
            continue
        container = next((a for a in _members(node) if get_origin(a) in (dict, list)), None)
        if container is None:
            return []
        node = get_args(container)[-1]
    model = _model_in(node)
    return sorted(model.model_fields) if model is not None else []


def _members(annotation: Any) -> tuple[Any, ...]:
    """``X | None`` as ``(X, None)``; anything else as itself."""
    return get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None
