"""What the extension's handlers and poller share: the history store, a session, worker threads.

The history store and the session are synchronous (SQLAlchemy Core; the session runs AMC calls on
its own private loop and blocks the caller), so the server's IOLoop never calls them directly:
:meth:`ServerService.call` runs them in worker threads. Both are opened on first use, so a
history database that cannot be opened is an error of the requests that need it (a clear 503),
not of the server's start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from amc_magic.history import HistoryStore
from amc_magic.history.offloop import OffLoopHistory
from amc_magic.wallclock import utc_now

T = TypeVar("T")

WORKER_THREADS = 4


class ServerService:
    """The history store and the session of one Jupyter server process.

    Args:
        open_store: opens the history store (called once, in a worker thread: it migrates).
        open_session: builds the session that cancels and follows executions, given the store.
        clock: the current timezone-aware UTC time (durations, change cursors).
        workers: worker threads for store and session calls.
        shares_embedded_sandbox: the session's embedded sandbox is the one the kernels use (only
            in tests, where they share one process); otherwise executions on ``instance=sandbox``
            live inside their kernel and this server can neither follow nor cancel them.
    """

    def __init__(
        self,
        open_store: Callable[[], HistoryStore],
        open_session: Callable[[HistoryStore], Any] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        workers: int = WORKER_THREADS,
        shares_embedded_sandbox: bool = False,
    ) -> None:
        self.shares_embedded_sandbox = shares_embedded_sandbox
        self._open_session = open_session or _default_session
        self.clock = clock
        self._history = OffLoopHistory(open_store, workers=workers, name="amc-magic-server")
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def store(self) -> HistoryStore:
        """The history store, opened now if needed (call off the IOLoop)."""
        return self._history.store

    @property
    def session(self) -> Any:
        """The :class:`~amc_magic.session.Session` over :attr:`store` (call off the IOLoop)."""
        store = self.store
        with self._lock:
            if self._session is None:
                self._session = self._open_session(store)
            return self._session

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` in a worker thread and return its result."""
        return await self._history.call(function, *args, **kwargs)

    def close(self) -> None:
        """Close the session (executions keep running on AMC) and the store; stop the threads."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()
        self._history.close(wait=False)


def _default_session(store: HistoryStore) -> Any:
    from amc_magic.session import Session

    return Session(store=store)
