"""The Python API for scripts, pipelines and notebooks that prefer functions to magics.

Both functions run through the same session, engine, history and cache as ``%%amc``::

    import amc_magic
    frame = amc_magic.query("SELECT ... {{campaigns}} ...", start="2026-03-01", end="2026-03-31",
                            params={"campaigns": ["Spring Sale"]})
    job = amc_magic.submit(sql, window="last_7_days")    # returns at once
    frame = job.result()                                 # or: await job
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .job import AmcJob
from .errors import OptionError
from .options import MAX_CONCURRENCY, check_concurrency, convert_option, parse_timeout
from .panel import SilentStatus, TextStatus
from .instances import SANDBOX
from .executions import ViewFactory
from .session import Session

if TYPE_CHECKING:
    from .backfill_job import BackfillJob

Progress = Literal["text", "none"]

_default: Session | None = None
_default_lock = threading.Lock()


def default_session() -> Session:
    """The process-wide session of the Python API (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Session()
        return _default


def query(
    sql: str,
    *,
    instance: str = SANDBOX,
    start: Any = None,
    end: Any = None,
    window: str | None = None,
    tz: str = "UTC",
    params: Mapping[str, Any] | None = None,
    cache: Literal["true", "false", "refresh"] | bool = "true",
    validate: Literal["true", "false"] | bool = "true",
    timeout: float | None = None,
    progress: Progress = "none",
    session: Session | None = None,
    every: str | None = None,
    week_start: str = "monday",
    instances: Sequence[str] | None = None,
    concurrency: int = MAX_CONCURRENCY,
    workflow: tuple[str, int] | None = None,
) -> pd.DataFrame:
    """Run one AMC query and return its result as a typed DataFrame.

    Args:
        sql: AMC SQL; ``{{name}}`` placeholders take their values from ``params``.
        instance: ``sandbox`` (the built-in emulator) or a connected instance id.
        start: window start (ISO date or datetime, in ``tz``).
        end: window end (a date-only end is inclusive).
        window: ``most_recent_day``, ``most_recent_week``, ``current_month``, ``previous_month``
            or ``last_N_days`` instead of start/end.
        tz: IANA time zone of the window.
        params: values for the placeholders.
        cache: ``true`` reuses identical results, ``refresh`` re-runs, ``false`` neither.
        validate: run the local SQL checks before submitting.
        timeout: seconds to wait before raising ``ExecutionTimeout`` (the execution keeps running).
        progress: ``text`` prints status lines to stderr.
        session: the session to use (default: the process-wide one).
        every: ``day``, ``week`` or ``month`` runs one execution per calendar period of the
            window (a backfill); the result's leading columns are ``window_start``/``window_end``.
        week_start: ``monday`` or ``sunday``, for ``every="week"``.
        instances: run on each of these instances (instead of ``instance``); with several, the
            result has an ``instance_id`` column.
        concurrency: executions in flight per instance for a backfill (1 to 10).
        workflow: the saved workflow version ``(UUID, number)`` the executions link to (as
            ``amc-magic run --workflow`` passes it).

    Raises:
        UserError: bad input, before anything is submitted.
        ExecutionFailed / ExecutionCancelled / ExecutionTimeout: how the execution ended.
        BackfillError: some periods of a backfill failed (the others are stored).
    """
    job_session = session or default_session()
    common = dict(start=start, end=end, window=window, tz=tz, params=params, cache=cache, validate=validate,
                  timeout=timeout, progress=progress, session=job_session, workflow=workflow)
    if every is not None or instances is not None:
        many = instances or [instance]
        return job_session.wait(backfill(sql, instances=many, every=every, week_start=week_start, concurrency=concurrency, **common))
    return job_session.wait(_submit(sql, instance=instance, **common, errors_raised=True))


def submit(
    sql: str,
    *,
    instance: str = SANDBOX,
    start: Any = None,
    end: Any = None,
    window: str | None = None,
    tz: str = "UTC",
    params: Mapping[str, Any] | None = None,
    cache: Literal["true", "false", "refresh"] | bool = "true",
    validate: Literal["true", "false"] | bool = "true",
    timeout: float | None = None,
    progress: Progress = "none",
    session: Session | None = None,
    workflow: tuple[str, int] | None = None,
) -> AmcJob:
    """Start one AMC query in the background and return its :class:`AmcJob` at once.

    Arguments as for :func:`query`. ``job.result()`` blocks for the DataFrame, ``await job`` waits
    without blocking, ``job.cancel()`` cancels it on AMC, ``job.status`` tells where it is.
    """
    return _submit(
        sql, instance=instance, start=start, end=end, window=window, tz=tz, params=params, cache=cache,
        validate=validate, timeout=timeout, progress=progress, session=session, workflow=workflow,
    )


def _submit(
    sql: str,
    *,
    instance: str,
    start: Any,
    end: Any,
    window: str | None,
    tz: str,
    params: Mapping[str, Any] | None,
    cache: Literal["true", "false", "refresh"] | bool,
    validate: Literal["true", "false"] | bool,
    timeout: float | None,
    progress: Progress,
    session: Session | None,
    workflow: tuple[str, int] | None,
    errors_raised: bool = False,
) -> AmcJob:
    """:func:`submit`; ``errors_raised``: the caller raises the job's error at once (:func:`query`)."""
    job_session = session or default_session()
    cache_mode, validate_mode = _modes(cache, validate)
    timeout = None if timeout is None else parse_timeout(timeout)
    prepared = job_session.prepare(
        sql, params, instance=instance, start=start, end=end, window=window, tz=tz, validate=validate_mode, workflow=workflow
    )
    return job_session.start(prepared, view_factory=_views(progress, errors_raised=errors_raised), cache=cache_mode, timeout=timeout)


def backfill(
    sql: str,
    *,
    instances: Sequence[str],
    every: str | None = None,
    week_start: str = "monday",
    concurrency: int = MAX_CONCURRENCY,
    start: Any = None,
    end: Any = None,
    window: str | None = None,
    tz: str = "UTC",
    params: Mapping[str, Any] | None = None,
    cache: Literal["true", "false", "refresh"] | bool = "true",
    validate: Literal["true", "false"] | bool = "true",
    timeout: float | None = None,
    progress: Progress = "none",
    session: Session | None = None,
    workflow: tuple[str, int] | None = None,
) -> BackfillJob:
    """Start a backfill (one execution per period and instance) and return its job at once.

    Arguments as for :func:`query`. ``job.status`` summarises, ``job.result()`` waits for every
    period and returns one DataFrame (or raises :class:`~amc_magic.errors.BackfillError`).
    """
    from .backfill import BackfillRequest
    from .backfill_board import BackfillText, BoardState

    job_session = session or default_session()
    cache_mode, validate_mode = _modes(cache, validate)
    request = BackfillRequest(
        sql, params or {}, instances=tuple(instances), start=start, end=end, window=window, tz=tz,
        every=None if every is None else str(convert_option("every", str(every))),
        week_start=str(convert_option("week_start", str(week_start))),
        concurrency=check_concurrency(concurrency), validate=validate_mode, workflow=workflow,
    )
    plan = job_session.plan_backfill(request)
    view = None
    if progress == "text":
        import sys

        view = BackfillText(BoardState(plan.labels(), len(plan.instance_ids), plan.concurrency), stream=sys.stderr)
    timeout = None if timeout is None else parse_timeout(timeout)
    return job_session.start_backfill(plan, view=view, cache=cache_mode, timeout=timeout)


def _modes(cache: Any, validate: Any) -> tuple[str, str]:
    """``cache`` and ``validate`` as the magic's values (bools accepted)."""
    cache_mode = str(convert_option("cache", str(cache).lower()))
    validate_mode = str(convert_option("validate", str(validate).lower()))
    if validate_mode == "only":
        raise OptionError(
            "validate='only' is for the magic; query() and submit() always run the query.",
            hint="Check without running with amc_magic.sqlcheck.check(sql).",
        )
    return cache_mode, validate_mode


def _views(progress: Progress, *, errors_raised: bool = False) -> ViewFactory:
    import sys

    if progress == "text":
        return lambda instance_id, _cancel: TextStatus(instance_id, stream=sys.stderr, errors_raised=errors_raised)
    return lambda instance_id, _cancel: SilentStatus()
