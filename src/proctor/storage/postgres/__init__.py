"""PostgreSQL backends: the audit chain, counters, runs, approvals and identity, for replicas."""

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str | None) -> bool:
    return location is not None and location.startswith(POSTGRES_SCHEMES)
