"""Fixtures shared by every test: no test sees the user's credentials, endpoints or history.

Database tests take ``db_url`` and run on SQLite and on PostgreSQL. PostgreSQL comes from
``AMC_MAGIC_TEST_PG_URL``; each test gets a schema of its own (made the connection's
``search_path`` through the URL's ``options``) that is dropped afterwards. Without the variable the
PostgreSQL variants are skipped; with ``CI`` set, a missing or unreachable server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from amc_magic.client.credentials import CREDENTIAL_VARIABLES
from amc_magic.history import DB_URL_ENV, create_engine_for_url

PG_URL_ENV = "AMC_MAGIC_TEST_PG_URL"

_USER_ENVIRONMENT = (*CREDENTIAL_VARIABLES, "AMC_API_URL", "AMC_TOKEN_URL", DB_URL_ENV)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path_factory):
    """Hide the user's AMC settings and point the Jupyter data directory at a temporary folder."""
    for name in _USER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path_factory.mktemp("jupyter-data")))


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'history.sqlite'}"


def unavailable(message: str) -> None:
    """Skip a test whose service or browser is missing on a developer's machine; under CI, fail it.

    CI provides every one of them (``.ci/run``), so there a missing one is a broken setup, not a skip.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{message} (under CI)")
    pytest.skip(message)


@pytest.fixture(name="unavailable")
def unavailable_fixture() -> Callable[[str], None]:
    """:func:`unavailable`, for tests outside this directory (they cannot import this module)."""
    return unavailable


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh schema, dropped after the test."""
    base = os.environ.get(PG_URL_ENV)
    if not base:
        unavailable(f"{PG_URL_ENV} is not set")
    schema = f"amc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine_for_url(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL at {PG_URL_ENV} is unreachable: {exc.orig}")
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
