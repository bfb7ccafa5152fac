"""Following one execution on the engine, under its lease, until its result is stored.

A :class:`Follower` submits a claimed query (its mark recorded first, so that a crash between the
create and its answer is recoverable) or attaches to an execution AMC already has. It holds the
execution's lease (:mod:`amc_magic.history.leases`) while it follows, renewing it with every poll,
so a kernel and the server's poller never both finalise one execution; an execution someone else
follows is waited on in the history instead. A result counts only once it is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from .engine.eta import Eta, PastRun, estimate_eta
from .errors import AmcApiError, ExecutionCancelled, ExecutionFailed, NextStep, Remedy, ServerError, TransportError
from .history import ExecutionRecord, ExecutionStatus, leases
from .recording import StoreRecorder
from .wallclock import utc_now

if TYPE_CHECKING:
    from .connector import Connector
    from .engine import ExecutionEvent
    from .history import HistoryStore
    from .history.offloop import OffLoopHistory
    from .job import AmcJob
    from .prepared import PreparedQuery

LEASE_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class LeaseTerms:
    """How this session holds the lease of an execution it follows (see :mod:`amc_magic.history.leases`).

    Attributes:
        owner: the lease owner name, unique to this session.
        ttl: seconds a lease lasts without renewal; longer than the longest poll interval, since
            every poll renews it.
        clock: the time leases are measured in (followers sharing a database share it).
    """

    owner: str
    ttl: float = 150.0
    clock: Callable[[], datetime] = utc_now


class StatusView(Protocol):
    """What an execution drives while it runs (a panel, text lines, or nothing)."""

    def update(self, event: ExecutionEvent) -> None: ...
    def tick(self) -> None: ...
    def show_note(self, text: str, *, status: str | None = None, execution_id: str | None = None) -> None: ...


ViewFactory = Callable[[str, Callable[[], None]], StatusView]
"""Builds the view for an instance id, given the job's cancel callback."""


