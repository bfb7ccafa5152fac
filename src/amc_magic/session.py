"""The application facade behind the magic, the Python API and the CLI.

:meth:`Session.prepare` resolves the instance and window, renders ``{{name}}`` parameters, runs the
checks and computes the cache key, in the caller's thread: any mistake raises before anything is
recorded or submitted. :meth:`Session.start` / :meth:`Session.run` hand the prepared query to the
one-query protocol (:mod:`amc_magic.protocol`) on the private loop. The session wires the parts and
owns their lifecycle: the loop, the history store (reached off the loop), the
:class:`~amc_magic.connector.Connector` (engines, the embedded sandbox) and the instance catalog.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from .background import BackgroundLoop
from .connector import Connector, EngineFactory, default_engine_factory
from .counts import counted
from .executions import Executions, StatusView, ViewFactory
from .history import ExecutionRecord, HistoryStore
from .history.offloop import OffLoopHistory
from .instance_catalog import InstanceCatalog
from .instances import SANDBOX, Target
from .prepared import PreparedQuery, prepare_query
from .wallclock import utc_now

if TYPE_CHECKING:
    import pandas as pd

    from .backfill import BackfillPlan, BackfillRequest
    from .backfill_job import BackfillJob
    from .job import AmcJob

__all__ = ["Session", "StatusView", "ViewFactory"]

EXIT_GRACE_SECONDS = 5.0
"""How long the interpreter's exit waits for the jobs still followed to let go."""


