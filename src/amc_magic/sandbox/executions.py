"""Workflow executions: the state machine, the per-instance queue, and the execution object.

An execution is PENDING when created. It may start ``queue_seconds`` after creation, once fewer than
``max_running`` executions of the instance are RUNNING (first in, first out). Its query then runs in a
worker thread, never on an event loop. It stays RUNNING for at least ``run_seconds`` and at least as
long as the query takes, then ends SUCCEEDED, or FAILED with a ``statusReason``; it ends FAILED when
it outlives ``workflowExecutionTimeoutSeconds``. PENDING and RUNNING executions can be CANCELLED.

Transitions are computed from the injected clock whenever the store is read (and when a query
finishes), so there are no timers: a test moves a manual clock, awaits :meth:`ExecutionStore.wait_idle`
for queries in flight, and reads the new state. The same store serves any number of event loops
and threads at once.
"""

from __future__ import annotations

import asyncio
import copy
import enum
import logging
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import pyarrow as pa

from ..errors import AmcMagicError
from .config import Clock
from .problems import ApiProblem, QueryFailure
from .results import output_columns, part_count
from .time_window import ResolvedWindow, format_utc
from .validation import bad_request
from .workflows import Workflow

logger = logging.getLogger(__name__)

EXPIRE_AFTER = timedelta(hours=24)
WAIT_UNTIL_OFFSET = timedelta(hours=1)
DEFAULT_TIMEOUT_SECONDS = 21600


class Status(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})


class QueryOutput(Protocol):
    """What a query returns: columns as ``(name, AMC type)``, the rows, and rows removed by thresholds."""

    columns: Sequence[tuple[str, str]]
    table: pa.Table
    filtered_rows: int


Work = Callable[[], QueryOutput]
"""Runs an execution's query (in a worker thread); raises QueryFailure to fail it."""


