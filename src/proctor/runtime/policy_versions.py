"""``PolicyVersions``: push, activate (roll back), list, diff and show stored policy sets.

``proctor policy push|activate|versions|diff|show`` and the gateway's reload
route act through this one service, so the same action gives the same answer,
code and record. A set is compiled before it is stored (a set with errors
never becomes a version) and a set of no policies, which would deny every
call, is refused unless asked for on purpose. Each change is a
``policy_change`` record, stored before the change is made: with the audit
store down nothing changes. Every process following the store then switches
to the new active version by itself (``runtime.following``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from datetime import tzinfo
from typing import Any

from proctor.errors import ProctorError
from proctor.policy import CompiledPolicySet, PolicySource, compile_sources
from proctor.runtime.engine import Runtime
from proctor.storage.contracts import PolicyStore, PolicyVersion, ProcessBeat

POLICY_SET_EMPTY = "policy_set_empty"
POLICY_DIGEST_UNKNOWN = "policy_digest_unknown"
INVALID_POLICY_VERSION = "invalid_policy_version"
_MESSAGE_LIMIT = 2000


class PolicyVersionError(ProctorError):
    """A push, activation or lookup refused; ``code`` is one of this module's constants."""

    code = INVALID_POLICY_VERSION


Sources = tuple[tuple[str, str], ...]


def sources_of(policies: CompiledPolicySet) -> Sources:
    """The ``(name, text)`` pairs a compiled set was built from."""
    return tuple((source.file, source.text) for source in policies.sources)


def compile_stored(sources: Sequence[tuple[str, str]], timezone: tzinfo) -> CompiledPolicySet:
    """A stored set compiled again (``PolicyLoadError`` when this proctor refuses it)."""
    return compile_sources([PolicySource(text, name) for name, text in sources], timezone=timezone)


