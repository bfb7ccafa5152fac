"""Backfills: one query over calendar periods and instances, run as one job.

``every=week`` splits the cell's window into calendar periods (:mod:`amc_magic.periods`) and
``instance=a,b`` names several instances; each period and instance is one execution through the
one-query protocol, so each is cached, shared and attached to like any other. This module plans
a backfill (splits, renders and checks every cell, submitting nothing); :mod:`amc_magic.backfill_job`
runs it. A period counts as done only once its result is stored.

Re-running the identical backfill answers the finished periods from the cache, attaches to the
ones still running, and submits only the missing and failed ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .errors import OptionError
from .options import MAX_CONCURRENCY, check_concurrency
from .periods import Period, split_periods

if TYPE_CHECKING:
    from .prepared import PreparedQuery
    from .session import Session


@dataclass(frozen=True)
class BackfillRequest:
    """A query to run per period and instance.

    Attributes:
        sql_template: the SQL with ``{{name}}`` placeholders (``{{window_start}}``/``{{window_end}}``
            render per period).
        namespace: values for the placeholders.
        instances: instance names or ids (``sandbox`` included), in the result's order.
        every: ``day``, ``week`` or ``month``; None runs the whole window once per instance.
        concurrency: executions in flight per instance at most (1 to 10).
        workflow: the saved workflow version (UUID, number) every execution links to, if any.
    """

    sql_template: str
    namespace: Mapping[str, Any]
    instances: tuple[str, ...]
    start: Any = None
    end: Any = None
    window: str | None = None
    tz: str = "UTC"
    every: str | None = None
    week_start: str = "monday"
    concurrency: int = MAX_CONCURRENCY
    validate: str = "true"
    workflow: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        if not self.instances:
            raise OptionError("A backfill needs at least one instance.")
        if len(set(self.instances)) != len(self.instances):
            raise OptionError(f"instance= names an instance twice: {','.join(self.instances)}.", hint="Name each instance once.")
        check_concurrency(self.concurrency)


@dataclass(frozen=True)
class BackfillCell:
    """One execution of a backfill: a period on an instance."""

    index: int
    period: Period
    prepared: PreparedQuery

    @property
    def instance_id(self) -> str:
        return self.prepared.target.instance_id

    @property
    def instance(self) -> str:
        """The instance as the backfill names it: its id, or ``sandbox`` for the in-process emulator
        (whose id a served sandbox shares)."""
        return self.prepared.target.name

    def describe(self) -> str:
        return f"{self.prepared.window.describe()} on {self.instance}"


@dataclass
class BackfillPlan:
    """Every cell of a backfill, in period then instance order, and its id."""

    backfill_id: str
    cells: list[BackfillCell]
    periods: list[Period]
    instance_ids: list[str]
    time_zone: str
    concurrency: int = MAX_CONCURRENCY
    warnings: list[str] = field(default_factory=list)

    def labels(self) -> list[str]:
        """Each cell's period and instance, for people."""
        return [cell.describe() for cell in self.cells]

    def linked_to(self, workflow: tuple[str, int]) -> BackfillPlan:
        """The same plan with every execution linked to a saved workflow version (UUID, number)."""
        uuid, version = workflow
        cells = [replace(c, prepared=replace(c.prepared, workflow_uuid=uuid, workflow_version=version)) for c in self.cells]
        return replace(self, cells=cells)


def plan_backfill(session: Session, request: BackfillRequest) -> BackfillPlan:
    """Resolve the window, split it, and prepare (render and check) every cell; submits nothing.

    Raises:
        OptionError, WindowError, ParameterError, SqlCheckError, ConfigurationError: bad input.
    """
    first = session.prepare(
        request.sql_template, request.namespace, instance=request.instances[0],
        start=request.start, end=request.end, window=request.window, tz=request.tz, validate="false",
    )
    whole = first.window
    if request.every is None:
        periods = [Period(whole.start, whole.end)] if whole.start is not None and whole.end is not None else [None]
    elif whole.start is None or whole.end is None:
        raise OptionError(
            f"every={request.every} needs a window with known bounds, not {whole.describe()}.",
            hint="Give start= and end= (or window=last_N_days).",
        )
    else:
        periods = split_periods(whole.start, whole.end, request.every, request.week_start)
    cells: list[BackfillCell] = []
    warnings: list[str] = []
    for period in periods:
        for instance in request.instances:
            bounds = {"start": period.start, "end": period.end} if period else {"start": request.start, "end": request.end, "window": request.window}
            prepared = session.prepare(
                request.sql_template, request.namespace, instance=instance, tz=request.tz, validate=request.validate,
                workflow=request.workflow, **bounds,
            )
            cells.append(BackfillCell(len(cells), period or Period(prepared.window.start, prepared.window.end), prepared))  # type: ignore[arg-type]
            warnings.extend(w for w in prepared.window.warnings if w not in warnings)
    digest = hashlib.sha256("\n".join(cell.prepared.cache_key for cell in cells).encode()).hexdigest()
    instance_ids = list(dict.fromkeys(cell.instance for cell in cells))
    if len(instance_ids) < len(request.instances):  # an id and a name (%amc connect name=) of one instance
        raise OptionError(
            f"instance= names one instance twice: {','.join(request.instances)} are {','.join(instance_ids)}.",
            hint="Name each instance once.",
        )
    periods_run = [cell.period for cell in cells[:: len(instance_ids)]]
    return BackfillPlan(f"bf_{digest[:12]}", cells, periods_run, instance_ids, whole.time_zone, request.concurrency, warnings)
