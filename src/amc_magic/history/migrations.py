"""Bring a history database up to the newest schema.

Applied steps are recorded by name in the ``amc_migrations`` table. Each pending step runs in
its own transaction together with its record, under a lock (SQLite's write lock, a
PostgreSQL advisory lock scoped to the current schema), so processes starting at the same
time apply every step exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa

from amc_magic.history.database import write_transaction
from amc_magic.history.records import utc_now
from amc_magic.history.tables import migrations as migrations_table
from amc_magic.history.versions import MIGRATIONS, Migration


def applied_migrations(engine: sa.Engine) -> list[str]:
    """Return the names of the steps already applied, oldest first (read-only)."""
    with engine.connect() as conn:
        return _applied(conn)


def pending_migrations(engine: sa.Engine, steps: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Return the names of the steps not yet applied, in the order they would run (read-only)."""
    done = set(applied_migrations(engine))
    return [step.name for step in steps if step.name not in done]


def migrate(
    engine: sa.Engine,
    *,
    upto: str | None = None,
    steps: Sequence[Migration] = MIGRATIONS,
    clock: Callable[[], datetime] = utc_now,
) -> list[str]:
    """Apply pending steps in order, stopping after ``upto`` if given.

    Returns:
        The names of the steps this call applied (empty when the schema was up to date).
    """
    names = [step.name for step in steps]
    if upto is not None and upto not in names:
        raise ValueError(f"unknown migration {upto!r}; known: {', '.join(names)}")
    wanted = steps if upto is None else steps[: names.index(upto) + 1]
    if not pending_migrations(engine, wanted):
        return []
    applied: list[str] = []
    for step in wanted:
        with write_transaction(engine) as conn:
            _lock(conn)
            migrations_table.create(conn, checkfirst=True)
            if step.name in _applied(conn):
                continue
            step.apply(conn)
            conn.execute(sa.insert(migrations_table).values(name=step.name, applied_at=clock()))
            applied.append(step.name)
    return applied


def _applied(conn: sa.Connection) -> list[str]:
    if not sa.inspect(conn).has_table(migrations_table.name):
        return []
    rows = conn.execute(sa.select(migrations_table.c.name).order_by(migrations_table.c.name))
    return list(rows.scalars())


def _lock(conn: sa.Connection) -> None:
    """Serialise migrations; SQLite's ``BEGIN IMMEDIATE`` has already done it there."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('amc_magic.history:' || current_schema()))"))