class PolicyVersions:
    """The stored versions of ``store``; a ``runtime`` that follows the store switches at
    once after its own push or activation (``follow_now``; the others within their
    poll interval)."""

    def __init__(
        self,
        runtime: Runtime,
        store: PolicyStore,
        *,
        follow_now: Callable[[], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self._follow = follow_now

    def _follow_now(self) -> None:
        if self._follow is not None:
            self._follow()

    def push(
        self,
        policies: CompiledPolicySet,
        *,
        by: str,
        credential: Mapping[str, str],
        message: str = "",
        allow_empty: bool = False,
        source: str = "files",
    ) -> dict[str, Any]:
        """Store ``policies`` (compiled already) as a new active version."""
        _check_message(message)
        if not policies.policies and not allow_empty:
            why = (
                f"the {source} gives no policies, so every call would be denied; "
                "push an empty set on purpose with `allow_empty`"
            )
            self._record("policy:push", "deny", f"rejected: {why}", by, credential, {})
            raise PolicyVersionError(why, code=POLICY_SET_EMPTY)
        digest = policies.digest
        names = [policy.name for policy in policies.policies]
        active = self.store.active()
        if active is not None and active.digest == digest:  # nothing to change or record
            return {**active.to_dict(), "created": False, "policies": len(names)}
        self._record(
            "policy:push", "allow",
            f"{len(names)} policies from the {source} pushed as the active version",
            by, credential, {"digest": digest, "policies": names, "message": message},
        )  # fmt: skip
        now = self.runtime.clock().timestamp()
        version, created = self.store.push(
            digest, sources_of(policies), message=message, by=by, now=now
        )
        self._follow_now()
        return {**version.to_dict(), "created": created, "policies": len(names)}

    def activate(self, version: int, *, by: str, credential: Mapping[str, str]) -> dict[str, Any]:
        """Make stored ``version`` active again (a rollback), once it compiles here."""
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise PolicyVersionError(
                f"`{str(version)[:40]}` is not a version number", code=INVALID_POLICY_VERSION
            )
        stored = self.store.version(version)
        if stored is None:
            raise PolicyVersionError(
                f"there is no policy version {version}", code="policy_version_unknown"
            )
        compile_stored(stored.sources, self.runtime.policies.timezone)  # still compiles here
        self._record(
            "policy:activate", "allow", f"policy version {version} activated",
            by, credential, {"version": version, "digest": stored.digest},
        )  # fmt: skip
        self.store.activate(version, by=by, now=self.runtime.clock().timestamp())
        self._follow_now()
        return {**stored.to_dict(), "active": True}

    def keep(self, policies: CompiledPolicySet) -> None:
        """Keep the texts of a set loaded from files, so its digest can be looked up later."""
        now = self.runtime.clock().timestamp()
        self.store.keep_texts(policies.digest, sources_of(policies), now)

    def _record(
        self,
        action: str,
        effect: str,
        reason: str,
        by: str,
        credential: Mapping[str, str],
        extra: dict[str, Any],
    ) -> None:
        self.runtime.record(
            "policy_change",
            action=action,
            effect=effect,
            reason=reason,
            agent=None,
            user=by,
            extra={**extra, "credential": dict(credential)},
            wait=effect == "allow",  # a change only once its record is stored
        )


def texts_by_digest(store: PolicyStore, digest: str) -> Sources:
    """The texts kept under ``digest`` (a decision record's ``extra.policy_digest``)."""
    if not isinstance(digest, str) or len(digest) > 100:
        raise PolicyVersionError(
            "a digest is `sha256:` and 64 hex digits", code=POLICY_DIGEST_UNKNOWN
        )
    found = store.texts(digest)
    if found is None:
        raise PolicyVersionError(
            f"no policy texts are kept under `{digest}`", code=POLICY_DIGEST_UNKNOWN
        )
    return found


def version_sources(store: PolicyStore, version: int) -> PolicyVersion:
    found = store.version(version)
    if found is None:
        raise PolicyVersionError(
            f"there is no policy version {version}", code="policy_version_unknown"
        )
    return found


def diff_versions(store: PolicyStore, first: int, second: int) -> str:
    """A unified diff, file by file, from version ``first`` to version ``second``."""
    before, after = version_sources(store, first), version_sources(store, second)
    old, new = dict(before.sources), dict(after.sources)
    lines: list[str] = []
    for name in sorted(old.keys() | new.keys()):
        lines.extend(
            difflib.unified_diff(
                old.get(name, "").splitlines(keepends=True),
                new.get(name, "").splitlines(keepends=True),
                fromfile=f"v{first}/{name}" if name in old else "/dev/null",
                tofile=f"v{second}/{name}" if name in new else "/dev/null",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def status_report(store: PolicyStore, now: float, *, live_seconds: float) -> dict[str, Any]:
    """The active version and every process whose heartbeat is newer than ``live_seconds``,
    each with its lag: how long it has run another version than the active one."""
    active = store.active()
    processes = store.processes(now - live_seconds)
    return {
        "active": None
        if active is None
        else {**active.to_dict(), "activated_at": active.activated_at},
        "processes": [_with_lag(process, active, now) for process in processes],
        "versions_in_use": sorted({p.policy_digest for p in processes}),
    }


def _with_lag(process: ProcessBeat, active: PolicyVersion | None, now: float) -> dict[str, Any]:
    behind = active is not None and process.policy_digest != active.digest
    since = active.activated_at if active is not None and active.activated_at else now
    return {
        **process.to_dict(),
        "heartbeat_age_seconds": round(max(now - process.heartbeat, 0.0), 3),
        "lag_seconds": round(max(now - since, 0.0), 3) if behind else 0.0,
    }


def _check_message(message: object) -> None:
    if not isinstance(message, str) or len(message) > _MESSAGE_LIMIT:
        raise PolicyVersionError(
            f"a message must be text of at most {_MESSAGE_LIMIT} characters",
            code=INVALID_POLICY_VERSION,
        )