class Session:
    """History, instances, engines and the private loop, shared by every cell of a kernel.

    Args:
        database_url: the history database (default: ``AMC_MAGIC_DB_URL`` or a SQLite file).
        store: an open history store to use instead.
        background: the private loop (default: a new one).
        sandbox_app: the ASGI app of the embedded sandbox (default: built on first use).
        engine_factory: builds the engine for a target (default: HTTP clients on the clock ``now``).
        environ: where credentials and endpoints are read (default: ``os.environ``).
        now: the wall clock.
    """

    def __init__(
        self,
        *,
        database_url: str | None = None,
        store: HistoryStore | None = None,
        background: BackgroundLoop | None = None,
        sandbox_app: Any = None,
        engine_factory: EngineFactory | None = None,
        environ: Mapping[str, str] | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.background = background or BackgroundLoop()
        self._now = now
        self._given_store = store
        self._history = OffLoopHistory(lambda: store or HistoryStore.from_url(database_url))
        self.connector = Connector(engine_factory or default_engine_factory(now), sandbox_app=sandbox_app)
        self.catalog = InstanceCatalog(self.connector, self.background, lambda: self._history.store, environ)
        self.executions = Executions(self._history, self.connector, self.catalog, self.background)
        _OPEN_SESSIONS.add(self)
        _watch_exit()

    @property
    def store(self) -> HistoryStore:
        """The history store, opened (and migrated) on first use."""
        return self._history.store

    def target(self, instance: str) -> Target:
        """Resolve an instance name (``sandbox`` or a connected instance id)."""
        return self.catalog.target(instance)

    def close(self) -> None:
        """Stop following executions (they keep running on AMC), close clients, the loop and the store."""
        if self.background.started:
            self.background.run(self._shutdown())
        self.background.close()
        self.connector.close()
        self._history.close()

    async def _shutdown(self) -> list[AmcJob]:
        stopped = await self.executions.shutdown()
        await self.connector.aclose()
        return stopped

    def _stop_at_exit(self, stream: TextIO) -> None:
        """The interpreter is exiting: stop following what still runs, and say where to find it again."""
        if not self.background.started:
            return
        stopped = self.background.run(self._shutdown(), timeout=EXIT_GRACE_SECONDS)
        if stopped:
            ids = ", ".join(job.execution_id or job.local_id or "?" for job in stopped)
            print(
                f"amc-magic: stopped following {counted(len(stopped), 'execution')} still running at exit ({ids}). "
                f"AMC keeps running {'it' if len(stopped) == 1 else 'them'}: `%amc attach ID` or `amc-magic history` "
                "finds it again later (an execution on the in-process sandbox ends with this process).",
                file=stream,
                flush=True,
            )

    # --- queries --------------------------------------------------------------------------

    def prepare(
        self,
        sql_template: str,
        namespace: Mapping[str, Any] | None = None,
        *,
        instance: str = SANDBOX,
        start: Any = None,
        end: Any = None,
        window: str | None = None,
        tz: str = "UTC",
        validate: str = "true",
        workflow: tuple[str, int] | None = None,
    ) -> PreparedQuery:
        """Resolve, render and check a query without recording or submitting anything.

        ``workflow`` is the saved workflow version (UUID, number) its execution links to.

        Raises:
            OptionError, WindowError, ParameterError, ConfigurationError: bad input.
            SqlCheckError: the checks found errors (unless ``validate`` is ``false`` or ``only``).
        """
        target = self.target(instance)
        return prepare_query(
            sql_template,
            namespace or {},
            target=target,
            now=self._now(),
            start=start,
            end=end,
            window=window,
            tz=tz,
            validate=validate,
            tables=lambda: self.catalog.tables(target),
            data_days=self.connector.embedded_data_days() if target.embedded else None,
            workflow=workflow,
        )

    def start(self, prepared: PreparedQuery, **options: Any) -> AmcJob:
        """Start the query on the private loop; its job at once (``view_factory``, ``cache``, ``timeout``, ``waited``)."""
        return self.executions.start(prepared, **options)

    def run(self, prepared: PreparedQuery, **options: Any) -> pd.DataFrame:
        """Run the query and block until its result; an interrupt cancels the AMC execution."""
        return self.wait(self.executions.start(prepared, waited=True, **options))

    def wait(self, job: Any) -> Any:
        """Block on a job (or backfill); a ``KeyboardInterrupt`` cancels it (on AMC too) and propagates."""
        return self.executions.wait(job)

    def plan_backfill(self, request: BackfillRequest) -> BackfillPlan:
        """Split, render and check a backfill (see :mod:`amc_magic.backfill`) without submitting anything."""
        from .backfill import plan_backfill

        return plan_backfill(self, request)

    def start_backfill(self, plan: BackfillPlan, **options: Any) -> BackfillJob:
        """Start one execution per period and instance and return the backfill's job at once (``view``, ``cache``, ``timeout``)."""
        from .backfill_job import start_backfill

        return start_backfill(self, plan, **options)

    def backfill_frame(self, ref: str) -> pd.DataFrame:
        """The periods of a recorded backfill (``bf_...`` or a unique prefix), one row per execution."""
        from .history.listing import history_frame

        records = self.store.backfill_executions(ref)
        return history_frame([replace(r, backfill_id=None) for r in records], self._now())

    # --- history ---------------------------------------------------------------------------

    def execution(self, ref: str) -> ExecutionRecord:
        """The execution with local id, AMC id, or a unique prefix of either ``ref``."""
        return self.store.get_execution(ref)

    def history(self, limit: int = 20) -> pd.DataFrame:
        """The newest ``limit`` lines of history: executions submitted to AMC, a backfill on one line."""
        return self.store.history_frame(limit)

    def result(self, ref: str) -> pd.DataFrame:
        """The stored result of an execution.

        Raises:
            NotFoundError: no such execution, or it has no stored result (with what to do).
        """
        return self.executions.stored_result(ref)

    def attach(self, ref: str, **options: Any) -> AmcJob:
        """Follow a recorded execution (e.g. after a kernel restart) to its result."""
        return self.executions.attach(ref, **options)

    def cancel(self, ref: str) -> ExecutionRecord:
        """Cancel a recorded execution on AMC (through the job following it, if this session has one)."""
        return self.executions.cancel(ref)

    # --- instances ------------------------------------------------------------------------

    def connect(self, instance_id: str, **ids: Any) -> dict[str, Any]:
        """Check that the credentials reach ``instance_id`` and remember it (``advertiser_id``, ``marketplace_id``, ``name``)."""
        return self.catalog.connect(instance_id, **ids)

    def instances(self) -> pd.DataFrame:
        """The embedded sandbox and every connected instance."""
        return self.catalog.instances()

    def schema(self, table: str | None = None, *, instance: str = SANDBOX) -> pd.DataFrame:
        """Tables (or one table's columns) of an instance's schema."""
        return self.catalog.schema(table, instance=instance)


_OPEN_SESSIONS: weakref.WeakSet[Session] = weakref.WeakSet()


@functools.cache
def _watch_exit() -> None:
    """Stop every session's jobs when the interpreter exits, before its thread pools refuse new work.

    ``atexit`` runs too late: by then ``concurrent.futures`` has shut its pools (through
    ``threading._register_atexit``, which runs first), and a job still downloading failed with
    "cannot schedule new futures after interpreter shutdown". The same hook, registered later,
    runs before theirs.
    """
    with contextlib.suppress(RuntimeError):  # the interpreter is already exiting
        threading._register_atexit(_stop_sessions_at_exit)  # type: ignore[attr-defined]


def _stop_sessions_at_exit() -> None:
    for session in list(_OPEN_SESSIONS):
        with contextlib.suppress(Exception):  # exiting goes on whatever a session does
            session._stop_at_exit(sys.stderr)
