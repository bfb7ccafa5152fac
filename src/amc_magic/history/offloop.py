"""The history store for code on an event loop: every call runs in a worker thread.

:class:`HistoryStore` stays synchronous (it is the library API, and SQLAlchemy Core is). A locked
SQLite file (30-s busy timeout) or a slow PostgreSQL must not stall the loop that polls every
execution of the kernel, runs cancels and feeds the panels, so the loop awaits the store through
:class:`OffLoopHistory` instead of calling it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from amc_magic.history.store import HistoryStore

T = TypeVar("T")

WORKER_THREADS = 4


class OffLoopHistory:
    """Awaitable access to a history store, opened on first use.

    Args:
        open_store: returns the store (called once, in a worker thread: opening migrates).
        workers: threads for store calls; one blocked call leaves the others free.
    """

    def __init__(
        self, open_store: Callable[[], HistoryStore], *, workers: int = WORKER_THREADS, name: str = "amc-magic-history"
    ) -> None:
        self._open_store = open_store
        self._store: HistoryStore | None = None
        self._lock = threading.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix=name)

    @property
    def store(self) -> HistoryStore:
        """The synchronous store (opened now if needed): for callers off the loop."""
        with self._lock:
            if self._store is None:
                self._store = self._open_store()
            return self._store

    async def run(self, call: Callable[[HistoryStore], T]) -> T:
        """Run ``call(store)`` in a worker thread and return its result."""
        return await self.call(_apply, self, call)

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` in a worker thread (any blocking work beside the store's)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))

    def close(self, *, wait: bool = True) -> None:
        """Stop the worker threads (after queued calls, unless ``wait`` is False), and close the store if opened."""
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()


def _apply(history: OffLoopHistory, call: Callable[[HistoryStore], T]) -> T:
    return call(history.store)


class WriteQueue:
    """One execution's history writes, applied in order off the loop while the engine goes on.

    The engine's recorder hooks are synchronous and run on the loop; each enqueues its write and
    returns at once. :meth:`flush` waits for every write so far and raises the first that failed:
    an execution is done only when its result is stored.
    """

    def __init__(self, history: OffLoopHistory) -> None:
        self._history = history
        self._queue: asyncio.Queue[Callable[[HistoryStore], Any]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    def put(self, write: Callable[[HistoryStore], Any]) -> None:
        """Queue ``write(store)`` (call on the loop)."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._drain(self._queue))
        self._queue.put_nowait(write)

    async def flush(self) -> None:
        """Wait until every queued write is applied; raise the first error any of them met."""
        if self._queue is not None:
            await self._queue.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Stop applying writes (call on the loop, after :meth:`flush` or on shutdown)."""
        if self._worker is not None:
            self._worker.cancel()

    async def _drain(self, queue: asyncio.Queue[Callable[[HistoryStore], Any]]) -> None:
        while True:
            write = await queue.get()
            try:
                if self._error is None:  # after a failure the row is not trusted any more: skip the rest
                    await self._history.run(write)
            except Exception as error:  # noqa: BLE001 - handed to whoever flushes
                self._error = error
            finally:
                queue.task_done()
