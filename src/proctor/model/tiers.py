"""Agent trust tiers, ordered by rank."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    """How far an agent is trusted: unverified < verified < trusted < privileged."""

    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    TRUSTED = "trusted"
    PRIVILEGED = "privileged"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def parse(cls, value: str | Tier) -> Tier:
        """The tier named ``value``; raises ``ValueError`` for an unknown name."""
        if isinstance(value, Tier):
            return value
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(tier.value for tier in cls)
            raise ValueError(f"unknown tier `{value}` (expected one of: {names})") from None

    def __str__(self) -> str:
        return self.value


_RANKS = {tier: rank for rank, tier in enumerate(Tier)}
TIER_NAMES = tuple(tier.value for tier in Tier)


@dataclass(frozen=True, slots=True)
class TierRule:
    """Demote an agent to ``to`` once it has been denied ``denials`` times in ``window_seconds``.

    ``rule_id`` is ``policy/id``. Windows are fixed (aligned on the epoch).
    Rules never promote: promotion is an admin action (``proctor agent set-tier``).
    """

    rule_id: str
    to: Tier
    denials: int
    window_seconds: int
    window_text: str
