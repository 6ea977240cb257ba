"""Building the identity service (and a runtime with one) from ``--config``."""

from __future__ import annotations

import re
from pathlib import Path

from proctor.cli.loading import database_override
from proctor.clock import system_clock
from proctor.config import DEFAULT_CONFIG_NAME, ConfigError, LoadedConfig, load_config
from proctor.runtime import Runtime, build_runtime
from proctor.runtime.identity import IdentityService, build_identity

_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def load_identity_config(config: str | None) -> LoadedConfig:
    path = config or DEFAULT_CONFIG_NAME
    if config is None and not Path(path).is_file():
        raise ConfigError(
            f"no config: pass `--config FILE` (or create `{DEFAULT_CONFIG_NAME}`)",
            code="config_not_found",
        )
    loaded = load_config(path)
    if loaded.config.identity is None:
        raise ConfigError(
            f"`{loaded.file}` has no `identity:` section: tokens are not configured",
            code="identity_not_configured",
        )
    return loaded


def identity_service(config: str | None, db: str | None = None) -> IdentityService:
    loaded = load_identity_config(config)
    service = build_identity(
        loaded.config.identity,
        base=loaded.base,
        audit_location=database_override(db) or loaded.audit_location,
        clock=system_clock,
    )
    assert service is not None
    return service


def identity_runtime(config: str | None, db: str | None = None) -> Runtime:
    return build_runtime(load_identity_config(config), audit=database_override(db))


def parse_duration(text: str) -> int:
    """``90``, ``90s``, ``10m``, ``1h``, ``2d`` as seconds."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise ConfigError(f"`{text}` is not a duration like `10m` or `1h`", code="invalid_duration")
    return int(match.group(1)) * _UNITS[match.group(2)]
