"""The executions of one session: starting jobs, attaching, cancelling, and stopping them all.

:class:`Executions` keeps every job this session runs (a job waiting on an identical one shares
its result) and hands each to the one-query protocol (:class:`~amc_magic.protocol.QueryProtocol`)
on the session's private loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from typing import TYPE_CHECKING

import pandas as pd

from .background import CANCEL_GRACE_SECONDS, BackgroundLoop, cancelled_on_interrupt
from .errors import NextStep, NotFoundError, Remedy
from .following import Follower, LeaseTerms, StatusView, ViewFactory
from .history import ExecutionRecord, ExecutionStatus
from .job import AmcJob
from .protocol import Admission, QueryProtocol

if TYPE_CHECKING:
    from .connector import Connector
    from .history.offloop import OffLoopHistory
    from .instance_catalog import InstanceCatalog
    from .instances import Target
    from .prepared import PreparedQuery

__all__ = ["Admission", "Executions", "LeaseTerms", "StatusView", "ViewFactory"]


class Executions:
    """Runs, shares, attaches to and cancels the executions of one session."""

    def __init__(
        self, history: OffLoopHistory, connector: Connector, catalog: InstanceCatalog, background: BackgroundLoop
    ) -> None:
        self._history = history
        self._connector = connector
        self._catalog = catalog
        self._background = background
        self._jobs: set[AmcJob] = set()
        self._follower = Follower(history, connector)
        self.protocol = QueryProtocol(history, connector, catalog, self._follower, self._leader_of)

    @property
    def lease(self) -> LeaseTerms:
        """How this session holds the leases of the executions it follows (the server's poller sets its own)."""
        return self._follower.lease

    @lease.setter
    def lease(self, terms: LeaseTerms) -> None:
        self._follower.lease = terms

    # --- starting jobs (any thread) -------------------------------------------------------

    def start(
        self,
        prepared: PreparedQuery,
        *,
        view_factory: ViewFactory | None = None,
        cache: str = "true",
        timeout: float | None = None,
        waited: bool = False,
    ) -> AmcJob:
        """Start the query on the private loop and return its job at once."""
        job = self.new_job(prepared.target.instance_id, waited=waited)
        view = view_factory(prepared.target.instance_id, job.cancel) if view_factory else None
        self.track(job, self._background.submit(self.protocol.execute(prepared, job, view, cache=cache, timeout=timeout)))
        return job

    def attach(
        self,
        ref: str,
        *,
        view_factory: ViewFactory | None = None,
        timeout: float | None = None,
        waited: bool = False,
        target: Target | None = None,
    ) -> AmcJob:
        """Follow a recorded execution (e.g. after a kernel restart) to its result.

        ``target`` is where it ran, when the caller knows better than the record (an execution AMC
        ran on its own, pulled into history, records no target).
        """
        record = self._history.store.get_execution(ref)
        job = self.new_job(record.instance_id, waited=waited)
        job.local_id = record.id
        job.note_execution_id(record.amc_execution_id)
        view = view_factory(record.instance_id, job.cancel) if view_factory else None
        self.track(job, self._background.submit(self.protocol.attach_record(record, job, view, timeout, target)))
        return job

    def new_job(self, instance_id: str, *, waited: bool = False) -> AmcJob:
        """A job on this session's loop, not yet started."""
        return AmcJob(instance_id, self._background.loop, waited=waited)

    def wait(self, job: AmcJob) -> pd.DataFrame:
        """Block on ``job``; a ``KeyboardInterrupt`` cancels it (on AMC too) and propagates."""
        with cancelled_on_interrupt(job.cancel, job.wait_done):
            return job.result()

    def track(self, job: AmcJob, future: concurrent.futures.Future[pd.DataFrame]) -> None:
        """Keep ``job`` (running as ``future``) known to this session until it ends."""
        job.bind_future(future)
        self._jobs.add(job)  # a strong reference until it ends
        future.add_done_callback(lambda _: self._jobs.discard(job))

    # --- the protocol (on the loop) -------------------------------------------------------

    def _leader_of(self, local_id: str, job: AmcJob) -> AmcJob | None:
        """Another job of this session already running the execution ``local_id``, if any."""
        return next(
            (other for other in list(self._jobs) if other is not job and other.local_id == local_id and not other.done()),
            None,
        )

    def stored_result(self, ref: str) -> pd.DataFrame:
        """The stored result of a recorded execution.

        Raises:
            NotFoundError: no such execution, or it has no stored result (with what to do).
        """
        store = self._history.store
        record = store.get_execution(ref)
        frame = store.load_result(record.id)
        if frame is not None:
            return frame
        if record.is_live or record.status == ExecutionStatus.SUCCEEDED:
            state = f"It is still {record.status}." if record.is_live else "Its download did not finish."
            raise NotFoundError(
                f"Execution {record.short_id} has no stored result.",
                hint=state,
                next_steps=(NextStep(Remedy.ATTACH, record.amc_execution_id or record.short_id),),
            )
        ended = f"It ended {record.status}" + (f": {record.status_reason}" if record.status_reason else ".")
        raise NotFoundError(f"Execution {record.short_id} has no stored result.", hint=ended)

    # --- cancelling and stopping ----------------------------------------------------------

    def cancel(self, ref: str) -> ExecutionRecord:
        """Cancel a recorded execution on AMC (through the job following it, if this session has one)."""
        store = self._history.store
        record = store.get_execution(ref)
        followers = [job for job in list(self._jobs) if job.local_id == record.id]
        for job in followers:
            job.cancel()  # its engine sends the one PUT status=CANCELLED and records the outcome
        for job in followers:
            with contextlib.suppress(Exception, concurrent.futures.CancelledError):
                job.result(timeout=CANCEL_GRACE_SECONDS)
        record = store.get_execution(record.id)
        if record.is_live and record.amc_execution_id:
            target = self._catalog.target_of(record)
            self._background.run(self._cancel_on_amc(target, record.amc_execution_id))
            store.record_status(record.id, ExecutionStatus.CANCELLED, status_reason="Cancelled by the user.")
        elif record.is_live:
            store.record_status(record.id, ExecutionStatus.CANCELLED, status_reason="Cancelled before it reached AMC.")
        return store.get_execution(record.id)

    async def _cancel_on_amc(self, target: Target, amc_id: str) -> None:
        await self._connector.engine(target).client.cancel_execution(target.ref, amc_id)

    async def shutdown(self) -> list[AmcJob]:
        """Detach from every execution still followed and end its task (they keep running on AMC).

        Returns:
            The jobs that were still running.
        """
        stopped = [(job, task) for job in list(self._jobs) if (task := job.stop_following()) is not None]
        await asyncio.gather(*(task for _, task in stopped), return_exceptions=True)
        return [job for job, _ in stopped]
