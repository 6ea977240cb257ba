"""Building a runtime from command-line options."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from proctor.config import DEFAULT_CONFIG_NAME, ConfigError, load_config
from proctor.identity.registry import AgentRegistry
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.storage import open_audit_store
from proctor.storage.state import open_state_stores

DEFAULT_DB = "proctor.db"


def build_runtime(config: str | None, policies: tuple[str, ...], db: str | None) -> Runtime:
    config_path = config or (
        DEFAULT_CONFIG_NAME if Path(DEFAULT_CONFIG_NAME).is_file() and not policies else None
    )
    if config_path is None and not policies:
        raise ConfigError(
            "no policy given: pass `--policy FILE` or `--config FILE` "
            f"(or create `{DEFAULT_CONFIG_NAME}`)",
            code="no_policy_given",
        )
    if config_path is not None:
        loaded = load_config(config_path)
        return Runtime.from_config(loaded, audit=db, extra_policies=policies)
    return Runtime(
        policies=load_policies(policies, timezone=ZoneInfo("UTC")),
        registry=AgentRegistry(),
        audit=open_audit_store(db or DEFAULT_DB),
        state=open_state_stores(db or DEFAULT_DB),
    )


def audit_location(config: str | None, db: str | None) -> str:
    if db:
        return db
    if config or Path(DEFAULT_CONFIG_NAME).is_file():
        return load_config(config or DEFAULT_CONFIG_NAME).audit_location
    return DEFAULT_DB


def parse_at(at: str | None, zone: tzinfo) -> datetime | None:
    """The ``--at`` time; one without an offset is read in the policies' time zone."""
    if at is None:
        return None
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"`--at {at}` is not an ISO 8601 time (e.g. 2026-11-24T10:00:00Z)", code="invalid_time"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
