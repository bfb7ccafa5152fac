"""Saved workflows on AMC: sync, schedules, and the runs AMC made, for the magic, the API and the CLI.

Each function takes the :class:`~amc_magic.session.Session` and an instance name (``sandbox`` or a
connected instance id). The HTTP calls run on the session's private loop with the instance's own
client; lookups in the history run in the caller's thread.

::

    sync_workflow(session, "weekly_reach", "sandbox")                  # POST or PUT /workflows
    schedule_workflow(session, "weekly_reach", "sandbox", "week", hour=6, day="Monday")
    list_schedules(session, "sandbox")                                 # a DataFrame
    pull_workflow_runs(session, "weekly_reach", "sandbox")             # into history and cache
    unschedule_workflow(session, "weekly_reach", "sandbox")            # scheduleEnabled: false

A schedule runs AMC's copy of the workflow, the version last synced, with the parameter values
saved as its defaults. Its id is derived from the workflow's ``wf_`` id (:func:`schedule_id`), so
a workflow has one schedule per instance and scheduling it again changes that schedule.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .errors import AmcMagicError, BadRequestError, NotFoundError, OptionError
from .history.workflow_ids import WORKFLOW_ID_PATTERN

if TYPE_CHECKING:
    import pandas as pd

    from .client import AmcClient, InstanceRef
    from .history.records import WorkflowRecord
    from .instances import Target
    from .prepared import PreparedQuery
    from .session import Session
    from .workflows import SyncResult

PERIODS = {"day": "Daily", "week": "Weekly"}
"""``every=`` values and AMC's ``aggregationPeriod`` for them."""
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SCHEDULE_COLUMNS = ("schedule_id", "workflow", "workflow_id", "period", "hour_utc", "day", "enabled")
SCHEDULE_SUFFIX = "-schedule"


def schedule_id(workflow_id: str) -> str:
    """The ``scheduleId`` of a workflow's schedule: its ``wf_`` id and ``-schedule``."""
    return f"{workflow_id}{SCHEDULE_SUFFIX}"


# --- sync -------------------------------------------------------------------------------------


def sync_workflow(session: Session, ref: str, instance: str) -> SyncResult:
    """Create or update AMC's saved workflow for the newest version of workflow ``ref``.

    Returns:
        What :func:`amc_magic.workflows.sync` did (``created``, ``updated`` or ``unchanged``).

    Raises:
        NotFoundError: no workflow matches ``ref``.
        ConfigurationError: ``instance`` is unknown.
        ParameterError: the template cannot be rewritten for AMC.
        AmcApiError: AMC refused the workflow.
    """
    from .workflows import sync

    target = session.target(instance)
    client = _client(session, target)
    return session.background.run(sync(client, target.ref, session.store, ref))


def synced_query(session: Session, prepared: PreparedQuery, namespace: Mapping[str, Any]) -> tuple[PreparedQuery, SyncResult]:
    """``sync=true``: sync the workflow ``prepared`` is a version of, and run it on AMC by ``workflowId``.

    The parameter values are the ones the cell rendered (the notebook's, over the saved defaults),
    sent as ``parameterValues``; the query keeps its local rendering for the history and the cache.

    Raises:
        OptionError: the query is not a saved workflow's newest version.
    """
    from .workflows import resolve_run

    if prepared.workflow_uuid is None:
        raise OptionError("sync=true needs save=NAME (or %amc run NAME).", hint="Add save=NAME to the cell to save it as a workflow first.")
    workflow = session.store.workflows.find(prepared.workflow_uuid)
    newest = session.store.workflows.get_version(workflow.id)
    if prepared.workflow_version != newest.version:
        raise OptionError(
            f"sync=true runs the newest version ({newest.version}) of {workflow.name!r} on AMC, not version {prepared.workflow_version}.",
            hint="Leave out version= or sync=true.",
        )
    result = sync_workflow(session, workflow.id, prepared.target.name)
    plan = resolve_run(session.store, workflow.id, namespace=namespace)
    return replace(prepared, amc_workflow=(result.workflow_id, plan.amc_parameter_values())), result


# --- schedules ----------------------------------------------------------------------------------


