"""Fixtures for the sandbox's data and query engine: small datasets generated once per session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from amc_magic.sandbox.data import DataSpec, ensure_database
from amc_magic.sandbox.database import SandboxDatabase

TODAY = date(2025, 4, 3)
SPEC = DataSpec(today=TODAY, seed=11, scale=0.2)
"""Three months of data (2025-01-01 to 2025-04-01) at a fifth of the default volume."""
NOW = datetime(2025, 4, 3, 12, 30, 0)


@pytest.fixture(scope="session")
def sandbox_spec() -> DataSpec:
    return SPEC


@pytest.fixture(scope="session")
def sandbox_now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def sandbox_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-cache")


@pytest.fixture(scope="session")
def sandbox_file(sandbox_cache: Path) -> Path:
    return ensure_database(SPEC, sandbox_cache)


@pytest.fixture(scope="session")
def sandbox_db(sandbox_file: Path, sandbox_cache: Path) -> Iterator[SandboxDatabase]:
    """The sandbox database over :data:`SPEC`, with the clock at :data:`NOW`."""
    database = SandboxDatabase(SPEC, sandbox_cache, clock=lambda: NOW)
    yield database
    database.close()


@pytest.fixture(scope="session")
def independent_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:data:`SPEC` generated a second time, into another cache directory."""
    return ensure_database(SPEC, tmp_path_factory.mktemp("independent-cache"))


@pytest.fixture
def raw_db(sandbox_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A plain read-only DuckDB connection to the session's data file."""
    con = duckdb.connect(str(sandbox_file), read_only=True)
    yield con
    con.close()
