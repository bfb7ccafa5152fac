"""The history store: instances, workflows, executions and cached results in one database."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa

from amc_magic.errors import ConfigurationError, OptionError
from amc_magic.history import queries, result_files
from amc_magic.history import tables as t
from amc_magic.history.cache_key import plain_json, zone_info
from amc_magic.history.database import (
    SUPPORTED_BACKENDS,
    create_engine_for_url,
    default_database_url,
    dialect_insert,
    write_transaction,
)
from amc_magic.history.listing import history_frame
from amc_magic.history.migrations import migrate
from amc_magic.history.records import (
    FINAL_STATUSES,
    ExecutionRecord,
    ExecutionStatus,
    InstanceRecord,
    WorkflowRecord,
    require_aware,
    utc_now,
)
from amc_magic.history.workflows import WorkflowStore, find_workflow

DEFAULT_STALE_AFTER = timedelta(minutes=10)
_executions = t.executions.c


class HistoryStore:
    """Every execution, from the moment it is claimed, and the results of the successful ones.

    Takes any SQLite or PostgreSQL engine and brings its schema up to date. Build SQLite
    engines with :func:`~amc_magic.history.database.create_engine_for_url` (or use
    :meth:`from_url`) to get WAL mode, a busy timeout and write transactions that are safe
    across processes. Methods named ``get_``, ``find_``, ``list_`` and ``load_`` only read.
    Times go in and come out as timezone-aware UTC datetimes.

    Args:
        engine: where the history lives.
        clock: returns the current timezone-aware UTC time.
        stale_after: how long a ``CREATING`` row without an AMC id may block its cache key.

    Raises:
        ConfigurationError: the engine is not SQLite or PostgreSQL, or the database cannot be opened.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> None:
        shown = engine.url.render_as_string(hide_password=True)
        if engine.dialect.name not in SUPPORTED_BACKENDS:
            raise ConfigurationError(f"The history database {shown} is neither SQLite nor PostgreSQL.")
        self.engine = engine
        self._clock = clock
        self._stale_after = stale_after
        try:
            _migrate_when_free(engine, clock)
        except sa.exc.OperationalError as exc:
            raise ConfigurationError(
                f"Cannot open the history database {shown}: {str(exc.orig).strip()}",
                hint="Check AMC_MAGIC_DB_URL, or unset it to use the default SQLite file.",
            ) from None

    @classmethod
    def from_url(cls, url: str | None = None, **kwargs: Any) -> HistoryStore:
        """Open the store at ``url``; ``None`` means ``AMC_MAGIC_DB_URL`` or the default SQLite file."""
        return cls(create_engine_for_url(url or default_database_url()), **kwargs)

    def close(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()

    # --- accounts, instances, workflows --------------------------------------------------------

    def save_account(self, entity_id: str, marketplace_id: str, name: str | None = None) -> None:
        """Insert or update an AMC account (advertiser entity id and marketplace)."""
        with write_transaction(self.engine) as conn:
            self._upsert_account(conn, entity_id, marketplace_id, name)

    def save_instance(
        self,
        instance_id: str,
        *,
        entity_id: str,
        marketplace_id: str,
        api_url: str,
        instance_type: str = "STANDARD",
        name: str | None = None,
    ) -> InstanceRecord:
        """Insert or update an instance and its account; returns the stored instance."""
        now = self._clock()
        changes: dict[str, Any] = dict(
            entity_id=entity_id, marketplace_id=marketplace_id, api_url=api_url, instance_type=instance_type
        )
        if name is not None:
            changes["name"] = name
        with write_transaction(self.engine) as conn:
            self._upsert_account(conn, entity_id, marketplace_id, None)
            insert = dialect_insert(conn, t.instances).values(
                instance_id=instance_id, created_at=now, updated_at=now, **changes
            )
            changes["updated_at"] = now
            conn.execute(insert.on_conflict_do_update(index_elements=["instance_id"], set_=changes))
            return cast(InstanceRecord, queries.instance(conn, instance_id))

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """Return the instance saved under ``instance_id``, if any."""
        with self.engine.connect() as conn:
            return queries.instance(conn, instance_id)

    def list_instances(self) -> list[InstanceRecord]:
        """Return every saved instance, by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.instances).order_by(t.instances.c.instance_id))
            return [InstanceRecord(**row._mapping) for row in rows]

    def save_workflow(
        self, workflow_id: str, *, name: str, sql_template: str, parameters: list[dict[str, Any]] | None = None
    ) -> WorkflowRecord:
        """Insert or update the workflow ``workflow_id`` (AMC's readable id); its UUID never changes.

        Raises:
            OptionError: ``workflow_id`` has characters AMC does not allow, or ``name`` is taken.
        """
        return self.workflows.save_under_id(workflow_id, name=name, sql_template=sql_template, parameters=parameters)

    def find_workflow(self, ref: str) -> WorkflowRecord:
        """Return the workflow whose UUID, ``wf_...`` id or name is ``ref``, or whose UUID or ``wf_`` id starts with it.

        Raises:
            NotFoundError: nothing matches, ``ref`` is malformed, or a prefix matches several workflows.
        """
        with self.engine.connect() as conn:
            return find_workflow(conn, ref)

    @property
    def workflows(self) -> WorkflowStore:
        """The saved workflows: versions, AMC sync state, runs pulled from AMC."""
        return WorkflowStore(self.engine, clock=self._clock)

    # --- executions: claiming and recording ------------------------------------------------

    def claim_execution(
        self,
        *,
        instance_id: str,
        sql_template: str,
        rendered_sql: str,
        cache_key: str,
        parameter_values: dict[str, Any],
        window_start: datetime | None,
        window_end: datetime | None,
        time_zone: str,
        window_type: str,
        options: dict[str, Any],
        workflow_id: str | None = None,
        workflow_version: int | None = None,
        backfill_id: str | None = None,
        max_live: int | None = None,
        lease_owner: str | None = None,
        lease_expires_at: datetime | None = None,
    ) -> tuple[ExecutionRecord, bool] | None:
        """Create a ``CREATING`` row for a new execution, unless one is already live for ``cache_key``.

        Atomic across processes: of several claims of one key at the same time, exactly one
        creates. A naive window bound is read as a clock time in ``time_zone``. ``workflow_id``
        may be the workflow's UUID, ``wf_...`` id or name.

        Args:
            workflow_version: the version of the workflow ``workflow_id`` this execution runs.
            backfill_id: the backfill this execution is a period of.
            max_live: create only while fewer than this many executions of ``instance_id`` are
                live in the database (counted under a per-instance lock, so processes sharing
                the database together never exceed it).
            lease_owner: who holds the new row's lease (:mod:`~amc_magic.history.leases`) until
                ``lease_expires_at``, written with the row: a claimant that dies at once is known
                by its lease as gone, instead of leaving a row nobody holds until it goes stale.

        Returns:
            The row, and True if this call created it (False: attach to the live execution);
            None when ``max_live`` executions of the instance are already live.

        Raises:
            WindowError: ``time_zone`` is not an IANA zone.
            NotFoundError: no workflow matches ``workflow_id``.
        """
        zone = zone_info(time_zone)
        if (lease_owner is None) != (lease_expires_at is None):
            raise ValueError("a claim's lease needs both its owner and when it expires")
        require_aware(lease_expires_at, "lease_expires_at")
        values = dict(
            lease_owner=lease_owner,
            lease_expires_at=lease_expires_at,
            instance_id=instance_id,
            sql_template=sql_template,
            rendered_sql=rendered_sql,
            cache_key=cache_key,
            parameter_values=plain_json(parameter_values),
            options=plain_json(options),
            window_start=_as_instant(window_start, zone),
            window_end=_as_instant(window_end, zone),
            time_zone=time_zone,
            window_type=window_type,
            status=ExecutionStatus.CREATING.value,
            backfill_id=backfill_id,
            workflow_version=workflow_version,
        )
        while True:  # runs again only if a competing live row ended between our insert and read
            with write_transaction(self.engine) as conn:
                if workflow_id is not None:
                    values["workflow_id"] = find_workflow(conn, workflow_id).id
                if max_live is not None:
                    queries.lock_instance(conn, instance_id)
                    live = queries.live_execution(conn, cache_key, self._clock(), self._stale_after)
                    if live is not None:
                        return live, False
                    if queries.count_live(conn, instance_id, self._clock(), self._stale_after) >= max_live:
                        return None
                claimed = self._try_claim(conn, values)
            if claimed is not None:
                return claimed

    def past_durations(self, instance_id: str, sql_template: str, *, limit: int = 20) -> list[tuple[float, float | None]]:
        """How long the latest successful runs of ``sql_template`` on ``instance_id`` took.

        Returns:
            ``(seconds from submission to the end, window length in seconds or None)``, newest first.
        """
        with self.engine.connect() as conn:
            return queries.past_durations(conn, instance_id, sql_template, limit)

    def count_live(self, instance_id: str) -> int:
        """How many executions of ``instance_id`` are live (stale ``CREATING`` rows do not count)."""
        with self.engine.connect() as conn:
            return queries.count_live(conn, instance_id, self._clock(), self._stale_after)

    def backfill_executions(self, backfill_id: str) -> list[ExecutionRecord]:
        """Every execution of a backfill (or of a unique prefix of its id), in period then instance order.

        Raises:
            NotFoundError: no backfill has that id.
        """
        with self.engine.connect() as conn:
            return queries.backfill_executions(conn, backfill_id)

    def set_amc_id(self, local_id: str, amc_execution_id: str) -> None:
        """Record AMC's execution id and the submission time; a ``CREATING`` row becomes ``PENDING``.

        Raises:
            NotFoundError: no execution has the id ``local_id``.
        """
        creating = _executions.status == ExecutionStatus.CREATING.value
        status = sa.case((creating, ExecutionStatus.PENDING.value), else_=_executions.status)
        self._update(local_id, amc_execution_id=amc_execution_id, submitted_at=self._clock(), status=status)

    def record_status(
        self,
        local_id: str,
        status: str,
        *,
        status_reason: str | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> bool:
        """Record a status change, unless the row already has a final status.

        ``started_at`` defaults to now on the first ``RUNNING``, ``finished_at`` to now on a final
        status.

        Returns:
            False when the row was already final and nothing changed.

        Raises:
            ValueError: ``status`` is not one of :class:`ExecutionStatus`.
            NotFoundError: no execution has the id ``local_id``.
        """
        new = ExecutionStatus(status)
        require_aware(started_at, "started_at")
        require_aware(finished_at, "finished_at")
        now = self._clock()
        values: dict[str, Any] = {"status": new.value}
        if status_reason is not None:
            values["status_reason"] = status_reason
        if started_at is not None or new == ExecutionStatus.RUNNING:
            values["started_at"] = started_at or sa.func.coalesce(_executions.started_at, now)
        if finished_at is not None or new in FINAL_STATUSES:
            values["finished_at"] = finished_at or sa.func.coalesce(_executions.finished_at, now)
        not_final = _executions.status.not_in(sorted(final.value for final in FINAL_STATUSES))
        return self._update(local_id, not_final, **values)

    def record_poll(self, local_id: str) -> None:
        """Note that AMC was just asked for the status (``last_polled_at``, ``poll_count``)."""
        self._update(local_id, last_polled_at=self._clock(), poll_count=_executions.poll_count + 1)

    def store_result(
        self, local_id: str, frame: pd.DataFrame, *, output_columns: list[dict[str, Any]], bytes_downloaded: int
    ) -> None:
        """Store the result frame (as Parquet) with its row count, AMC's columns and bytes downloaded.

        Raises:
            NotFoundError: no execution has the id ``local_id``.
        """
        stored = dict(result_files.encode_result(frame), created_at=self._clock())
        with write_transaction(self.engine) as conn:
            queries.execution_by_id(conn, local_id)
            insert = dialect_insert(conn, t.results).values(execution_id=local_id, **stored)
            conn.execute(insert.on_conflict_do_update(index_elements=["execution_id"], set_=stored))
            conn.execute(
                sa.update(t.executions)
                .where(_executions.id == local_id)
                .values(row_count=len(frame), output_columns=output_columns, bytes_downloaded=bytes_downloaded)
            )
        result_files.keep_copy(stored["sha256"], stored["parquet"])  # large results: a copy on this machine

    def note_mark(self, local_id: str, mark: str) -> None:
        """Record the mark the create request's SQL carries (in ``options``), before it is sent.

        Whoever finds the row without an AMC id after its claimant died looks for that mark among
        the instance's executions, so an execution AMC accepted is followed, never submitted twice.
        """
        with write_transaction(self.engine) as conn:
            record = queries.execution_by_id(conn, local_id)
            options = {**(record.options or {}), "mark": mark}
            conn.execute(sa.update(t.executions).where(_executions.id == local_id).values(options=options))

    def abandon_unsubmitted(self, local_id: str, reason: str) -> bool:
        """Mark a ``CREATING`` row that has no AMC id ``ABANDONED`` (its claimant is known to be gone).

        Returns:
            False when the row got its AMC id or a final status meanwhile (nothing changes then).
        """
        creating = _executions.status == ExecutionStatus.CREATING.value
        return self._update(
            local_id, creating, _executions.amc_execution_id.is_(None),
            status=ExecutionStatus.ABANDONED.value, status_reason=reason, finished_at=self._clock(),
        )

    def abandon_stale(self) -> int:
        """Mark ``CREATING`` rows that got no AMC id within ``stale_after`` as ``ABANDONED``; returns how many."""
        with write_transaction(self.engine) as conn:
            return self._abandon_stale(conn, self._clock())

    # --- executions: reading ---------------------------------------------------------------

    def load_result(self, local_id: str) -> pd.DataFrame | None:
        """Return the stored result of an execution, with its dtypes, or None if there is none.

        A large result is read from this machine's checksummed copy when it has a sound one
        (see :mod:`.result_files`).
        """
        return result_files.load_result(self.engine, local_id)

    def find_cached(self, cache_key: str) -> ExecutionRecord | None:
        """Return the newest ``SUCCEEDED`` execution for ``cache_key`` that has a stored result."""
        query = (
            sa.select(t.executions)
            .join(t.results, t.results.c.execution_id == _executions.id)
            .where(_executions.cache_key == cache_key, _executions.status == ExecutionStatus.SUCCEEDED.value)
            .order_by(_executions.created_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else queries.execution_record(row)

    def find_live(self, cache_key: str) -> ExecutionRecord | None:
        """Return the live execution for ``cache_key`` (``CREATING`` rows gone stale do not count)."""
        with self.engine.connect() as conn:
            return queries.live_execution(conn, cache_key, self._clock(), self._stale_after)

    def get_execution(self, ref: str) -> ExecutionRecord:
        """Return the execution whose local id or AMC id is ``ref`` or starts with it (any case).

        Raises:
            NotFoundError: nothing matches, or the prefix matches several executions.
        """
        with self.engine.connect() as conn:
            return queries.find_execution(conn, ref)

    def list_executions(self, limit: int = 20, *, live_only: bool = False) -> list[ExecutionRecord]:
        """Return executions submitted to AMC (those with an AMC id), newest first.

        Raises:
            OptionError: ``limit`` is negative.
        """
        if limit < 0:
            raise OptionError(f"The number of executions to list must be 0 or more, not {limit}.")
        query = sa.select(t.executions).where(_executions.amc_execution_id.is_not(None))
        if live_only:
            query = query.where(t.live_status_clause(_executions.status))
        query = query.order_by(_executions.submitted_at.desc(), _executions.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [queries.execution_record(row) for row in conn.execute(query)]

    def history_frame(self, limit: int = 20) -> pd.DataFrame:
        """Return the newest ``limit`` lines of history as a table for people: an execution submitted
        to AMC per line, a backfill on one line with all its periods (see :func:`.listing.history_frame`).

        Raises:
            OptionError: ``limit`` is negative.
        """
        if limit < 0:
            raise OptionError(f"The number of history lines to list must be 0 or more, not {limit}.")
        with self.engine.connect() as conn:
            return history_frame(queries.history_lines(conn, limit), self._clock())

    # --- helpers -----------------------------------------------------------------------------

    def _try_claim(self, conn: sa.Connection, values: dict[str, Any]) -> tuple[ExecutionRecord, bool] | None:
        now = self._clock()
        self._abandon_stale(conn, now, _executions.cache_key == values["cache_key"])
        live = queries.live_execution(conn, values["cache_key"], now, self._stale_after)
        if live is not None:
            return live, False
        local_id = str(uuid.uuid4())
        insert = dialect_insert(conn, t.executions).values(id=local_id, created_at=now, poll_count=0, **values)
        inserted = conn.execute(insert.on_conflict_do_nothing(), execution_options={"preserve_rowcount": True})
        if inserted.rowcount == 1:
            return queries.execution_by_id(conn, local_id), True
        live = queries.live_execution(conn, values["cache_key"], now, self._stale_after)  # a rival claim won
        return None if live is None else (live, False)

    def _abandon_stale(self, conn: sa.Connection, now: datetime, *conditions: sa.ColumnElement[bool]) -> int:
        query = (
            sa.update(t.executions)
            .where(queries.stale_clause(now, self._stale_after), *conditions)
            .values(status=ExecutionStatus.ABANDONED.value, finished_at=now)
        )
        return conn.execute(query).rowcount

    def _update(self, local_id: str, *conditions: sa.ColumnElement[bool], **values: Any) -> bool:
        with write_transaction(self.engine) as conn:
            query = sa.update(t.executions).where(_executions.id == local_id, *conditions).values(**values)
            if conn.execute(query).rowcount:
                return True
            queries.execution_by_id(conn, local_id)
            return False

    def _upsert_account(self, conn: sa.Connection, entity_id: str, marketplace_id: str, name: str | None) -> None:
        now = self._clock()
        changes: dict[str, Any] = {"updated_at": now} if name is None else {"updated_at": now, "name": name}
        insert = dialect_insert(conn, t.accounts).values(
            entity_id=entity_id, marketplace_id=marketplace_id, name=name, created_at=now, updated_at=now
        )
        conn.execute(insert.on_conflict_do_update(index_elements=["entity_id", "marketplace_id"], set_=changes))


OPEN_ATTEMPTS = 10


def _migrate_when_free(engine: sa.Engine, clock: Callable[[], datetime]) -> None:
    """Bring the schema up to date; a new SQLite file that other processes open at the same moment
    can answer "database is locked" without waiting (switching it to WAL), so try again briefly."""
    for attempt in range(OPEN_ATTEMPTS):
        try:
            migrate(engine, clock=clock)
            return
        except sa.exc.OperationalError as exc:
            if engine.dialect.name != "sqlite" or "locked" not in str(exc.orig) or attempt == OPEN_ATTEMPTS - 1:
                raise
            engine.dispose()  # connections that failed half-configured are not reused
            time.sleep(0.05 * 2**attempt)


def _as_instant(bound: datetime | None, zone: tzinfo) -> datetime | None:
    """Read a naive window bound as a clock time in ``zone``; aware bounds are kept."""
    return bound if bound is None or bound.tzinfo is not None else bound.replace(tzinfo=zone)

