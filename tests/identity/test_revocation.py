"""The jti deny-list: immediate in-process, read through from the store at a bounded rate."""

from __future__ import annotations

from proctor.identity.revocation import RevocationList


def test_revocations_are_seen_at_once_here_and_after_the_refresh_elsewhere() -> None:
    stored: dict[str, int] = {}
    loads = []

    def load() -> list[str]:
        loads.append(1)
        return list(stored)

    revocations = RevocationList(
        load, lambda jti, exp, why: stored.update({jti: exp}), refresh_every=5
    )
    assert not revocations.is_revoked("a", 0)
    revocations.revoke("a", 100, "leaked")
    assert revocations.is_revoked("a", 1)
    stored["b"] = 100  # revoked by another process
    assert not revocations.is_revoked("b", 4)
    assert revocations.is_revoked("b", 5)
    assert len(loads) == 2
