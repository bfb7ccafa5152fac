"""A private asyncio event loop in a daemon thread, where all of amc-magic's async work runs.

The kernel's own loop is already running inside every cell, so a blocking cell cannot
``run_until_complete`` on it, and nesting it (``nest-asyncio``) drops queued cells under
ipykernel 7. Instead every execution task, HTTP client and poll lives on this one private loop.
A blocking caller waits on a ``concurrent.futures.Future``; a kernel interrupt arrives in the
waiting thread as ``KeyboardInterrupt``, which cancels the task on the private loop (the engine
then cancels the AMC execution) before the interrupt propagates. Background work simply keeps
running here while the kernel runs other cells.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

CANCEL_GRACE_SECONDS = 15.0


class BackgroundLoop:
    """Owns one event loop running forever in a daemon thread."""

    def __init__(self, name: str = "amc-magic-loop") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The private loop, started on first use."""
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    @property
    def started(self) -> bool:
        """Whether the loop is running (it starts on first use)."""
        loop = self._loop
        return loop is not None and not loop.is_closed()

    def in_loop_thread(self) -> bool:
        """Whether the caller runs on the private loop's thread (where blocking would deadlock)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the private loop and return a thread-safe future at once."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run ``coro`` on the private loop and block until it finishes.

        On ``KeyboardInterrupt`` (a kernel interrupt) the task is cancelled and given a short grace
        period to clean up (cancel the AMC execution) before the interrupt is re-raised.
        """
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError("BackgroundLoop.run() was called from its own loop thread; await the coroutine instead")
        tracked = _Tracked(coro, self.loop)
        # The interrupt may land anywhere in this block, even before the task exists.
        with cancelled_on_interrupt(tracked.cancel, tracked.finished.wait):
            return self.submit(tracked.run()).result(timeout)

    def close(self) -> None:
        """Stop the loop and its thread (pending tasks are cancelled)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or loop.is_closed():
            return

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result(CANCEL_GRACE_SECONDS)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(CANCEL_GRACE_SECONDS)
        if not loop.is_running():
            loop.close()


@contextlib.contextmanager
def cancelled_on_interrupt(cancel: Callable[[], object], wait: Callable[[float], object]) -> Iterator[None]:
    """On a ``KeyboardInterrupt`` inside the block: ``cancel()``, give it the grace period to clean up, re-raise."""
    try:
        yield
    except KeyboardInterrupt:
        cancel()
        wait(CANCEL_GRACE_SECONDS)
        raise


class _Tracked(Generic[T]):
    """Wraps a coroutine so that a blocking caller can cancel it and wait for its cleanup."""

    def __init__(self, coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop) -> None:
        self._coro = coro
        self._loop = loop
        self._task: asyncio.Task[Any] | None = None
        self._abandoned = False
        self.finished = threading.Event()

    async def run(self) -> T:
        self._task = asyncio.current_task()
        try:
            if self._abandoned:  # cancelled before it started
                self._coro.close()
                raise asyncio.CancelledError
            return await self._coro
        finally:
            self.finished.set()

    def cancel(self) -> None:
        """Cancel the task from any thread; if it has not started yet, it will not run."""
        self._abandoned = True
        task = self._task
        if task is not None:
            self._loop.call_soon_threadsafe(task.cancel)
