"""Policy versions and heartbeats in this process's memory (a memory audit's companion)."""

from __future__ import annotations

from dataclasses import replace

from proctor.storage.contracts import PolicySources, PolicyVersion, ProcessBeat
from proctor.storage.errors import StorageError
from proctor.storage.memory_state import InMemory
from proctor.storage.sql.policy_sets import POLICY_TOPIC, POLICY_VERSION_UNKNOWN


class MemoryPolicyStore(InMemory):
    """``PolicyStore`` for one process: nothing is shared, nothing outlives it."""

    def __init__(self) -> None:
        super().__init__()
        self._texts: dict[str, tuple[tuple[str, str], ...]] = {}
        self._versions: dict[int, PolicyVersion] = {}
        self._active: int | None = None
        self._activated_at = 0.0
        self._changes: dict[str, int] = {}
        self._processes: dict[str, ProcessBeat] = {}

    def keep_texts(self, digest: str, sources: PolicySources, now: float) -> None:
        with self._lock:
            self._texts.setdefault(digest, tuple(sources))

    def texts(self, digest: str) -> tuple[tuple[str, str], ...] | None:
        return self._texts.get(digest)

    def push(
        self, digest: str, sources: PolicySources, *, message: str, by: str, now: float
    ) -> tuple[PolicyVersion, bool]:
        with self._lock:
            active = self._versions.get(self._active) if self._active is not None else None
            if active is not None and active.digest == digest:
                return active, False
            self._texts.setdefault(digest, tuple(sources))
            number = max(self._versions, default=0) + 1
            version = PolicyVersion(number, digest, message, now, by, self._texts[digest])
            self._versions[number] = version
            self._point(number, now)
            return version, True

    def activate(self, version: int, *, by: str, now: float) -> PolicyVersion:
        with self._lock:
            found = self._versions.get(version)
            if found is None:
                raise StorageError(
                    f"there is no policy version {version}", code=POLICY_VERSION_UNKNOWN
                )
            self._point(version, now)
            return found

    def _point(self, version: int, now: float) -> None:
        self._active = version
        self._activated_at = now
        self._changes[POLICY_TOPIC] = self._changes.get(POLICY_TOPIC, 0) + 1

    def active(self) -> PolicyVersion | None:
        found = self._versions.get(self._active) if self._active is not None else None
        return None if found is None else replace(found, activated_at=self._activated_at)

    def version(self, version: int) -> PolicyVersion | None:
        return self._versions.get(version)

    def versions(self, limit: int = 100) -> list[PolicyVersion]:
        newest = sorted(self._versions.values(), key=lambda v: v.version, reverse=True)
        return [replace(v, sources=()) for v in newest[:limit]]

    def changes(self) -> dict[str, int]:
        return dict(self._changes)

    def beat(self, process: ProcessBeat) -> None:
        with self._lock:
            self._processes[process.process_id] = process

    def processes(self, since: float) -> list[ProcessBeat]:
        found = [p for p in self._processes.values() if p.heartbeat >= since]
        return sorted(found, key=lambda p: (p.role, p.process_id))
