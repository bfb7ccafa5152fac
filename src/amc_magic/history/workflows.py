"""Saved workflows in the history: numbered versions, lookup by any id, AMC sync state, pulled runs.

A workflow has a UUID ``id``, a readable ``workflow_id`` (``wf_`` and 12 lowercase hex digits,
AMC's ``workflowId`` when it is synced), a unique ``name`` and versions numbered from 1. The row in
``amc_workflows`` always carries the newest version's SQL template and parameters; every version
is kept in ``amc_workflow_versions``. Which version was last sent to which instance is kept in
``amc_workflow_syncs``.

Finding a workflow by any of its ids or its name is :func:`~amc_magic.history.workflow_ids.find_workflow`
(re-exported here).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from amc_magic.errors import NotFoundError, OptionError
from amc_magic.history import tables as t
from amc_magic.history.cache_key import plain_json
from amc_magic.history.database import dialect_insert, write_transaction
from amc_magic.history.queries import searchable, workflow_record
from amc_magic.history.records import WorkflowRecord, utc_now
from amc_magic.history.workflow_ids import WORKFLOW_ID_PATTERN, check_name, find_workflow, new_workflow_id
from amc_magic.history.workflow_versions import (
    SavedVersion,
    WorkflowSummary,
    WorkflowSync,
    WorkflowVersion,
    record_version,
    version_record,
)

__all__ = [
    "WORKFLOW_ID_PATTERN",
    "SavedVersion",
    "WorkflowStore",
    "WorkflowSummary",
    "WorkflowSync",
    "WorkflowVersion",
    "check_name",
    "find_workflow",
    "new_workflow_id",
    "record_version",
]

_SAVE_ATTEMPTS = 5
_AMC_WORKFLOW_ID = re.compile(r"^[A-Za-z0-9._-]+$")  # what AMC accepts as a workflow id
_w = t.workflows.c
_v = t.workflow_versions.c


class WorkflowStore:
    """The workflows of a history database (its schema must be migrated: open a ``HistoryStore`` first).

    Methods named ``find``, ``get_`` and ``list_`` only read. Times are timezone-aware UTC.

    Args:
        engine: the history database.
        clock: returns the current timezone-aware UTC time.
    """

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self._clock = clock

    def find(self, ref: str) -> WorkflowRecord:
        """Return the workflow ``ref`` names (see :func:`find_workflow`).

        Raises:
            NotFoundError: nothing matches, ``ref`` is malformed, or a prefix is ambiguous.
        """
        with self.engine.connect() as conn:
            return find_workflow(conn, ref)

    def save_version(
        self,
        name: str,
        *,
        sql_template: str,
        parameters: Sequence[Mapping[str, Any]],
        options: Mapping[str, Any],
        description: str | None = None,
    ) -> SavedVersion:
        """Add a version to the workflow ``name`` (creating the workflow) unless nothing changed.

        A new version is made when the SQL template, the parameters' names and types, or the
        options differ from the newest version's; new default values alone do not make one. A
        ``description`` that is not None replaces the workflow's description either way.

        Returns:
            The workflow, its newest version, and whether this call created that version.

        Raises:
            OptionError: ``name`` is empty, too long, or looks like a workflow id.
        """
        name = check_name(name)
        params = _plain(list(parameters))
        opts = _plain(dict(options))
        for attempt in range(_SAVE_ATTEMPTS):  # a rival writer on PostgreSQL may take the name or number first
            try:
                with write_transaction(self.engine) as conn:
                    return self._save(conn, name, sql_template, params, opts, description)
            except sa.exc.IntegrityError:
                if attempt == _SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def save_under_id(
        self, workflow_id: str, *, name: str, sql_template: str, parameters: list[dict[str, Any]] | None = None
    ) -> WorkflowRecord:
        """Insert or update the workflow ``workflow_id`` (AMC's readable id, as given); its UUID never changes.

        Raises:
            OptionError: ``workflow_id`` has characters AMC does not allow, or ``name`` is another workflow's.
        """
        if not _AMC_WORKFLOW_ID.match(workflow_id):
            raise OptionError(
                f"Workflow id {workflow_id!r} is not valid.", hint="Use letters, digits, '.', '-' and '_' only."
            )
        now = self._clock()
        changes = dict(name=name, sql_template=sql_template, parameters=parameters or [], updated_at=now)
        try:
            with write_transaction(self.engine) as conn:
                insert = dialect_insert(conn, t.workflows).values(
                    id=str(uuid.uuid4()), workflow_id=workflow_id, created_at=now, **changes
                )
                conn.execute(insert.on_conflict_do_update(index_elements=["workflow_id"], set_=changes))
                workflow = find_workflow(conn, workflow_id)
                record_version(
                    conn, workflow.id, sql_template=sql_template, parameters=parameters or [], options={}, now=now
                )
                return find_workflow(conn, workflow_id)
        except sa.exc.IntegrityError:
            raise OptionError(
                f"Another workflow is already named {name!r}.", hint="Workflow names are unique; choose another."
            ) from None

    def get_version(self, workflow_id: str, version: int | None = None) -> WorkflowVersion:
        """Return version ``version`` (None: the newest) of the workflow whose UUID is ``workflow_id``.

        Raises:
            NotFoundError: the workflow has no such version.
        """
        query = sa.select(t.workflow_versions).where(_v.workflow_id == searchable(workflow_id))
        if version is not None:
            query = query.where(_v.version == int(version))
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(_v.version.desc()).limit(1)).first()
            if row is None:
                newest = conn.execute(
                    sa.select(sa.func.max(_v.version)).where(_v.workflow_id == searchable(workflow_id))
                ).scalar()
        if row is None:
            known = f"it has versions 1 to {newest}" if newest else "it has no versions"
            raise NotFoundError(
                f"The workflow has no version {version}: {known}.", hint="Leave version= out for the newest."
            )
        return version_record(row)

    def list_versions(self, workflow_id: str) -> list[WorkflowVersion]:
        """Return every version of the workflow whose UUID is ``workflow_id``, oldest first."""
        query = sa.select(t.workflow_versions).where(_v.workflow_id == searchable(workflow_id)).order_by(_v.version)
        with self.engine.connect() as conn:
            return [version_record(row) for row in conn.execute(query)]

    def list_summaries(self) -> list[WorkflowSummary]:
        """Return every workflow by name, with its version count and newest execution."""
        e = t.executions.c
        counts = (
            sa.select(_v.workflow_id, sa.func.count().label("versions")).group_by(_v.workflow_id).subquery()
        )
        ranked = (
            sa.select(
                e.workflow_id,
                sa.type_coerce(sa.func.coalesce(e.submitted_at, e.created_at), t.UtcDateTime).label("last_run"),
                e.status.label("last_status"),
                sa.func.row_number()
                .over(partition_by=e.workflow_id, order_by=(e.created_at.desc(), e.id.desc()))
                .label("rank"),
            )
            .where(e.workflow_id.is_not(None))
            .subquery()
        )
        last = sa.select(ranked).where(ranked.c.rank == 1).subquery()
        query = (
            sa.select(t.workflows, counts.c.versions, last.c.last_run, last.c.last_status)
            .outerjoin(counts, counts.c.workflow_id == _w.id)
            .outerjoin(last, last.c.workflow_id == _w.id)
            .order_by(_w.name)
        )
        summaries = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                values = dict(row._mapping)
                versions, last_run, status = values.pop("versions"), values.pop("last_run"), values.pop("last_status")
                record = WorkflowRecord(**{**values, "parameters": values["parameters"] or []})
                summaries.append(WorkflowSummary(record, int(versions or 0), last_run, status))
        return summaries

    def record_sync(self, workflow_id: str, instance_id: str, version: int) -> WorkflowSync:
        """Note that ``version`` of the workflow (its UUID) is now AMC's definition on ``instance_id``."""
        values = dict(version=version, synced_at=self._clock())
        with write_transaction(self.engine) as conn:
            insert = dialect_insert(conn, t.workflow_syncs).values(
                workflow_id=workflow_id, instance_id=instance_id, **values
            )
            conn.execute(insert.on_conflict_do_update(index_elements=["workflow_id", "instance_id"], set_=values))
        return WorkflowSync(workflow_id, instance_id, version, values["synced_at"])

    def get_sync(self, workflow_id: str, instance_id: str) -> WorkflowSync | None:
        """Return what was last synced of the workflow (its UUID) to ``instance_id``, if anything."""
        s = t.workflow_syncs.c
        query = sa.select(t.workflow_syncs).where(
            s.workflow_id == searchable(workflow_id), s.instance_id == searchable(instance_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else WorkflowSync(**row._mapping)

    def list_syncs(self, workflow_id: str) -> list[WorkflowSync]:
        """Return the workflow's (its UUID's) sync state on every instance it was synced to, by instance."""
        s = t.workflow_syncs.c
        query = sa.select(t.workflow_syncs).where(s.workflow_id == searchable(workflow_id)).order_by(s.instance_id)
        with self.engine.connect() as conn:
            return [WorkflowSync(**row._mapping) for row in conn.execute(query)]

    def record_amc_execution(
        self,
        *,
        amc_execution_id: str,
        instance_id: str,
        workflow_id: str,
        workflow_version: int | None,
        sql_template: str,
        rendered_sql: str,
        parameter_values: Mapping[str, Any],
        window_start: datetime | None,
        window_end: datetime | None,
        time_zone: str,
        status: str,
        status_reason: str | None = None,
        submitted_at: datetime | None = None,
        finished_at: datetime | None = None,
        target: str | None = None,
    ) -> str | None:
        """Insert an execution AMC ran on its own (a schedule, another tool) unless its AMC id is known.

        Exactly once across processes: the AMC id is unique, and a second insert does nothing.
        The row has no cache key (its SQL is AMC's, with ``CUSTOM_PARAMETER``); its window type is
        ``EXPLICIT`` when both bounds are known.

        Returns:
            The new row's local id, or None when an execution with that AMC id was already recorded.

        ``target`` is the instance name it ran on as the session knows it (``sandbox`` for the
        embedded one), so that anyone attaching later (the server's poller) reaches it.
        """
        local_id = str(uuid.uuid4())
        now = self._clock()
        values = dict(
            id=local_id,
            amc_execution_id=amc_execution_id,
            instance_id=instance_id,
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            sql_template=sql_template,
            rendered_sql=rendered_sql,
            parameter_values=_plain(dict(parameter_values)),
            options={"target": target} if target else {},
            window_start=window_start,
            window_end=window_end,
            time_zone=time_zone,
            window_type="EXPLICIT" if window_start and window_end else "UNKNOWN",
            status=status,
            status_reason=status_reason,
            created_at=submitted_at or now,
            submitted_at=submitted_at or now,
            finished_at=finished_at,
            poll_count=0,
        )
        with write_transaction(self.engine) as conn:
            insert = dialect_insert(conn, t.executions).values(**values)
            result = conn.execute(
                insert.on_conflict_do_nothing(index_elements=["amc_execution_id"]),
                execution_options={"preserve_rowcount": True},
            )
        return local_id if result.rowcount == 1 else None

    def _save(
        self,
        conn: sa.Connection,
        name: str,
        sql_template: str,
        parameters: list[dict[str, Any]],
        options: dict[str, Any],
        description: str | None,
    ) -> SavedVersion:
        now = self._clock()
        row = conn.execute(sa.select(t.workflows).where(_w.name == name)).first()
        workflow_uuid = str(uuid.uuid4()) if row is None else row.id
        if row is None:
            conn.execute(
                sa.insert(t.workflows).values(
                    id=workflow_uuid,
                    workflow_id=new_workflow_id(),
                    name=name,
                    sql_template=sql_template,
                    parameters=parameters,
                    description=description,
                    created_at=now,
                    updated_at=now,
                )
            )
        latest, created = record_version(
            conn, workflow_uuid, sql_template=sql_template, parameters=parameters, options=options, now=now
        )
        if row is not None and description is not None:
            conn.execute(sa.update(t.workflows).where(_w.id == workflow_uuid).values(description=description))
        record = workflow_record(conn.execute(sa.select(t.workflows).where(_w.id == workflow_uuid)).one())
        return SavedVersion(record, latest, created)


def _plain(value: Any) -> Any:
    return plain_json(value, sort_keys=True)
