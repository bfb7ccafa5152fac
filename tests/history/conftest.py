"""Fixtures for the history store: a store on every ``db_url`` (SQLite and PostgreSQL, see ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from amc_magic.history import ExecutionRecord, HistoryStore, create_engine_for_url
from history_support import FakeClock, claim_args



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
