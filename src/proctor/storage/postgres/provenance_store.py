"""Provenance in PostgreSQL: what each run has seen, shared by every gateway replica."""

from __future__ import annotations

from proctor.storage.postgres.connection import PostgresDatabase
from proctor.storage.sql.provenance import SqlProvenanceStore


def open_postgres_provenance(url: str) -> SqlProvenanceStore:
    """The ``ProvenanceStore`` on PostgreSQL (``provenance_values``), on a pool of its own."""
    return SqlProvenanceStore(PostgresDatabase.open(url, max_size=4))
