"""Building a runtime from command-line options."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from pathlib import Path

from proctor.config import DEFAULT_CONFIG_NAME, ConfigError, load_config
from proctor.errors import ProctorError
from proctor.runtime import Runtime, build_runtime

DEFAULT_DB = "proctor.db"
DATABASE_ENV = "PROCTOR_DATABASE_URL"


def database_override(db: str | None) -> str | None:
    """``--db``, else ``PROCTOR_DATABASE_URL``: the store named outside the config, if any."""
    return db or os.environ.get(DATABASE_ENV) or None


def runtime_for_options(config: str | None, policies: tuple[str, ...], db: str | None) -> Runtime:
    """The runtime for ``--config``/``--policy``/``--db`` (``proctor.yaml`` when present)."""
    db = database_override(db)
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
        return build_runtime(load_config(config_path), audit=db, policies=policies)
    return build_runtime(policies=policies, audit=db or DEFAULT_DB)


def audit_location(config: str | None, db: str | None) -> str:
    """``--db``, else ``PROCTOR_DATABASE_URL``, else the config's store, else ``proctor.db``."""
    db = database_override(db)
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


def existing(location: str) -> str:
    if (
        location not in (":memory:", "memory")
        and "://" not in location
        and not Path(location).exists()
    ):
        raise ProctorError(f"no audit database at `{location}`", code="storage_not_found")
    return location
