"""The handle a background cell (``wait=false``) or :func:`amc_magic.submit` returns.

It is safe to use from any thread: the execution itself runs on amc-magic's private loop.
``job.result()`` blocks until the DataFrame is ready, ``await job`` waits without blocking the
kernel, ``job.cancel()`` cancels the AMC execution, and ``job.status`` tells where it is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Generator
from typing import Any

import pandas as pd

from .engine import ExecutionHandle

logger = logging.getLogger("amc_magic")


class AmcJob:
    """A query running in the background.

    Attributes:
        instance_id: the AMC instance.
        local_id: the history id, once the execution is recorded.
        from_cache: True when the result came from the result cache (nothing ran on AMC).
    """

    def __init__(self, instance_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.instance_id = instance_id
        self.local_id: str | None = None
        self.from_cache = False
        self._loop = loop
        self._future: concurrent.futures.Future[pd.DataFrame] | None = None
        self._handle: ExecutionHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._known_execution_id: str | None = None
        self._cancel_requested = False
        self._waited_on = False  # a caller blocks on or awaits the result, so it gets any error itself

    # --- wiring (called by the session) ---------------------------------------------------

    def _bind_future(self, future: concurrent.futures.Future[pd.DataFrame]) -> None:
        self._future = future
        future.add_done_callback(self._log_failure)

    def _bind_task(self) -> None:
        """Called first thing by the job's coroutine on the private loop."""
        self._task = asyncio.current_task()
        if self._cancel_requested and self._task is not None:
            self._task.cancel()

    def _bind_handle(self, handle: ExecutionHandle) -> None:
        self._handle = handle
        if self._cancel_requested:
            handle.cancel()

    def _bind_execution_id(self, execution_id: str | None) -> None:
        self._known_execution_id = execution_id

    # --- user API -------------------------------------------------------------------------

    @property
    def execution_id(self) -> str | None:
        """AMC's execution id, once submitted (``None`` for a cache hit never run here)."""
        if self._handle is not None and self._handle.execution_id:
            return self._handle.execution_id
        return self._known_execution_id

    @property
    def status(self) -> str:
        """``QUEUED``, ``PENDING``, ``RUNNING``, ``SUCCEEDED``, ``FAILED``, ``CANCELLED``, ``CACHED``, ..."""
        future = self._future
        if future is not None and future.done():
            if future.cancelled():
                return "CANCELLED"
            error = future.exception()
            if error is None:
                return "CACHED" if self.from_cache else "SUCCEEDED"
            return getattr(error, "status", None) or type(error).__name__
        if self._handle is not None:
            return self._handle.status or "SUBMITTING"
        return "STARTING"

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
