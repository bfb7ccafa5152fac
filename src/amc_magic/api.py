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
from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from .job import AmcJob
from .errors import OptionError
from .options import CellOptions, parse_line, parse_timeout
from .panel import SilentStatus, TextStatus
from .instances import SANDBOX
from .session import Session, ViewFactory

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

    Raises:
        UserError: bad input, before anything is submitted.
        ExecutionFailed / ExecutionCancelled / ExecutionTimeout: how the execution ended.
    """
    job_session = session or default_session()
    job = submit(
        sql,
        instance=instance,
        start=start,
        end=end,
        window=window,
        tz=tz,
        params=params,
        cache=cache,
        validate=validate,
        timeout=timeout,
        progress=progress,
        session=job_session,
    )
    return job_session.wait(job)


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
) -> AmcJob:
    """Start one AMC query in the background and return its :class:`AmcJob` at once.

    Arguments as for :func:`query`. ``job.result()`` blocks for the DataFrame, ``await job`` waits
    without blocking, ``job.cancel()`` cancels it on AMC, ``job.status`` tells where it is.
    """
    job_session = session or default_session()
    options = _options(cache, validate)
    timeout = None if timeout is None else parse_timeout(timeout)
    prepared = job_session.prepare(
        sql, params, instance=instance, start=start, end=end, window=window, tz=tz, validate=options.validate
    )
    return job_session.start(prepared, view_factory=_views(progress), cache=options.cache, timeout=timeout)


def _options(cache: Any, validate: Any) -> CellOptions:
    options = parse_line(f"cache={str(cache).lower()} validate={str(validate).lower()}")
    if options.validate == "only":
        raise OptionError(
            "validate='only' is for the magic; query() and submit() always run the query.",
            hint="Check without running with amc_magic.sqlcheck.check(sql).",
        )
    return options


def _views(progress: Progress) -> ViewFactory:
    import sys

    if progress == "text":
        return lambda instance_id, _cancel: TextStatus(instance_id, stream=sys.stderr)
    return lambda instance_id, _cancel: SilentStatus()
