"""Fixtures for the history store: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``AMC_MAGIC_TEST_PG_URL``; each test gets a schema of its own (made
the connection's ``search_path`` through the URL's ``options``) that is dropped afterwards.
Without the variable the PostgreSQL variants are skipped; with ``CI`` set, an unreachable
server fails them instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from amc_magic.history import ExecutionRecord, HistoryStore, create_engine_for_url
from history_support import FakeClock, claim_args

PG_URL_ENV = "AMC_MAGIC_TEST_PG_URL"


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'history.sqlite'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh schema, dropped after the test."""
    base = os.environ.get(PG_URL_ENV)
    if not base:
        if os.environ.get("CI"):  # CI runs every PostgreSQL test; a missing URL is a broken setup, not a skip
            pytest.fail(f"{PG_URL_ENV} is not set under CI")
        pytest.skip(f"{PG_URL_ENV} is not set")
    schema = f"amc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine_for_url(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL at {PG_URL_ENV} is unreachable: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty history database, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = create_engine_for_url(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: sa.Engine, clock: FakeClock) -> HistoryStore:
    return HistoryStore(engine, clock=clock)


@pytest.fixture
def claim(store: HistoryStore) -> Callable[..., ExecutionRecord]:
    """Claim an execution that must be new; keyword arguments override :func:`claim_args`."""

    def claim_new(**overrides: Any) -> ExecutionRecord:
        record, created = store.claim_execution(**claim_args(**overrides))
        assert created
        return record

    return claim_new
