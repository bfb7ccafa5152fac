"""Read queries over the history tables, each on a connection the caller holds.

Lookups by a user's id never hand the database something it could fail on: ids are compared
as text (UUIDs are stored as strings), prefixes are matched literally, and text with a NUL
character is treated as matching nothing.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from amc_magic.errors import NextStep, NotFoundError, Remedy
from amc_magic.history import tables as t
from amc_magic.history.records import ExecutionRecord, ExecutionStatus, InstanceRecord, WorkflowRecord

SHOWN_MATCHES = 5
logger = logging.getLogger(__name__)
_executions = t.executions.c


def execution_record(row: sa.Row[Any]) -> ExecutionRecord:
    """Build an :class:`ExecutionRecord` from a row of ``amc_executions``."""
    values = dict(row._mapping)
    values["parameter_values"] = values["parameter_values"] or {}
    values["options"] = values["options"] or {}
    return ExecutionRecord(**values)


def workflow_record(row: sa.Row[Any]) -> WorkflowRecord:
    """Build a :class:`WorkflowRecord` from a row of ``amc_workflows``."""
    values = dict(row._mapping)
    values["parameters"] = values["parameters"] or []
    return WorkflowRecord(**values)


def instance(conn: sa.Connection, instance_id: str) -> InstanceRecord | None:
    """Return the instance saved under ``instance_id``, if any."""
    query = sa.select(t.instances).where(t.instances.c.instance_id == searchable(instance_id))
    row = conn.execute(query).first()
    return None if row is None else InstanceRecord(**row._mapping)


def execution_by_id(conn: sa.Connection, local_id: str) -> ExecutionRecord:
    """Return the execution with the local id ``local_id``.

    Raises:
        NotFoundError: there is none.
    """
    row = conn.execute(sa.select(t.executions).where(_executions.id == searchable(local_id))).first()
    if row is None:
        raise NotFoundError(f"No execution has the local id {local_id!r}.")
    return execution_record(row)


def result_checksum(conn: sa.Connection, local_id: str) -> sa.Row[Any] | None:
    """The ``byte_size`` and ``sha256`` of an execution's stored result, without reading its bytes.

    They are read from the index ``ix_amc_results_lookup``: SQLite keeps them after the Parquet
    bytes in the row, and would otherwise walk every overflow page of the bytes to reach them
    (SQLite must be told to: for one row, it prefers the primary key's index).
    """
    key = searchable(local_id)
    if conn.dialect.name == "sqlite":
        return _sqlite_lookup(conn, key, "byte_size, sha256")
    query = sa.select(t.results.c.byte_size, t.results.c.sha256).where(t.results.c.execution_id == key)
    return conn.execute(query).first()


class StoredParquet(NamedTuple):
    """A result's Parquet bytes and the checksum stored with them (read together)."""

    data: bytes | bytearray
    sha256: str | None


def result_parquet(conn: sa.Connection, local_id: str, *, piece_bytes: int | None = None) -> StoredParquet | None:
    """Return the stored Parquet bytes of an execution's result, if any (``conn`` has no transaction yet).

    The bytes are read in pieces of ``piece_bytes`` (default :data:`RESULT_PIECE_BYTES`), in one
    transaction that also reads their checksum. Reading one large value whole is slow on both
    databases: SQLite's row reader took 20 ms for an 18 MB result that its blob reader reads in 8;
    libpq grows its buffer for one large value by copying it over and over (43 ms, against 23 in
    pieces). On PostgreSQL the pieces come in binary form (psycopg's default text transfer sends
    ``bytea`` as hex), all asked for at once in a pipeline, so that the server sends the next while
    the client copies the last (a quarter less time than asking for each in turn).
    """
    piece_bytes = piece_bytes or RESULT_PIECE_BYTES
    if conn.dialect.name == "sqlite":
        return _sqlite_parquet(conn, searchable(local_id), piece_bytes)
    return _postgresql_parquet(conn, searchable(local_id), piece_bytes)


def _sqlite_lookup(conn: sa.Connection, key: str, columns: str) -> sa.Row[Any] | None:
    """``columns`` of a result's row, read from ``ix_amc_results_lookup`` (never from the row's bytes)."""
    query = f"SELECT {columns} FROM {t.results.name} INDEXED BY ix_amc_results_lookup WHERE execution_id = :id"
    return conn.execute(sa.text(query), {"id": key}).first()


def _sqlite_parquet(conn: sa.Connection, key: str, piece_bytes: int) -> StoredParquet | None:
    with conn.begin():
        row = _sqlite_lookup(conn, key, "rowid, sha256")
        if row is None:
            return None
        with conn.connection.driver_connection.blobopen(t.results.name, "parquet", row.rowid, readonly=True) as blob:
            data = _assembled(len(blob), lambda start: blob[start : start + piece_bytes])
    return None if data is None else StoredParquet(data, row.sha256)


def _postgresql_parquet(conn: sa.Connection, key: str, piece_bytes: int) -> StoredParquet | None:
    table = t.results.name
    conn = conn.execution_options(isolation_level="REPEATABLE READ")  # every piece from one snapshot
    driver = conn.connection.driver_connection
    with conn.begin(), driver.cursor(binary=True) as cursor:
        cursor.execute(f"SELECT octet_length(parquet), sha256 FROM {table} WHERE execution_id = %s", [key])
        row = cursor.fetchone()
        if row is None:
            return None
        size, sha256 = row
        with driver.pipeline():  # every piece asked for at once: the server sends them back to back
            pieces: deque[Any] = deque()
            for start in range(0, size, piece_bytes):
                piece = driver.cursor(binary=True)
                piece.execute(
                    f"SELECT substring(parquet FROM %s FOR %s) FROM {table} WHERE execution_id = %s",
                    [start + 1, piece_bytes, key],
                )
                pieces.append(piece)

            def next_piece(start: int) -> bytes | None:
                if start % piece_bytes or not pieces:  # an earlier piece was short
                    return None
                with pieces.popleft() as piece:  # (its bytes are freed once copied)
                    return piece.fetchone()[0]

            data = _assembled(size, next_piece)
            for piece in pieces:
                piece.close()
        return None if data is None else StoredParquet(data, sha256)


def _assembled(size: int, piece: Callable[[int], bytes | None]) -> bytearray | None:
    """``size`` bytes read by ``piece(start)`` calls.

    None if they end early (in one snapshot only a damaged database does that): a cache miss.
    """
    data, start = bytearray(size), 0
    while start < size:
        chunk = piece(start)
        if not chunk:
            logger.warning("a stored result ended after %d of its %d bytes: treated as missing", start, size)
            return None
        data[start : start + len(chunk)] = chunk
        start += len(chunk)
    return data


RESULT_PIECE_BYTES = 2 << 20
"""The size of the pieces a stored result is read in."""


def stale_clause(now: datetime, stale_after: timedelta) -> sa.ColumnElement[bool]:
    """Rows still ``CREATING``, without an AMC id, claimed more than ``stale_after`` ago."""
    return sa.and_(
        _executions.status == ExecutionStatus.CREATING.value,
        _executions.amc_execution_id.is_(None),
        _executions.created_at < now - stale_after,
    )


def live_execution(
    conn: sa.Connection, cache_key: str, now: datetime, stale_after: timedelta
) -> ExecutionRecord | None:
    """Return the live execution for ``cache_key``, ignoring stale ``CREATING`` rows."""
    query = (
        sa.select(t.executions)
        .where(
            _executions.cache_key == cache_key,
            t.live_status_clause(_executions.status),
            sa.not_(stale_clause(now, stale_after)),
        )
        .order_by(_executions.created_at.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return None if row is None else execution_record(row)


def find_execution(conn: sa.Connection, ref: str) -> ExecutionRecord:
    """Return the execution whose local id or AMC id is ``ref`` or starts with it (any case).

    Raises:
        NotFoundError: nothing matches, or the prefix matches several executions.
    """
    text = searchable(ref)
    if not text:
        raise NotFoundError(
            f"{ref!r} is not an execution id.", hint="Give the local id, the AMC id, or the start of either."
        )
    exact = sa.select(t.executions).where(sa.or_(_executions.id == text, _executions.amc_execution_id == text))
    row = conn.execute(exact.limit(1)).first()
    if row is not None:
        return execution_record(row)
    pattern = like_prefix(text.lower())
    by_prefix = sa.or_(
        sa.func.lower(_executions.id).like(pattern, escape="\\"),
        sa.func.lower(_executions.amc_execution_id).like(pattern, escape="\\"),
    )
    query = sa.select(t.executions).where(by_prefix).order_by(_executions.created_at).limit(SHOWN_MATCHES + 1)
    matches = [execution_record(row) for row in conn.execute(query)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"No execution matches {text!r}.", next_steps=(NextStep(Remedy.LIST_HISTORY),))
    listed = ", ".join(f"{m.id} (AMC id {m.amc_execution_id or 'none yet'})" for m in matches[:SHOWN_MATCHES])
    more = " and more" if len(matches) > SHOWN_MATCHES else ""
    raise NotFoundError(f"{text!r} matches several executions: {listed}{more}.", hint="Give more of the id.")


def find_workflow(conn: sa.Connection, ref: str) -> WorkflowRecord:
    """Return the workflow whose UUID, ``wf_...`` id or name is ``ref``, tried in that order.

    Raises:
        NotFoundError: nothing matches, or several workflows share the name.
    """
    text = searchable(ref)
    column = t.workflows.c
    for condition in (column.id == text, column.workflow_id == text, column.name == text):
        rows = conn.execute(sa.select(t.workflows).where(condition).limit(SHOWN_MATCHES + 1)).all()
        if len(rows) == 1:
            return workflow_record(rows[0])
        if rows:
            ids = ", ".join(row.workflow_id for row in rows[:SHOWN_MATCHES])
            raise NotFoundError(
                f"Several workflows are named {text!r}: {ids}.", hint="Use the workflow id instead of its name."
            )
    raise NotFoundError(
        f"No workflow matches {ref!r}.", hint="Give the workflow's UUID, its wf_ id, or its exact name."
    )


def searchable(ref: object) -> str:
    """Return a user's id as trimmed text, or ``""`` when it cannot match anything.

    Text with a NUL character never matches (PostgreSQL would refuse to compare it).
    """
    text = "" if ref is None else str(ref).strip()
    return "" if "\x00" in text else text


def like_prefix(text: str) -> str:
    """Return a LIKE pattern matching ``text`` literally at the start (escape character ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def lock_instance(conn: sa.Connection, instance_id: str) -> None:
    """Serialise, until the transaction ends, writers that count an instance's live executions.

    SQLite's write transaction already holds the database's one write lock; PostgreSQL takes a
    transaction-scoped advisory lock on the instance id.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"amc_magic:live:{instance_id}"))))