class Follower:
    """Submits or attaches to executions through the engine and follows them to a stored result."""

    def __init__(self, history: OffLoopHistory, connector: Connector) -> None:
        self._history = history
        self._connector = connector
        self.lease = LeaseTerms(leases.lease_owner("kernel"))

    async def submit(
        self, prepared: PreparedQuery, record: ExecutionRecord, job: AmcJob, view: StatusView | None, timeout: float | None
    ) -> pd.DataFrame:
        from .engine.request import new_mark

        engine = self._connector.engine(prepared.target)
        try:
            await self.take_lease(record.id)  # a row just claimed: nobody else holds it
            mark = new_mark()
            await self._history.run(lambda store: store.note_mark(record.id, mark))  # durable before the create is sent
            recorder = StoreRecorder(self._history, record.id, lease=self.lease)
            eta = await self.predict(prepared.target.instance_id, prepared.sql_template, prepared.window)
        except BaseException:  # cancelled (or failed) before the create was sent: AMC has nothing, so the claim goes
            reason = "Cancelled before it was submitted to AMC."
            await asyncio.shield(self._history.run(lambda store: store.abandon_unsubmitted(record.id, reason)))
            await asyncio.shield(self._release_lease(record.id))
            raise
        handle = engine.submit(prepared.request(mark), recorder=recorder, subscribers=subscribers(view), timeout=timeout, eta=eta)
        return await self._await_handle(handle, recorder, job, view)

    async def follow(
        self, target: Any, local_id: str, amc_id: str, job: AmcJob, view: StatusView | None, timeout: float | None
    ) -> pd.DataFrame:
        job.note_execution_id(amc_id)  # (a handle of ours, if we come to follow it, names it too)
        while not await self.take_lease(local_id):  # another process follows it: wait for its outcome
            frame = await self._outcome(local_id, view)
            if frame is not None:
                return frame
            await asyncio.sleep(LEASE_WAIT_SECONDS)
        finished = await self._finished_meanwhile(local_id)  # its follower may have stored it and let go
        if finished is not None:
            return finished
        recorder = StoreRecorder(self._history, local_id, submitted=True, lease=self.lease)
        engine = self._connector.engine(target)
        handle = engine.attach(target.ref, amc_id, recorder=recorder, subscribers=subscribers(view), timeout=timeout)
        return await self._await_handle(handle, recorder, job, view)

    async def _await_handle(self, handle: Any, recorder: StoreRecorder, job: AmcJob, view: StatusView | None) -> pd.DataFrame:
        job.bind_handle(handle)
        ticker = asyncio.get_running_loop().create_task(_tick(view)) if view is not None else None
        try:
            result = await handle
        except BaseException as error:
            await asyncio.shield(self._settle(error, handle, recorder))
            await asyncio.shield(self._release_lease(recorder.local_id))
            raise
        finally:
            if ticker is not None:
                ticker.cancel()
        try:
            await asyncio.shield(recorder.flush())  # done only once the result is stored
        finally:
            recorder.stop()
            await asyncio.shield(self._release_lease(recorder.local_id))
        return result.frame

    async def predict(self, instance_id: str, sql_template: str, window: Any) -> Eta | None:
        """When a run should end, from the earlier runs of the same template on the same instance (None: too few)."""
        past = await self._history.run(lambda store: store.past_durations(instance_id, sql_template))
        seconds = (window.end - window.start).total_seconds() if window.start and window.end else None
        return estimate_eta([PastRun(duration, length) for duration, length in past], seconds)

    async def take_lease(self, local_id: str) -> bool:
        """Take the execution's lease: free, expired, ours, or held by a process of this machine that exited."""
        lease = self.lease

        def take(store: HistoryStore) -> bool:
            if leases.acquire(store, local_id, lease.owner, lease.ttl, clock=lease.clock, live_only=False):
                return True
            current = leases.holder(store, local_id, clock=lease.clock)
            return current is not None and leases.holder_is_gone(current.owner) and leases.take_over(
                store, local_id, lease.owner, current.owner, lease.ttl, clock=lease.clock
            )

        return await self._history.run(take)

    async def _release_lease(self, local_id: str) -> None:
        owner = self.lease.owner
        with contextlib.suppress(Exception):  # an unreleased lease expires by itself
            await self._history.run(lambda store: leases.release(store, local_id, owner))

    async def _outcome(self, local_id: str, view: StatusView | None) -> pd.DataFrame | None:
        """The stored result of an execution another follower holds; raises if it ended without one."""
        record = await self._history.run(lambda store: store.get_execution(local_id))
        if record.is_live or record.status == ExecutionStatus.SUCCEEDED:
            frame = await self._history.run(lambda store: store.load_result(local_id))
            if frame is None and view is not None:
                view.show_note(f"followed by another process ({record.status}); waiting for its result")
            return frame
        raise ended_without_result(record)

    async def _finished_meanwhile(self, local_id: str) -> pd.DataFrame | None:
        """With the lease just taken: the stored result if the execution already ended with one (lease
        released), raising if it ended without one; None if it still needs following on AMC.

        The follower before us stores the result, then lets the lease go, so the lease can come free
        between two looks at the history. Attaching then would ask AMC again for nothing, and an
        execution of another process's in-process sandbox does not exist in ours.
        """
        record = await self._history.run(lambda store: store.get_execution(local_id))
        if record.is_live:
            return None
        frame = await self._history.run(lambda store: store.load_result(local_id)) if record.status == ExecutionStatus.SUCCEEDED else None
        if frame is None and record.status == ExecutionStatus.SUCCEEDED:
            return None  # succeeded, but nobody stored its result: fetch it from AMC
        await self._release_lease(local_id)
        if frame is None:
            raise ended_without_result(record)
        return frame

    async def _settle(self, error: BaseException, handle: Any, recorder: StoreRecorder) -> None:
        """After a failure: write what the engine recorded, and release a claim that never reached AMC."""
        with contextlib.suppress(Exception):
            await recorder.flush()
        recorder.stop()
        if not recorder.submitted:
            cancelled = isinstance(error, (asyncio.CancelledError, ExecutionCancelled))
            reason = "Cancelled before it reached AMC." if cancelled else str(getattr(error, "message", error))
            if isinstance(error, (TransportError, ServerError)):
                reason += " AMC's answer to the create request was lost, so it may have accepted the execution."
            status = ExecutionStatus.CANCELLED if cancelled else ExecutionStatus.FAILED
            await self._history.run(lambda store: store.record_status(recorder.local_id, status, status_reason=reason))
        elif isinstance(error, (AmcApiError, TransportError)) and handle.execution_id:
            error.add_next_step(NextStep(Remedy.ATTACH, handle.execution_id))  # not lost

def ended_without_result(record: ExecutionRecord) -> Exception:
    error = ExecutionCancelled if record.status == ExecutionStatus.CANCELLED else ExecutionFailed
    reason = f": {record.status_reason}" if record.status_reason else "."
    return error(
        f"AMC execution {record.amc_execution_id or record.short_id} {record.status}{reason}",
        execution_id=record.amc_execution_id,
        status=record.status,
        status_reason=record.status_reason,
    )


def subscribers(view: StatusView | None) -> list[Callable[[ExecutionEvent], None]]:
    return [view.update] if view is not None else []


async def _tick(view: StatusView | None) -> None:
    while view is not None:
        await asyncio.sleep(1.0)
        view.tick()
