"""Session-wide fixtures: a throw-away PostgreSQL cluster (started on first use)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from tests.postgres_cluster import Cluster, start_cluster

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """A fresh, empty database for one test."""
    return postgres_cluster.database(f"t{next(_names)}")


@pytest.fixture
def new_postgres_database(postgres_cluster: Cluster) -> Callable[[], str]:
    return lambda: postgres_cluster.database(f"t{next(_names)}")