def schedule_workflow(
    session: Session, ref: str, instance: str, every: str, hour: int | str | None = None, day: str | None = None
) -> dict[str, Any]:
    """Have AMC run workflow ``ref`` once a day or once a week on ``instance`` (an AMC schedule).

    The schedule (``scheduleId`` from :func:`schedule_id`) is created enabled, or, if the workflow
    has one already, changed to these settings and enabled. Each run covers the period just ended.

    Args:
        every: ``day`` or ``week`` (AMC's ``Daily`` / ``Weekly``).
        hour: the UTC hour the periods end at, 0 to 23 (default 0).
        day: the weekday a weekly period ends on (default: AMC's, the weekday of creation).

    Returns:
        The schedule as AMC returns it (``GET /schedules/{scheduleId}``).

    Raises:
        OptionError: a bad ``every``/``hour``/``day``, or the workflow was never synced to ``instance``.
        NotFoundError: no workflow matches ``ref``.
        AmcApiError: AMC refused the schedule.
    """
    period = _period(every)
    fields: dict[str, Any] = {"aggregationPeriod": period, "aggregationHourUtc": _hour(hour)}
    if day is not None:
        if period != "Weekly":
            raise OptionError(f"day={day} only applies to every=week.", hint="A daily schedule runs every day; leave out day=.")
        fields["aggregationStartDay"] = _weekday(day)
    target = session.target(instance)
    workflow = _synced_workflow(session, ref, target)
    body = {
        "scheduleId": schedule_id(workflow.workflow_id),
        "workflowId": workflow.workflow_id,
        **fields,
        "scheduleEnabled": True,
        **target.request_options,
    }
    client = _client(session, target)
    return session.background.run(_put_schedule(client, target.ref, body))


def stale_sync(session: Session, ref: str, instance: str) -> str | None:
    """A warning when AMC has an older version of workflow ``ref`` than the newest (None when up to date)."""
    target = session.target(instance)
    workflow = session.store.workflows.find(ref)
    synced = session.store.workflows.get_sync(workflow.id, target.instance_id)
    newest = session.store.workflows.get_version(workflow.id)
    if synced is None or synced.version >= newest.version:
        return None
    return (
        f"AMC has version {synced.version} of {workflow.name!r} and runs that one; the newest is version "
        f"{newest.version}. Run %amc sync {shlex.quote(workflow.name)} to send it."
    )


def list_schedules(session: Session, instance: str) -> pd.DataFrame:
    """Every schedule of ``instance``, one row each (columns :data:`SCHEDULE_COLUMNS`).

    ``workflow`` is the workflow's name where the history knows its ``wf_`` id (None for a schedule
    of a workflow made elsewhere); ``day`` is given for weekly schedules only.
    """
    import pandas as pd

    target = session.target(instance)
    client = _client(session, target)
    schedules = session.background.run(client.list_schedules(target.ref))
    rows = []
    for schedule in schedules:
        workflow_id = str(schedule.get("workflowId") or "")
        period = schedule.get("aggregationPeriod")
        rows.append(
            {
                "schedule_id": schedule.get("scheduleId"),
                "workflow": _name_of(session, workflow_id),
                "workflow_id": workflow_id,
                "period": period,
                "hour_utc": schedule.get("aggregationHourUtc"),
                "day": schedule.get("aggregationStartDay") if period == "Weekly" else None,
                "enabled": bool(schedule.get("scheduleEnabled")),
            }
        )
    frame = pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS))
    frame["hour_utc"] = pd.array(frame["hour_utc"].tolist(), dtype="Int64")
    return frame


def unschedule_workflow(session: Session, ref: str, instance: str) -> list[dict[str, Any]]:
    """Disable every enabled schedule of workflow ``ref`` on ``instance`` (``scheduleEnabled: false``).

    The schedules stay on AMC (``%amc schedule`` enables them again), and so do the runs they made.

    Returns:
        The schedules disabled, as AMC returns them now.

    Raises:
        NotFoundError: no workflow matches ``ref``, or it has no enabled schedule on ``instance``.
    """
    target = session.target(instance)
    workflow = session.store.workflows.find(ref)
    client = _client(session, target)
    disabled = session.background.run(_disable_schedules(client, target.ref, workflow.workflow_id))
    if not disabled:
        raise NotFoundError(
            f"Workflow {workflow.name!r} ({workflow.workflow_id}) has no enabled schedule on {target.instance_id}.",
            hint="%amc schedules lists the instance's schedules.",
        )
    return disabled


# --- runs AMC made ---------------------------------------------------------------------------------


