"""Where the history lives and how we open it: URLs, engines and write transactions.

SQLite (the default, one file per user) is opened in WAL mode with a busy timeout, and the
driver's own transaction handling is replaced by explicit ``BEGIN`` statements so that a write
transaction takes the write lock up front (``BEGIN IMMEDIATE``) and waits for it instead of
failing with "database is locked" halfway through. PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool
from jupyter_core.paths import jupyter_data_dir
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from amc_magic.errors import ConfigurationError

DB_URL_ENV = "AMC_MAGIC_DB_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SUPPORTED_BACKENDS = ("sqlite", "postgresql")

_BEGIN_MODE_OPTION = "amc_magic_sqlite_begin"
_POSTGRES_SCHEME = re.compile(r"^(postgres|postgresql)://", re.IGNORECASE)
_URL_HINT = f"Set {DB_URL_ENV} to a sqlite:///PATH or postgresql://USER@HOST/DB URL, or unset it for the default."


def default_database_url() -> str:
    """Return ``AMC_MAGIC_DB_URL`` if set, else a SQLite file in the Jupyter data directory."""
    configured = os.environ.get(DB_URL_ENV, "").strip()
    if configured:
        return configured
    return f"sqlite:///{Path(jupyter_data_dir()) / 'amc_magic' / 'history.sqlite'}"


def create_engine_for_url(url: str) -> sa.Engine:
    """Build an engine for a SQLite or PostgreSQL URL, configured for the history store.

    ``postgresql://`` and ``postgres://`` use psycopg 3. For a SQLite file, its directory is
    created if missing.

    Raises:
        ConfigurationError: the URL is malformed, names another database, or its driver is missing.
    """
    try:
        parsed = sa.make_url(_POSTGRES_SCHEME.sub("postgresql+psycopg://", url.strip()))
    except ArgumentError:
        raise ConfigurationError("The history database URL is not a valid SQLAlchemy URL.", hint=_URL_HINT) from None
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigurationError(f"The history database {shown} is neither SQLite nor PostgreSQL.", hint=_URL_HINT)
    try:
        if backend == "sqlite":
            return _create_sqlite_engine(parsed)
        engine = sa.create_engine(parsed, pool_pre_ping=True)
        sa.event.listen(engine, "handle_error", _explain_refusal)
        return engine
    except NoSuchModuleError:
        raise ConfigurationError(f"No driver is installed for the history database {shown}.", hint=_URL_HINT) from None


class _OneAtATimePool(StaticPool):
    """The one connection of an in-memory database, held by one thread at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._holder = threading.RLock()

    def _do_get(self) -> Any:
        self._holder.acquire()
        return super()._do_get()

    def _do_return_conn(self, record: Any) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            self._holder.release()

    def recreate(self) -> _OneAtATimePool:
        return self.__class__(creator=self._creator, recycle=self._recycle, reset_on_return=self._reset_on_return,
                              pre_ping=self._pre_ping, echo=self.echo, logging_name=self._orig_logging_name,
                              dialect=self._dialect)


def _create_sqlite_engine(url: sa.URL) -> sa.Engine:
    database = url.database or ""
    if database in ("", ":memory:"):
        # One shared connection (otherwise every thread would see a database of its own), lent to
        # one thread at a time: the store is called from worker threads and the caller's at once.
        engine = sa.create_engine(url, poolclass=_OneAtATimePool, connect_args={"check_same_thread": False})
    else:
        if not url.query.get("uri"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url)
    sa.event.listen(engine, "connect", _configure_sqlite_connection)
    sa.event.listen(engine, "handle_error", _explain_refusal)
    sa.event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


_REFUSALS = ("readonly database", "read-only", "disk is full", "no space left", "unable to open database")


def _explain_refusal(context: sa.engine.ExceptionContext) -> None:
    """Turn "the database will not take this write" into one clear error instead of a driver trace."""
    original = context.original_exception
    text = str(original).splitlines()[0] if str(original) else type(original).__name__
    if any(refusal in text.lower() for refusal in _REFUSALS):
        raise ConfigurationError(
            f"The history database refused to write: {text}.",
            hint="Point AMC_MAGIC_DB_URL (or %config AMCMagic.database_url) at a database you can write to.",
        ) from original


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _begin_sqlite_transaction)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _begin_sqlite_transaction(conn: sa.Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_BEGIN_MODE_OPTION) == "IMMEDIATE" else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """Open a transaction that will write: on SQLite it takes the write lock at ``BEGIN``.

    Commits when the block ends, rolls back if it raises.
    """
    with engine.connect() as conn:
        conn.execution_options(**{_BEGIN_MODE_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn


def dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    """Return an ``INSERT`` for ``table`` that supports ``ON CONFLICT`` on this connection's database."""
    module = sqlite if conn.dialect.name == "sqlite" else postgresql
    return module.insert(table)
