"""The handle a background cell (``wait=false``) or :func:`amc_magic.submit` returns.

It is safe to use from any thread: the execution itself runs on amc-magic's private loop.
``job.result()`` blocks until the DataFrame is ready, ``await job`` waits without blocking the
kernel, ``job.cancel()`` cancels the AMC execution, and ``job.status`` tells where it is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

import pandas as pd

from .engine import ExecutionHandle
from .errors import ExecutionTimeout
from .statuses import WITHOUT_RESULT, JobStatus

logger = logging.getLogger("amc_magic")


class AmcJob:
    """A query running in the background.

    Attributes:
        instance_id: the AMC instance.
        local_id: the history id, once the execution is recorded.
        from_cache: True when the result came from the result cache (nothing ran on AMC).
        shared_with: the job of the same session whose identical execution this one waited on.
    """

    def __init__(self, instance_id: str, loop: asyncio.AbstractEventLoop, *, waited: bool = False) -> None:
        self.instance_id = instance_id
        self.local_id: str | None = None
        self.from_cache = False
        self.shared_with: AmcJob | None = None  # the job of this session whose execution this one waited on
        self._loop = loop
        self._future: concurrent.futures.Future[pd.DataFrame] | None = None
        self._handle: ExecutionHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._known_execution_id: str | None = None
        self._cancel_requested = False
        self._waited_on = waited  # a caller blocks on or awaits the result, so it gets any error itself

    # --- wiring (by whoever runs the job) -------------------------------------------------

    def bind_future(self, future: concurrent.futures.Future[pd.DataFrame]) -> None:
        """The thread-safe future of the job's coroutine on the private loop."""
        self._future = future
        future.add_done_callback(self._log_failure)

    def bind_task(self) -> None:
        """Called first thing by the job's coroutine on the private loop."""
        self._task = asyncio.current_task()
        if self._cancel_requested and self._task is not None:
            self._task.cancel()

    def bind_handle(self, handle: ExecutionHandle) -> None:
        """The engine's handle of the execution this job follows."""
        self._handle = handle
        if self._cancel_requested:
            handle.cancel()

    def note_execution_id(self, execution_id: str | None) -> None:
        """AMC's id of the execution when no handle of ours follows it (cache hit, shared run)."""
        self._known_execution_id = execution_id

    @property
    def eta(self) -> Any:
        """When the execution is expected to end (an :class:`~amc_magic.engine.eta.Eta`, seconds
        after its creation), predicted from earlier runs of the same query; None without enough of them."""
        return self._handle.eta if self._handle is not None else None

    @property
    def handle(self) -> ExecutionHandle | None:
        """The engine's handle, while this job follows an execution itself."""
        return self._handle

    def stop_following(self) -> asyncio.Task[Any] | None:
        """Detach from the execution (it keeps running on AMC) and end the job's task (on the loop).

        Returns:
            The task being cancelled, to await, or None if it had ended.
        """
        if self._handle is not None:
            self._handle.detach()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            return self._task
        return None

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the job has ended (at once if it has); it runs in the thread that ends it."""
        if self._future is None:
            raise RuntimeError("the job has not started")
        self._future.add_done_callback(lambda _: callback())

    def wait_done(self, timeout: float) -> None:
        """Block up to ``timeout`` seconds until the job has ended (from any thread but the loop's)."""
        if self._future is None:
            return
        finished = threading.Event()
        self._future.add_done_callback(lambda _: finished.set())
        finished.wait(timeout)

    async def shared_result(self) -> pd.DataFrame:
        """Await this job's result from another job on the loop; cancelling the waiter spares this job."""
        if self._future is None:
            raise RuntimeError("the job has not started")
        return await asyncio.shield(asyncio.wrap_future(self._future))

    # --- user API -------------------------------------------------------------------------

    @property
    def execution_id(self) -> str | None:
        """AMC's execution id, once submitted (``None`` for a cache hit never run here)."""
        if self._handle is not None and self._handle.execution_id:
            return self._handle.execution_id
        return self._known_execution_id

    @property
    def status(self) -> str:
        """One of :class:`~amc_magic.statuses.JobStatus`'s values (``PENDING``, ``RUNNING``, ``SUCCEEDED``, ``CACHED`` ...)."""
        return str(self._status())

    def _status(self) -> str:
        future = self._future
        if future is not None and future.done():
            if future.cancelled():
                return JobStatus.CANCELLED
            error = future.exception()
            if error is None:
                return JobStatus.CACHED if self.from_cache else JobStatus.SUCCEEDED
            if isinstance(error, ExecutionTimeout):
                return JobStatus.TIMED_OUT  # we stopped waiting; the execution may still run on AMC
            status = getattr(error, "status", None)
            return JobStatus(status) if status in WITHOUT_RESULT else JobStatus.FAILED
        if self._handle is not None:
            return self._handle.status or JobStatus.SUBMITTING
        return JobStatus.STARTING

    def done(self) -> bool:
        """Whether the job has ended (with a result, an error, or cancelled)."""
        return self._future is not None and self._future.done()

    def result(self, timeout: float | None = None) -> pd.DataFrame:
        """Wait for the result and return it; raises how the execution ended.

        Args:
            timeout: seconds to wait at most (``TimeoutError`` after that; the job keeps running).
        """
        if self._future is None:
            raise RuntimeError("the job has not started")
        self._waited_on = True
        return self._future.result(timeout)

    def cancel(self) -> None:
        """Cancel the execution (``PUT status=CANCELLED`` on AMC once it was submitted)."""
        self._cancel_requested = True
        handle, task = self._handle, self._task
        if handle is not None:
            self._loop.call_soon_threadsafe(handle.cancel)
        elif task is not None:
            self._loop.call_soon_threadsafe(task.cancel)
        elif self._future is not None:
            self._future.cancel()

    def __await__(self) -> Generator[Any, None, pd.DataFrame]:
        if self._future is None:
            raise RuntimeError("the job has not started")
        self._waited_on = True
        return asyncio.wrap_future(self._future).__await__()

    def __repr__(self) -> str:
        execution = self.execution_id or "-"
        return f"<AmcJob {self.instance_id} execution={execution} status={self.status}>"

    def _log_failure(self, future: concurrent.futures.Future[pd.DataFrame]) -> None:
        """Surface the error of a job nobody waits on (a blocking cell raises it; a cancel was asked for)."""
        if future.cancelled() or self._waited_on or self._cancel_requested:
            return
        error = future.exception()
        if error is not None:
            logger.warning("amc-magic background job on %s ended: %s", self.instance_id, error)