def pull_workflow_runs(session: Session, ref: str, instance: str, *, download: bool = True) -> pd.DataFrame:
    """Record in history the executions AMC ran of workflow ``ref`` (a schedule's), each once.

    With ``download``, every new one that SUCCEEDED is followed to its result, which is stored, so
    ``%amc result ID`` loads it without AMC; one still PENDING or RUNNING is followed in the
    background (an AMC run can take hours), and its result is stored when it ends. ``%amc attach
    ID`` waits for one.

    Returns:
        The runs this call added, oldest first, in ``%amc history``'s columns, with their status
        once the finished ones are downloaded.

    Raises:
        NotFoundError: no workflow matches ``ref``.
        AmcApiError: AMC refused the listing, or a finished run's download failed.
    """
    from .history.listing import history_frame
    from .wallclock import utc_now
    from .workflows import pull_runs

    target = session.target(instance)
    client = _client(session, target)
    added = session.background.run(pull_runs(client, target.ref, session.store, ref, target=target.name))
    if download:
        records = [session.store.get_execution(local_id) for local_id in added]
        finished = [session.attach(r.id, waited=True, target=target) for r in records if r.status == "SUCCEEDED"]
        for record in records:
            if record.is_live:
                session.attach(record.id, target=target)
        for job in finished:
            session.wait(job)
    return history_frame([session.store.get_execution(local_id) for local_id in added], utc_now())


# --- helpers -------------------------------------------------------------------------------------


def _client(session: Session, target: Target) -> AmcClient:
    """The instance's HTTP client (built on the session's loop, where it must be used)."""
    engine = session.background.run(_engine(session, target))
    return engine.client


async def _engine(session: Session, target: Target) -> Any:
    return session.connector.engine(target)


def _synced_workflow(session: Session, ref: str, target: Target) -> WorkflowRecord:
    workflow = session.store.workflows.find(ref)
    if session.store.workflows.get_sync(workflow.id, target.instance_id) is None:
        where = "" if target.name == "sandbox" else f" instance={target.name}"
        raise OptionError(
            f"Workflow {workflow.name!r} ({workflow.workflow_id}) is not on AMC instance {target.instance_id} yet: "
            "a schedule runs AMC's saved workflow.",
            hint=f"Run %amc sync {shlex.quote(workflow.name)}{where} first, then schedule it.",
        )
    return workflow


async def _put_schedule(client: AmcClient, instance: InstanceRef, body: dict[str, Any]) -> dict[str, Any]:
    """Create the schedule, or update the one with its id; return it as AMC has it."""
    try:
        await client.create_schedule(instance, body)
    except BadRequestError as error:
        if "already exists" not in (error.details or error.message).lower():
            raise
        await client.update_schedule(instance, body["scheduleId"], {k: v for k, v in body.items() if k != "scheduleId"})
    return await client.get_schedule(instance, body["scheduleId"])


async def _disable_schedules(client: AmcClient, instance: InstanceRef, workflow_id: str) -> list[dict[str, Any]]:
    schedules = await client.list_schedules(instance)
    disabled = []
    for schedule in schedules:
        if schedule.get("workflowId") == workflow_id and schedule.get("scheduleEnabled"):
            await client.update_schedule(instance, str(schedule["scheduleId"]), {"scheduleEnabled": False})
            disabled.append(await client.get_schedule(instance, str(schedule["scheduleId"])))
    return disabled


def _name_of(session: Session, workflow_id: str) -> str | None:
    """The name of the workflow whose ``wf_`` id is ``workflow_id``, if the history has it."""
    if not WORKFLOW_ID_PATTERN.fullmatch(workflow_id):
        return None
    try:
        return session.store.workflows.find(workflow_id).name
    except AmcMagicError:
        return None


def _period(every: str) -> str:
    period = PERIODS.get(str(every).strip().lower())
    if period is None:
        raise OptionError(f"every={every} is not day or week.", hint="AMC schedules run daily or weekly: every=day or every=week.")
    return period


def _hour(hour: int | str | None) -> int:
    if hour is None:
        return 0
    text = str(hour).strip()
    if not (text.isdigit() and 0 <= int(text) <= 23):
        raise OptionError(f"hour={hour} is not an hour from 0 to 23.", hint="The hour is in UTC, for example hour=6.")
    return int(text)


def _weekday(day: str) -> str:
    text = str(day).strip().lower()
    matches = [name for name in WEEKDAYS if len(text) >= 3 and name.lower().startswith(text)]
    if len(matches) != 1:
        raise OptionError(f"day={day} is not a weekday.", hint="Use Monday ... Sunday (or mon ... sun).")
    return matches[0]
