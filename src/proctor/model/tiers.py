"""Agent trust tiers, ordered by rank."""

from __future__ import annotations

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
