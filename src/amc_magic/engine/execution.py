"""One execution, start to finish: submit (or attach), poll, download, parse.

:class:`ExecutionRun` is the body of one asyncio task. It publishes :class:`ExecutionEvent`\\ s to
its subscribers and reports milestones to its recorder; it neither displays nor stores anything
itself. Every wait goes through the injected ``sleep`` and ``clock``.

How it ends:

- SUCCEEDED: returns an :class:`ExecutionResult`.
- FAILED or REJECTED: raises ``ExecutionFailed`` with AMC's ``statusReason`` and a hint.
- CANCELLED (by :meth:`ExecutionRun.request_cancel` or on AMC): raises ``ExecutionCancelled``;
  a requested cancel sends ``PUT status=CANCELLED`` first.
- the client-side timeout: raises ``ExecutionTimeout``; the execution keeps running on AMC.
- the task is cancelled (a kernel interrupt): sends ``PUT status=CANCELLED`` (bounded by
  ``cancel_timeout``) and lets ``CancelledError`` through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from amc_magic.client import AmcClient, AmcExecution, InstanceRef, OutputColumn
from amc_magic.client.models import KNOWN_STATUSES, TERMINAL_STATUSES
from amc_magic.client.retry import Clock, Sleep
from amc_magic.engine.eta import Eta
from amc_magic.engine.events import EventKind, ExecutionEvent, Subscriber
from amc_magic.engine.gate import ConcurrencyGate
from amc_magic.engine.hints import failure_hint
from amc_magic.engine.polling import PollSchedule
from amc_magic.engine.reconcile import ReconcilePolicy, WallClock, create_once
from amc_magic.engine.recorder import Recorder
from amc_magic.engine.request import ExecutionRequest, new_mark
from amc_magic.engine.results import fetch_result
from amc_magic.errors import (
    NextStep,
    Remedy,
    AmcMagicError,
    BadRequestError,
    ExecutionCancelled,
    ExecutionFailed,
    ExecutionTimeout,
    ServerError,
    ThrottledError,
    TransportError,
)

logger = logging.getLogger("amc_magic.engine")

CANCELLED_BY_USER = "Cancelled by the user."
_TRANSIENT = (ThrottledError, ServerError, TransportError)


@dataclass(frozen=True)
class ExecutionResult:
    """A finished execution and its result.

    Attributes:
        frame: the result, typed by the output columns.
        execution: AMC's last description of the execution (SUCCEEDED).
        size_bytes: CSV bytes downloaded.
        files: result files downloaded.
    """

    frame: pd.DataFrame
    execution: AmcExecution
    size_bytes: int
    files: int

    @property
    def output_columns(self) -> tuple[OutputColumn, ...]:
        """AMC's description of the result's columns."""
        return self.execution.output_columns


@dataclass(frozen=True)
class RunContext:
    """What every execution of one engine shares: the client, the gate, the pace and the clocks."""

    client: AmcClient
    gate: ConcurrencyGate
    schedule: PollSchedule
    reconcile: ReconcilePolicy
    clock: Clock
    now: WallClock
    sleep: Sleep
    download_concurrency: int
    max_poll_failures: int
    cancel_timeout: float


class ExecutionRun:
    """The state and the task body of one execution.

    Args:
        context: shared dependencies.
        instance: the execution's instance.
        recorder: receives the milestones.
        subscribers: receive the events.
        timeout: seconds after which to stop waiting (``None``: wait until AMC finishes).
        eta: when the execution is expected to end; shapes the poll schedule (``None``: blind).
    """

    def __init__(
        self,
        context: RunContext,
        instance: InstanceRef,
        *,
        recorder: Recorder,
        subscribers: Iterable[Subscriber] = (),
        timeout: float | None = None,
        eta: Eta | None = None,
    ) -> None:
        self.instance = instance
        self.eta = eta
        self.execution_id: str | None = None
        self.status: str | None = None
        self.status_reason: str | None = None
        self.polls = 0
        self._ctx = context
        self._schedule = context.schedule if eta is None else context.schedule.with_eta(eta)
        self._recorder = recorder
        self._subscribers = list(subscribers)
        self._timeout = timeout
        self._origin = context.clock()
        self._deadline = None if timeout is None else self._origin + timeout
        self._cancel_requested = asyncio.Event()
        self._detached = False
        self._unknown_statuses: set[str] = set()
        self._age_from_amc = False

    def request_cancel(self) -> None:
        """Ask the task to cancel the execution (on AMC too, once submitted). Call on the engine's loop."""
        self._cancel_requested.set()

    def detach(self) -> None:
        """Stop following without cancelling on AMC if the task is cancelled (the execution keeps running)."""
        self._detached = True

    def subscribe(self, subscriber: Subscriber) -> None:
        """Add a subscriber for the events still to come."""
        self._subscribers.append(subscriber)

    async def submit(self, request: ExecutionRequest) -> ExecutionResult:
        """Create the execution (through the gate, never twice), follow it and fetch its result."""
        return await self._guarded(self._submit(request))

    async def attach(self, execution_id: str) -> ExecutionResult:
        """Follow an execution created earlier (e.g. before a kernel restart) and fetch its result."""
        self.execution_id = execution_id
        return await self._guarded(self._attach())

    # --- the two entry paths ------------------------------------------------------------------

    async def _submit(self, request: ExecutionRequest) -> ExecutionResult:
        ctx = self._ctx
        mark = (request.mark or new_mark()) if request.sql is not None else None
        body = request.body(mark)
        async with contextlib.AsyncExitStack() as slot:
            await self._take_slot(slot)
            self._recorder.on_submitting(body, mark)
            execution = await create_once(
                ctx.client, self.instance, body, mark, now=ctx.now, sleep=ctx.sleep, policy=ctx.reconcile
            )
            self.execution_id = execution.execution_id
            self._origin = ctx.clock()
            self._recorder.on_submitted(execution.execution_id)
            self._publish(EventKind.SUBMITTED)
            self._observe(execution)
            final = await self._follow(execution)
        return await self._finish(final)

    async def _take_slot(self, slot: contextlib.AsyncExitStack) -> None:
        """Enter the gate; if it is full, wait in line unless cancelled or timed out first."""
        gate, instance_id = self._ctx.gate, self.instance.instance_id
        if not gate.is_full(instance_id):
            await slot.enter_async_context(gate.slot(instance_id))
            return
        self._publish(EventKind.QUEUED)
        outcome = await self._race(slot.enter_async_context(gate.slot(instance_id)), with_deadline=True)
        if outcome == "cancel":
            raise ExecutionCancelled("Cancelled before it was submitted to AMC.", status_reason=CANCELLED_BY_USER)
        if outcome == "timeout":
            raise ExecutionTimeout(
                f"Stopped waiting after {self._timeout:g} s; the execution was still queued locally "
                "behind this instance's concurrency limit, and nothing was submitted."
            )

    async def _attach(self) -> ExecutionResult:
        self._age_from_amc = True
        return await self._finish(await self._follow(None))

    # --- following an execution ---------------------------------------------------------------

    async def _follow(self, execution: AmcExecution | None) -> AmcExecution:
        """Poll until AMC reports a terminal status; handle cancel requests and the timeout."""
        delay = 0.0 if execution is None else self._next_delay(None)
        failures = 0
        while execution is None or not execution.is_terminal:
            if self._cancel_requested.is_set() or (delay > 0 and await self._race(self._sleep(delay)) == "cancel"):
                return await self._cancel_on_amc()
            retry_after, polled, asked_at = None, False, self._ctx.clock()
            try:
                execution = await self._ctx.client.get_execution(self.instance, self._id)
            except _TRANSIENT as exc:
                failures += 1
                if failures >= self._ctx.max_poll_failures:
                    raise
                retry_after = getattr(exc, "retry_after", None)
                logger.warning("Status call for %s failed (%s); trying again", self._id, type(exc).__name__)
            else:
                failures, polled = 0, True
                self._on_polled(execution)
            if execution is not None and execution.is_terminal:
                break
            if self._deadline is not None and self._ctx.clock() >= self._deadline:
                raise ExecutionTimeout(
                    f"Stopped waiting for AMC execution {self._id} after {self._timeout:g} s; it keeps running on AMC.",
                    execution_id=self._id,
                    status=self.status,
                    next_steps=(NextStep(Remedy.ATTACH, self._id),),
                )
            delay = self._next_delay(retry_after, asked_at)
            if polled:
                self._publish(EventKind.POLL, next_poll_in=delay)
        return execution

    def _on_polled(self, execution: AmcExecution) -> None:
        if self._age_from_amc and execution.create_time is not None:
            self._age_from_amc = False
            running_for = (self._ctx.now() - execution.create_time).total_seconds()
            self._origin = self._ctx.clock() - max(0.0, running_for)
        self.polls += 1
        self._recorder.on_poll()
        self._observe(execution)
        if execution.is_terminal:
            self._publish(EventKind.POLL)

    def _next_delay(self, retry_after: float | None, asked_at: float | None = None) -> float:
        """Seconds until the next status call: the schedule's interval counted from when the last was sent."""
        waited = 0.0 if asked_at is None else max(0.0, self._ctx.clock() - asked_at)
        delay = max(self._schedule.interval(self._age() - waited) - waited, retry_after or 0.0)
        if self._deadline is not None:
            delay = min(delay, max(0.0, self._deadline - self._ctx.clock()))
        return delay

    def _age(self) -> float:
        return self._ctx.clock() - self._origin

    async def _cancel_on_amc(self) -> AmcExecution:
        """``PUT status=CANCELLED``; AMC's terminal execution if it had already finished."""
        client = self._ctx.client
        try:
            await client.cancel_execution(self.instance, self._id)
        except BadRequestError:
            execution = await client.get_execution(self.instance, self._id)
            self._observe(execution)
            if not execution.is_terminal:
                raise
            if execution.status != "CANCELLED":
                return execution
        else:
            self._set_status("CANCELLED", CANCELLED_BY_USER)
        raise self._cancelled()

    async def _cancel_after_interrupt(self) -> None:
        if self._detached or self.execution_id is None or self.status in TERMINAL_STATUSES:
            return
        try:
            await asyncio.wait_for(self._ctx.client.cancel_execution(self.instance, self._id), self._ctx.cancel_timeout)
        except (AmcMagicError, TimeoutError):
            logger.warning("Could not cancel AMC execution %s after an interrupt; it may keep running", self._id)
            return
        self._set_status("CANCELLED", CANCELLED_BY_USER)
        self._publish(EventKind.CANCELLED, error=self._cancelled())

    # --- the end ------------------------------------------------------------------------------

    async def _finish(self, execution: AmcExecution) -> ExecutionResult:
        if execution.status == "CANCELLED":
            raise self._cancelled()
        if execution.status != "SUCCEEDED":
            raise ExecutionFailed(
                f"AMC execution {execution.execution_id} {execution.status}: "
                f"{execution.status_reason or 'AMC gave no reason.'}",
                execution_id=execution.execution_id,
                status=execution.status,
                status_reason=execution.status_reason,
                hint=failure_hint(execution, self._ctx.now()),
            )
        client = self._ctx.client
        urls = await client.download_urls(self.instance, execution.execution_id)
        self._publish(EventKind.DOWNLOADING, files=len(urls))
        fetched = await fetch_result(
            client,
            self.instance,
            execution.execution_id,
            execution.output_columns,
            urls=urls,
            concurrency=self._ctx.download_concurrency,
        )
        self._recorder.on_result(fetched.frame, execution.output_columns, fetched.size_bytes)
        rows, columns = fetched.frame.shape
        self._publish(EventKind.DONE, rows=rows, columns=columns)
        return ExecutionResult(fetched.frame, execution, fetched.size_bytes, fetched.files)

    async def _guarded(self, work: Awaitable[ExecutionResult]) -> ExecutionResult:
        """Run ``work``, publishing how it ended and cancelling on AMC if the task is cancelled."""
        try:
            return await work
        except asyncio.CancelledError:
            await self._cancel_after_interrupt()
            raise
        except ExecutionCancelled as exc:
            self._publish(EventKind.CANCELLED, error=exc)
            raise
        except ExecutionTimeout as exc:
            self._publish(EventKind.TIMED_OUT, error=exc)
            raise
        except AmcMagicError as exc:
            self._publish(EventKind.FAILED, error=exc)
            raise

    def _cancelled(self) -> ExecutionCancelled:
        return ExecutionCancelled(
            f"AMC execution {self._id} was cancelled.",
            execution_id=self._id,
            status="CANCELLED",
            status_reason=self.status_reason,
        )

    # --- status, events and waiting -------------------------------------------------------------

    def _observe(self, execution: AmcExecution) -> None:
        if (execution.status, execution.status_reason) == (self.status, self.status_reason):
            return
        if execution.status not in KNOWN_STATUSES and execution.status not in self._unknown_statuses:
            self._unknown_statuses.add(execution.status)
            logger.warning(
                "AMC reported an unknown status %r for %s; treating it as still running", execution.status, self._id
            )
        self._set_status(execution.status, execution.status_reason)

    def _set_status(self, status: str, reason: str | None) -> None:
        self.status, self.status_reason = status, reason
        self._recorder.on_status(status, reason)
        self._publish(EventKind.STATUS)

    def _publish(self, kind: EventKind, **fields: Any) -> None:
        event = ExecutionEvent(
            kind=kind,
            instance_id=self.instance.instance_id,
            execution_id=self.execution_id,
            status=self.status,
            status_reason=self.status_reason,
            elapsed=self._age(),
            polls=self.polls,
            eta=self.eta,
            **fields,
        )
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                logger.exception("An execution event subscriber failed on %s", kind.value)

    def _sleep(self, seconds: float) -> Awaitable[None]:
        return self._ctx.sleep(seconds)

    async def _race(self, work: Awaitable[Any], *, with_deadline: bool = False) -> Literal["done", "cancel", "timeout"]:
        """Wait for ``work``, a cancel request or (optionally) the deadline, whichever comes first."""
        main = asyncio.ensure_future(work)
        others: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._cancel_requested.wait())]
        if with_deadline and self._deadline is not None:
            others.append(asyncio.ensure_future(self._sleep(max(0.0, self._deadline - self._ctx.clock()))))
        try:
            await asyncio.wait([main, *others], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (main, *others):
                if not waiter.done():
                    waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await main
        if not main.cancelled():
            main.result()
            return "done"
        return "cancel" if self._cancel_requested.is_set() else "timeout"

    @property
    def _id(self) -> str:
        assert self.execution_id is not None
        return self.execution_id
