"""Mirroring a workflow to AMC's saved workflows, and pulling back the executions AMC ran of it."""

from __future__ import annotations

from dataclasses import dataclass

from amc_magic.client.client import AmcClient
from amc_magic.client.models import AmcExecution, InstanceRef, parse_amc_time
from amc_magic.errors import BadRequestError
from amc_magic.history.records import ExecutionStatus
from amc_magic.history.store import HistoryStore
from amc_magic.history.workflows import WorkflowStore
from amc_magic.workflows.amc import to_amc_sql, to_amc_workflow
from amc_magic.workflows.library import workflow_store

_STATUSES = frozenset(status.value for status in ExecutionStatus)


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync` did: ``action`` is ``created``, ``updated`` or ``unchanged``."""

    workflow_id: str
    instance_id: str
    version: int
    action: str


async def sync(
    client: AmcClient,
    instance: InstanceRef,
    store: HistoryStore | WorkflowStore,
    ref: str,
    *,
    force: bool = False,
) -> SyncResult:
    """Make the workflow's newest version AMC's saved workflow ``workflowId = <wf_ id>`` on ``instance``.

    A workflow never synced to the instance is looked up first (``GET /workflows/{id}``) and then
    created (``POST``) or replaced (``PUT``); one synced before is replaced, or created again if
    AMC no longer has it. When the newest version is the one last synced nothing is sent, unless
    ``force``. The synced version is recorded.

    Returns:
        The ``wf_`` id, the instance, the version now on AMC, and the action taken.

    Raises:
        NotFoundError: no workflow matches ``ref``.
        ParameterError: the template cannot be rewritten for AMC.
        AmcApiError: AMC refused the workflow (a ``CompileError`` for SQL it cannot compile).
    """
    workflows = workflow_store(store)
    workflow = workflows.find(ref)
    version = workflows.get_version(workflow.id)
    synced = workflows.get_sync(workflow.id, instance.instance_id)
    if synced is not None and synced.version == version.version and not force:
        return SyncResult(workflow.workflow_id, instance.instance_id, version.version, "unchanged")
    body = to_amc_workflow(workflow, version)
    exists = synced is not None or await _exists(client, instance, workflow.workflow_id)
    action = "updated" if exists else "created"
    try:
        if exists:
            await client.update_workflow(instance, workflow.workflow_id, body)
        else:
            await client.create_workflow(instance, body)
    except BadRequestError as exc:
        details = (exc.details or exc.message).lower()
        if exists and "does not exist" in details:
            await client.create_workflow(instance, body)
            action = "created"
        elif not exists and "already exists" in details:
            await client.update_workflow(instance, workflow.workflow_id, body)
            action = "updated"
        else:
            raise
    workflows.record_sync(workflow.id, instance.instance_id, version.version)
    return SyncResult(workflow.workflow_id, instance.instance_id, version.version, action)


async def pull_runs(
    client: AmcClient, instance: InstanceRef, store: HistoryStore | WorkflowStore, ref: str, *, target: str | None = None
) -> list[str]:
    """Record in history each execution AMC has of the workflow that history does not know yet.

    AMC is asked for the executions of ``workflowId = <wf_ id>`` (``GET /workflowExecutions``
    filters by it; the answer is checked again here). Each new one becomes a row with its AMC id,
    status, window and parameter values, linked to the workflow and to the version last synced to
    the instance (AMC does not say which definition it ran). Exactly once: calling again, or from
    another process at the same time, adds nothing for executions already recorded, including
    those this package submitted itself. Results are not downloaded: attach to the returned ids.
    ``target`` is the instance's name as the caller's session knows it (``sandbox``), kept on each row.

    Returns:
        The local ids of the rows this call added, oldest execution first.

    Raises:
        NotFoundError: no workflow matches ``ref``.
        AmcApiError: AMC refused the listing.
    """
    workflows = workflow_store(store)
    workflow = workflows.find(ref)
    synced = workflows.get_sync(workflow.id, instance.instance_id)
    version = workflows.get_version(workflow.id, synced.version if synced else None)
    amc_sql = to_amc_sql(version.sql_template, version.parameters)
    found = await client.list_executions(instance, workflow_id=workflow.workflow_id, include_workflow=True)
    ours = sorted(
        (e for e in found if e.workflow_id == workflow.workflow_id),
        key=lambda e: (e.create_time is None, e.create_time, e.execution_id),
    )
    added = []
    for execution in ours:
        local_id = workflows.record_amc_execution(
            amc_execution_id=execution.execution_id,
            instance_id=instance.instance_id,
            target=target,
            workflow_id=workflow.id,
            workflow_version=version.version,
            sql_template=version.sql_template,
            rendered_sql=execution.sql_query or amc_sql,
            parameter_values=dict(execution.raw.get("parameterValues") or {}),
            window_start=parse_amc_time(execution.raw.get("timeWindowStart")),
            window_end=parse_amc_time(execution.raw.get("timeWindowEnd")),
            time_zone=_time_zone(execution),
            status=execution.status if execution.status in _STATUSES else ExecutionStatus.PENDING.value,
            status_reason=execution.status_reason,
            submitted_at=execution.create_time,
            finished_at=parse_amc_time(execution.raw.get("lastUpdatedTime")) if execution.is_terminal else None,
        )
        if local_id is not None:
            added.append(local_id)
    return added


async def _exists(client: AmcClient, instance: InstanceRef, workflow_id: str) -> bool:
    try:
        await client.get_workflow(instance, workflow_id)
    except BadRequestError as exc:
        if exc.status_code == 404 or "does not exist" in (exc.details or exc.message).lower():
            return False
        raise
    return True


def _time_zone(execution: AmcExecution) -> str:
    raw = execution.raw
    return str(raw.get("timeWindowTimeZone") or raw.get("timeWindowTimeZoneOriginal") or "UTC")