def count_live(conn: sa.Connection, instance_id: str, now: datetime, stale_after: timedelta) -> int:
    """How many executions of ``instance_id`` are live, ignoring stale ``CREATING`` rows."""
    query = sa.select(sa.func.count()).where(
        _executions.instance_id == instance_id,
        t.live_status_clause(_executions.status),
        sa.not_(stale_clause(now, stale_after)),
    )
    return int(conn.execute(query).scalar_one())


def past_durations(conn: sa.Connection, instance_id: str, sql_template: str, limit: int) -> list[tuple[float, float | None]]:
    """``(seconds from submission to the end, window seconds or None)`` of the latest successful runs, newest first."""
    query = (
        sa.select(_executions.submitted_at, _executions.finished_at, _executions.window_start, _executions.window_end)
        .where(
            _executions.instance_id == instance_id,
            _executions.sql_template == sql_template,
            _executions.status == ExecutionStatus.SUCCEEDED.value,
            _executions.submitted_at.is_not(None),
            _executions.finished_at.is_not(None),
        )
        .order_by(_executions.finished_at.desc())
        .limit(limit)
    )
    return [
        (
            (row.finished_at - row.submitted_at).total_seconds(),
            (row.window_end - row.window_start).total_seconds() if row.window_start and row.window_end else None,
        )
        for row in conn.execute(query)
        if row.finished_at > row.submitted_at
    ]


