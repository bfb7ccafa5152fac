"""A saved workflow's versions: the records the workflow store hands out, and adding a version.

A version is added only when the SQL template, the parameters' names and types, or the options
differ from the newest one; values alone do not make one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from amc_magic.history import tables as t
from amc_magic.history.records import WorkflowRecord

_w = t.workflows.c
_v = t.workflow_versions.c


@dataclass(frozen=True)
class WorkflowVersion:
    """One numbered version of a workflow: its SQL template, declared parameters and options.

    ``parameters`` are ``{"name", "type", "default"}`` objects in order of first use: the
    placeholder expression, the Python type name of the value it had (``"int"``, ``"list[str]"``,
    None when unknown) and that value as JSON data.
    """

    workflow_id: str
    version: int
    sql_template: str
    parameters: list[dict[str, Any]]
    options: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class SavedVersion:
    """What :meth:`WorkflowStore.save_version` did: the workflow, its newest version, and whether it is new."""

    workflow: WorkflowRecord
    version: WorkflowVersion
    created: bool


@dataclass(frozen=True)
class WorkflowSync:
    """The version of a workflow last sent to an AMC instance, and when."""

    workflow_id: str
    instance_id: str
    version: int
    synced_at: datetime


@dataclass(frozen=True)
class WorkflowSummary:
    """A workflow with its number of versions and its newest execution's time and status."""

    workflow: WorkflowRecord
    versions: int
    last_run: datetime | None
    last_status: str | None


def record_version(
    conn: sa.Connection,
    workflow_id: str,
    *,
    sql_template: str,
    parameters: list[dict[str, Any]],
    options: dict[str, Any],
    now: datetime,
) -> tuple[WorkflowVersion, bool]:
    """Add the next version to the workflow (its UUID) unless its newest one declares the same.

    Also copies a new version's SQL template and parameters onto the workflow's row.

    Returns:
        The newest version, and whether this call added it.
    """
    newest = sa.select(t.workflow_versions).where(_v.workflow_id == workflow_id).order_by(_v.version.desc())
    found = conn.execute(newest.limit(1)).first()
    latest = None if found is None else version_record(found)
    if (
        latest is not None
        and latest.sql_template == sql_template
        and _signature(latest.parameters) == _signature(parameters)
        and latest.options == options
    ):
        return latest, False
    number = 1 if latest is None else latest.version + 1
    added = WorkflowVersion(workflow_id, number, sql_template, parameters, options, now)
    conn.execute(
        sa.insert(t.workflow_versions).values(
            workflow_id=workflow_id,
            version=number,
            sql_template=sql_template,
            parameters=parameters,
            options=options,
            created_at=now,
        )
    )
    conn.execute(
        sa.update(t.workflows)
        .where(_w.id == workflow_id)
        .values(sql_template=sql_template, parameters=parameters, updated_at=now)
    )
    return added, True


def _signature(parameters: Sequence[Mapping[str, Any]]) -> list[tuple[Any, Any]]:
    """What makes two parameter lists the same declaration: names and types, not default values."""
    return [(p.get("name"), p.get("type")) for p in parameters]


def version_record(row: sa.Row[Any]) -> WorkflowVersion:
    values = dict(row._mapping)
    return WorkflowVersion(
        **{**values, "parameters": values["parameters"] or [], "options": values["options"] or {}}
    )