@dataclass(frozen=True)
class ExecutionSpec:
    """What was asked for when the execution was created.

    Attributes:
        workflow: the saved workflow, or the inline one of an ad hoc execution (``transient_<uuid>``).
        window: the resolved time window.
        parameter_values: ``parameterValues`` as sent.
        timeout_seconds: ``workflowExecutionTimeoutSeconds``.
        echoed: other request fields the execution object reports back as they were sent.
        dry_run: compile only; the execution succeeds at once without output.
        skip_publish: run, but write no result files.
        category: ``executionCategory``: ``AD_HOC``, or ``SCHEDULED`` for a schedule's run.
    """

    workflow: Workflow
    window: ResolvedWindow
    parameter_values: Mapping[str, Any]
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    echoed: Mapping[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    skip_publish: bool = False
    category: str = "AD_HOC"


@dataclass(frozen=True)
class _Outcome:
    output: QueryOutput | None
    failure: str | None
    done_at: datetime


@dataclass
class Execution:
    """One execution's state. The store hands out copies; only the store changes the original."""

    execution_id: str
    spec: ExecutionSpec
    created_at: datetime
    updated_at: datetime
    result_token: str
    status: Status = Status.PENDING
    status_reason: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output: QueryOutput | None = None
    output_columns: list[dict[str, str]] | None = None
    future: Future[_Outcome] | None = field(default=None, repr=False)

    def result_file_count(self, rows_per_file: int) -> int:
        """How many result CSV files the execution has (0 unless it SUCCEEDED with published output)."""
        if self.status is not Status.SUCCEEDED or self.output is None or self.spec.skip_publish:
            return 0
        return part_count(self.output.table.num_rows, rows_per_file)

    def to_json(self, *, include_workflow: bool = False) -> dict[str, Any]:
        """The AMC execution object."""
        spec, window = self.spec, self.spec.window
        out: dict[str, Any] = {
            "workflowExecutionId": self.execution_id,
            "workflowId": spec.workflow.workflow_id,
            "executionCategory": spec.category,
            "status": self.status.value,
            "createTime": format_utc(self.created_at),
            "lastUpdatedTime": format_utc(self.updated_at),
            "expireTime": format_utc(self.created_at + EXPIRE_AFTER),
            "waitUntil": format_utc(self.created_at - WAIT_UNTIL_OFFSET),
            "validatedTime": format_utc(self.created_at, milliseconds=True),
            "timeWindowStart": format_utc(window.start),
            "timeWindowEnd": format_utc(window.end),
            "parameterValues": dict(spec.parameter_values),
            "dataGaps": [],
            "workflowExecutionTimeoutSeconds": spec.timeout_seconds,
            "availableTimeBeforeWindowSecs": 0,
            "outputS3URI": "N/A",
            "outputChannels": [self._download_channel()],
            **spec.echoed,
        }
        originals = {
            "timeWindowStartOriginal": window.start_original,
            "timeWindowEndOriginal": window.end_original,
            "timeWindowTimeZoneOriginal": window.time_zone_original,
        }
        out.update({k: v for k, v in originals.items() if v is not None})
        if self.status_reason:
            out["statusReason"] = self.status_reason
        if self.started_at and self.finished_at:
            out["executionTime"] = int((self.finished_at - self.started_at).total_seconds())
        if self.output_columns is not None:
            out["outputColumns"] = self.output_columns
        if include_workflow:
            out["sqlQuery"] = spec.workflow.sql_query
        return out

    def _download_channel(self) -> dict[str, Any]:
        if self.status not in TERMINAL:
            status, reason = "PENDING", None
        elif self.status is Status.SUCCEEDED and not self.spec.skip_publish and not self.spec.dry_run:
            status, reason = "AVAILABLE", None
        else:
            status, reason = "UNAVAILABLE", f"Execution is {self.status.value}."
        channel: dict[str, Any] = {"channel": {"type": "DOWNLOAD"}, "status": status}
        if reason:
            channel["statusReason"] = reason
        return channel


class ExecutionStore:
    """The instance's executions and the queue that runs them.

    Args:
        clock: the time source.
        queue_seconds: least time an execution stays PENDING.
        run_seconds: least time an execution stays RUNNING.
        max_running: RUNNING executions at once; later ones wait.
        workers: threads running queries.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        queue_seconds: float = 0.0,
        run_seconds: float = 0.0,
        max_running: int = 10,
        workers: int = 2,
    ) -> None:
        self._clock = clock
        self._queue = timedelta(seconds=queue_seconds)
        self._run = timedelta(seconds=run_seconds)
        self._max_running = max_running
        self._executions: dict[str, Execution] = {}
        self._work: dict[str, Work] = {}
        self._by_token: dict[str, str] = {}
        self._lock = threading.RLock()
        self._advancing = False
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="amc-sandbox-query")

    def create(self, spec: ExecutionSpec, work: Work, *, created_at: datetime | None = None) -> Execution:
        """Record a new execution and return it as created (PENDING, or SUCCEEDED for a dry run).

        ``created_at`` backdates it (a schedule's run is created when its period ended); it must
        not be earlier than any execution already recorded, so the store stays in creation order.
        """
        now = created_at or self._clock()
        execution = Execution(str(uuid.uuid4()), spec, now, now, secrets.token_urlsafe(16))
        if spec.dry_run:
            execution.status = Status.SUCCEEDED
            execution.started_at = execution.finished_at = now
        with self._lock:
            self._executions[execution.execution_id] = execution
            if not spec.dry_run:
                self._work[execution.execution_id] = work
            self._by_token[execution.result_token] = execution.execution_id
            created = copy.copy(execution)
        self.advance()
        return created

    def get(self, execution_id: str) -> Execution | None:
        """A copy of the execution's current state, or None."""
        with self._lock:
            self.advance()
            execution = self._executions.get(execution_id)
            return copy.copy(execution) if execution else None

    def by_result_token(self, token: str) -> Execution | None:
        """The execution whose result files ``token`` names, or None."""
        with self._lock:
            execution_id = self._by_token.get(token)
        return self.get(execution_id) if execution_id else None

    def all(self) -> list[Execution]:
        """Copies of every execution, oldest first."""
        with self._lock:
            self.advance()
            return [copy.copy(e) for e in self._executions.values()]

    def cancel(self, execution_id: str) -> Execution | None:
        """Cancel a PENDING or RUNNING execution; None if there is no such execution.

        Raises:
            ApiProblem: the execution already ended.
        """
        with self._lock:
            self.advance()
            execution = self._executions.get(execution_id)
            if execution is None:
                return None
            if execution.status in TERMINAL:
                raise bad_request(
                    f"Workflow execution with ID {execution_id} cannot be cancelled: "
                    f"its status is {execution.status.value}."
                )
            now = self._clock()
            execution.status = Status.CANCELLED
            execution.finished_at = execution.updated_at = now
            self._work.pop(execution_id, None)
            if execution.future is not None:
                execution.future.cancel()
            self.advance()
            return copy.copy(execution)

    def advance(self) -> None:
        """Apply every transition that is due by now: finish, time out, then start what fits."""
        with self._lock:
            if self._advancing:
                return
            self._advancing = True
            try:
                now = self._clock()
                for execution in self._in_status(Status.RUNNING):
                    self._try_finish(execution, now)
                running = len(self._in_status(Status.RUNNING))
                for execution in self._in_status(Status.PENDING):
                    if running >= self._max_running or execution.created_at + self._queue > now:
                        break
                    self._start(execution, now)
                    running += 1
            finally:
                self._advancing = False

    async def wait_idle(self) -> None:
        """Wait until no query is in flight, then apply the transitions that are due."""
        while True:
            with self._lock:
                in_flight = [e.future for e in self._executions.values() if e.future and not e.future.done()]
            if not in_flight:
                self.advance()
                return
            await asyncio.wait([asyncio.wrap_future(f) for f in in_flight])
            self.advance()

    def close(self) -> None:
        """Stop the query threads; queries not yet started are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _in_status(self, status: Status) -> list[Execution]:
        return [e for e in self._executions.values() if e.status is status]

    def _start(self, execution: Execution, now: datetime) -> None:
        execution.status = Status.RUNNING
        execution.started_at = execution.updated_at = now
        work = self._work.pop(execution.execution_id)
        execution.future = self._executor.submit(self._run_work, work)
        execution.future.add_done_callback(lambda _: self.advance())

    def _run_work(self, work: Work) -> _Outcome:
        try:
            return _Outcome(work(), None, self._clock())
        except QueryFailure as exc:
            return _Outcome(None, exc.reason, self._clock())
        except ApiProblem as exc:
            return _Outcome(None, exc.details, self._clock())
        except AmcMagicError as exc:  # the shared checks and parameter rendering
            return _Outcome(None, exc.message, self._clock())
        except Exception:
            logger.exception("sandbox query failed unexpectedly")
            return _Outcome(None, "Internal error while running the query.", self._clock())

    def _try_finish(self, execution: Execution, now: datetime) -> None:
        assert execution.started_at is not None and execution.future is not None
        deadline = execution.started_at + timedelta(seconds=execution.spec.timeout_seconds)
        if execution.future.done() and not execution.future.cancelled():
            outcome = execution.future.result()
            finish = max(execution.started_at + self._run, outcome.done_at)
            if finish <= now and finish <= deadline:
                self._finish(execution, finish, outcome)
                return
        if now >= deadline:
            execution.status = Status.FAILED
            execution.status_reason = (
                f"Workflow execution exceeded its timeout of {execution.spec.timeout_seconds} seconds."
            )
            execution.finished_at = execution.updated_at = deadline

    def _finish(self, execution: Execution, finish: datetime, outcome: _Outcome) -> None:
        execution.finished_at = execution.updated_at = finish
        if outcome.output is None:
            execution.status = Status.FAILED
            execution.status_reason = outcome.failure
            return
        execution.status = Status.SUCCEEDED
        execution.output = outcome.output
        execution.output_columns = output_columns(execution.spec.workflow.sql_query, outcome.output.columns)


def metadata_json(execution: Execution, rows_per_file: int) -> dict[str, Any]:
    """The metadata file of a succeeded execution: its query, window, columns and row counts."""
    output = execution.output
    return {
        "workflowExecutionId": execution.execution_id,
        "workflowId": execution.spec.workflow.workflow_id,
        "sqlQuery": execution.spec.workflow.sql_query,
        "timeWindowStart": format_utc(execution.spec.window.start),
        "timeWindowEnd": format_utc(execution.spec.window.end),
        "parameterValues": dict(execution.spec.parameter_values),
        "outputColumns": execution.output_columns or [],
        "rowCount": output.table.num_rows if output else 0,
        "filteredRowCount": output.filtered_rows if output else 0,
        "fileCount": execution.result_file_count(rows_per_file),
    }
