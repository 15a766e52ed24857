"""One throwaway PostgreSQL cluster per module; each test gets an empty database of its own."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import psycopg
import pytest

from engine.pgstore.database import Database
from tests.postgres import postgres_cluster

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def cluster_url() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture
def pg_url(cluster_url: str) -> str:
    name = f"t{next(_numbers)}"
    with psycopg.connect(cluster_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # a generated name, no input
    return cluster_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.close()