def backfill_executions(conn: sa.Connection, backfill_id: str) -> list[ExecutionRecord]:
    """Every execution of the backfill ``backfill_id`` (or a unique prefix of it), in period then instance order.

    Raises:
        NotFoundError: no backfill matches, or the prefix matches several.
    """
    text = searchable(backfill_id).lower()
    if not text:
        raise NotFoundError(f"{backfill_id!r} is not a backfill id (bf_...).", next_steps=(NextStep(Remedy.LIST_HISTORY),))
    ids = conn.execute(
        sa.select(_executions.backfill_id)
        .where(_executions.backfill_id.like(like_prefix(text), escape="\\"))
        .distinct()
        .limit(SHOWN_MATCHES + 1)
    ).scalars().all()
    if not ids:
        raise NotFoundError(f"No backfill matches {text!r}.", next_steps=(NextStep(Remedy.LIST_HISTORY),))
    if len(ids) > 1:
        raise NotFoundError(f"{text!r} matches several backfills: {', '.join(ids[:SHOWN_MATCHES])}.", hint="Give more of the id.")
    query = (
        sa.select(t.executions)
        .where(_executions.backfill_id == ids[0])
        .order_by(_executions.window_start, _executions.instance_id, _executions.created_at)
    )
    return [execution_record(row) for row in conn.execute(query)]


def history_lines(conn: sa.Connection, limit: int, *, page: int | None = None) -> list[ExecutionRecord]:
    """The executions of the newest ``limit`` lines of history, newest first.

    A line is an execution submitted to AMC, or a whole backfill: every period of it that was
    submitted, however far back (a line begins where its newest execution is). The newest
    executions are read ``page`` at a time (``limit``, at least 20) until ``limit`` lines have
    begun, then each backfill among them is read whole.
    """
    page = page or max(limit, 20)
    submitted = sa.select(t.executions).where(_executions.amc_execution_id.is_not(None))
    newest_first = (_executions.submitted_at.desc(), _executions.id.desc())
    lines: dict[str, list[ExecutionRecord]] = {}
    offset = 0
    while len(lines) < limit:
        batch = [execution_record(row) for row in conn.execute(submitted.order_by(*newest_first).limit(page).offset(offset))]
        for record in batch:
            key = record.backfill_id or record.id
            if key not in lines and len(lines) < limit:
                lines[key] = [record]
        if len(batch) < page:
            break
        offset += page
    backfills = [key for key, (first, *_) in lines.items() if first.backfill_id is not None]
    if backfills:
        for key in backfills:
            lines[key] = []
        for row in conn.execute(submitted.where(_executions.backfill_id.in_(backfills)).order_by(*newest_first)):
            record = execution_record(row)
            lines[record.backfill_id].append(record)  # type: ignore[index]
    return [record for records in lines.values() for record in records]
