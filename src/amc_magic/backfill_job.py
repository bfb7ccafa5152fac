"""Running a planned backfill: every cell through the one-query protocol, under a per-instance cap.

Executions in flight per instance are capped by the history database itself (a claim counts the
instance's live rows under a lock), so several kernels or processes backfilling one instance
together stay under the cap. :class:`BackfillJob` is the handle: ``.status``, ``.result()``,
``await``, ``.cancel()``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Generator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from .backfill import BackfillCell, BackfillPlan
from .errors import BackfillError, BackfillFailure, ExecutionError
from .protocol import Admission
from .statuses import bucket

if TYPE_CHECKING:
    from .backfill_board import BackfillView
    from .job import AmcJob
    from .session import Session

RECHECK_SECONDS = 1.0
"""How often a full instance is re-counted (other processes' executions end unannounced)."""


class InstanceSlots:
    """The admission queue of one instance: claims one at a time, woken when a slot may be free."""

    def __init__(self, max_live: int, backfill_id: str, recheck: float = RECHECK_SECONDS) -> None:
        self._freed = asyncio.Event()
        self._recheck = recheck
        self.admission = Admission(max_live=max_live, wait=self._wait, backfill_id=backfill_id, queue=asyncio.Lock())

    def free(self) -> None:
        """One of our executions ended (call on the loop)."""
        self._freed.set()

    async def _wait(self) -> None:
        # Cleared after waking, not before: a slot freed while the last claim ran is not missed.
        try:
            await asyncio.wait_for(self._freed.wait(), self._recheck)
        except TimeoutError:
            pass
        self._freed.clear()


class BackfillJob:
    """A running backfill: ``.status`` summarises, ``.result()`` waits for all, ``.cancel()`` stops all.

    Attributes:
        backfill_id: the history's id of the backfill (``bf_...``).
        cells: its executions, in period then instance order.
        jobs: the job of each cell, same order.
    """

    def __init__(self, plan: BackfillPlan, jobs: list[AmcJob], collected: concurrent.futures.Future[pd.DataFrame]) -> None:
        self.backfill_id = plan.backfill_id
        self.plan = plan
        self.cells = plan.cells
        self.jobs = jobs
        self._collected = collected

    def counts(self) -> dict[str, int]:
        """How many cells are done, running, queued, failed."""
        counts = {"done": 0, "running": 0, "queued": 0, "failed": 0}
        for job in self.jobs:
            counts[bucket(job.status, ended=job.done())] += 1
        return counts

    @property
    def status(self) -> str:
        """For example ``31/52 done · 10 running · 11 queued · 0 failed``."""
        counts = self.counts()
        return f"{counts['done']}/{len(self.jobs)} done · {counts['running']} running · {counts['queued']} queued · {counts['failed']} failed"

    def done(self) -> bool:
        """Whether every cell has ended."""
        return self._collected.done()

    def wait_done(self, timeout: float) -> None:
        """Block up to ``timeout`` seconds until every cell has ended."""
        concurrent.futures.wait([self._collected], timeout)

    def result(self, timeout: float | None = None) -> pd.DataFrame:
        """Wait for every cell; the combined frame, or :class:`BackfillError` listing the failed ones."""
        return self._collected.result(timeout)

    def cancel(self) -> None:
        """Cancel every unfinished cell (on AMC too)."""
        for job in self.jobs:
            if not job.done():
                job.cancel()

    def __await__(self) -> Generator[Any, None, pd.DataFrame]:
        return asyncio.wrap_future(self._collected).__await__()

    def __repr__(self) -> str:
        return f"<BackfillJob {self.backfill_id} {self.status}>"


def start_backfill(
    session: Session,
    plan: BackfillPlan,
    *,
    view: BackfillView | None = None,
    cache: str = "true",
    timeout: float | None = None,
    recheck: float = RECHECK_SECONDS,
) -> BackfillJob:
    """Start every cell of ``plan`` on the session's loop and return the backfill's job at once."""
    executions = session.executions
    slots = session.background.run(_make_slots(plan, plan.concurrency, recheck))
    jobs: list[AmcJob] = []
    for cell in plan.cells:
        job = executions.new_job(cell.instance_id, waited=True)
        cell_view = view.cell(cell.index) if view is not None else None
        admission = slots[cell.instance].admission
        future = session.background.submit(
            executions.protocol.execute(cell.prepared, job, cell_view, cache=cache, timeout=timeout, admission=admission)
        )
        executions.track(job, future)
        freed = slots[cell.instance].free
        future.add_done_callback(lambda _f, free=freed: session.background.loop.call_soon_threadsafe(free))
        if view is not None:
            future.add_done_callback(lambda _f, c=cell, j=job: view.finished(c.index, j))
        jobs.append(job)
    collected = session.background.submit(_collect(plan, jobs))
    return BackfillJob(plan, jobs, collected)


async def _make_slots(plan: BackfillPlan, concurrency: int, recheck: float) -> dict[str, InstanceSlots]:
    return {instance: InstanceSlots(concurrency, plan.backfill_id, recheck) for instance in plan.instance_ids}


async def _collect(plan: BackfillPlan, jobs: Sequence[AmcJob]) -> pd.DataFrame:
    """Wait for every cell, then combine the frames or raise the failures."""
    await asyncio.gather(*(_settled(job) for job in jobs))
    failures = [_failure(cell, job) for cell, job in zip(plan.cells, jobs) if bucket(job.status, ended=job.done()) == "failed"]
    if failures:
        raise BackfillError(failures, total=len(jobs), backfill_id=plan.backfill_id)
    return combine(plan, [job.result() for job in jobs])


async def _settled(job: AmcJob) -> None:
    try:
        await job
    except (Exception, asyncio.CancelledError):
        pass


def combine(plan: BackfillPlan, frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One frame: ``window_start``, ``window_end`` (in the cell's zone), ``instance_id`` if several, then the query's columns."""
    zone = plan.time_zone
    several = len(plan.instance_ids) > 1
    parts = []
    for cell, frame in zip(plan.cells, frames):
        leading = {
            "window_start": pd.Series(_stamp(cell.period.start, zone), index=frame.index, dtype=f"datetime64[ns, {zone}]"),
            "window_end": pd.Series(_stamp(cell.period.end, zone), index=frame.index, dtype=f"datetime64[ns, {zone}]"),
        }
        if several:
            leading["instance_id"] = pd.Series(cell.instance, index=frame.index, dtype="string")
        clashing = [name for name in leading if name in frame.columns]
        body = frame.rename(columns={name: f"{name}_" for name in clashing})
        parts.append(pd.concat([pd.DataFrame(leading), body], axis=1))
    combined = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    for name in frames[0].columns if frames else ():  # an empty period must not widen a dtype
        if name in combined.columns and combined[name].dtype != frames[0][name].dtype:
            combined[name] = combined[name].astype(frames[0][name].dtype)
    return combined


def _stamp(moment: datetime | None, zone: str) -> pd.Timestamp:
    return pd.NaT if moment is None else pd.Timestamp(moment).tz_localize(zone)


def _failure(cell: BackfillCell, job: AmcJob) -> BackfillFailure:
    try:
        job.result(0)
        reason = "no result"
    except ExecutionError as error:
        reason = error.status_reason or error.message
    except concurrent.futures.CancelledError:
        reason = "cancelled"
    except Exception as error:  # noqa: BLE001 - every failure is listed, whatever its kind
        reason = str(getattr(error, "message", error))
    return BackfillFailure(cell.period.start, cell.period.end, cell.instance, " ".join(reason.split()), job.execution_id)
