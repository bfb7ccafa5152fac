"""The engine: starts one asyncio task per execution and hands back a handle to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator, Iterable
from typing import Any

from amc_magic.wallclock import utc_now
from amc_magic.client import AmcClient, InstanceRef
from amc_magic.client.retry import Clock, Sleep
from amc_magic.engine.eta import Eta
from amc_magic.engine.events import Subscriber
from amc_magic.engine.execution import ExecutionResult, ExecutionRun, RunContext
from amc_magic.engine.gate import ConcurrencyGate
from amc_magic.engine.polling import PollSchedule
from amc_magic.engine.reconcile import ReconcilePolicy, WallClock
from amc_magic.engine.recorder import NullRecorder, Recorder
from amc_magic.engine.request import ExecutionRequest




class ExecutionHandle:
    """One running execution: its live state, its task, and a way to cancel it.

    ``await handle`` returns the :class:`ExecutionResult` or raises how the execution ended.
    Methods must be called on the engine's event loop (from another thread, use
    ``loop.call_soon_threadsafe(handle.cancel)``).
    """

    def __init__(self, run: ExecutionRun, task: asyncio.Task[ExecutionResult]) -> None:
        self._run = run
        self.task = task

    def __repr__(self) -> str:
        return (
            f"ExecutionHandle(instance_id={self.instance_id!r}, execution_id={self.execution_id!r}, "
            f"status={self.status!r})"
        )

    @property
    def instance_id(self) -> str:
        """The AMC instance."""
        return self._run.instance.instance_id

    @property
    def execution_id(self) -> str | None:
        """AMC's execution id, once submitted."""
        return self._run.execution_id

    @property
    def status(self) -> str | None:
        """The latest AMC status known (``None`` before the first answer)."""
        return self._run.status

    @property
    def status_reason(self) -> str | None:
        """AMC's ``statusReason`` with that status."""
        return self._run.status_reason

    @property
    def eta(self) -> Eta | None:
        """When the execution is expected to end (seconds after its creation), if predicted."""
        return self._run.eta

    @property
    def polls(self) -> int:
        """Status calls made so far."""
        return self._run.polls

    def done(self) -> bool:
        """Whether the task has ended (result, error or cancellation)."""
        return self.task.done()

    def cancel(self) -> None:
        """Cancel the execution: on AMC (``PUT status=CANCELLED``) if submitted, locally if still queued.

        Returns at once; awaiting the handle then raises ``ExecutionCancelled`` (or returns the
        result if AMC had already finished).
        """
        self._run.request_cancel()

    def detach(self) -> None:
        """Let a later task cancellation stop following the execution without cancelling it on AMC.

        For shutting down: the execution keeps running on AMC and can be attached to again.
        """
        self._run.detach()

    def subscribe(self, subscriber: Subscriber) -> None:
        """Send the events still to come to ``subscriber`` too."""
        self._run.subscribe(subscriber)

    def __await__(self) -> Generator[Any, None, ExecutionResult]:
        return self.task.__await__()


class Engine:
    """Runs AMC executions as asyncio tasks: submit or attach, poll, download, parse.

    Create and use it inside one running event loop.

    Args:
        client: the AMC client.
        gate: per-instance concurrency gate (default: 10 per instance).
        schedule: the poll schedule (default: ``PollSchedule()``, noticing an end within 10 % of
            the run's length, at most 60 s).
        reconcile: how a create with a lost answer is looked for before it is sent again.
        clock: monotonic clock (poll pacing, timeouts).
        now: wall clock (``minCreationTime``, the 48-hour data hint, an attached execution's age).
        sleep: async sleep for every wait.
        download_concurrency: result files downloaded at once per execution.
        max_poll_failures: consecutive failed status calls (after the client's own retries) that
            end the task.
        cancel_timeout: seconds allowed for the cancel request after an interrupt.
    """

    def __init__(
        self,
        client: AmcClient,
        *,
        gate: ConcurrencyGate | None = None,
        schedule: PollSchedule | None = None,
        reconcile: ReconcilePolicy | None = None,
        clock: Clock = time.monotonic,
        now: WallClock = utc_now,
        sleep: Sleep = asyncio.sleep,
        download_concurrency: int = 4,
        max_poll_failures: int = 5,
        cancel_timeout: float = 30.0,
    ) -> None:
        self.client = client
        self.gate = gate or ConcurrencyGate()
        self._context = RunContext(
            client=client,
            gate=self.gate,
            schedule=schedule or PollSchedule(),
            reconcile=reconcile or ReconcilePolicy(),
            clock=clock,
            now=now,
            sleep=sleep,
            download_concurrency=download_concurrency,
            max_poll_failures=max_poll_failures,
            cancel_timeout=cancel_timeout,
        )
        self._tasks: set[asyncio.Task[ExecutionResult]] = set()

    def submit(
        self,
        request: ExecutionRequest,
        *,
        recorder: Recorder | None = None,
        subscribers: Iterable[Subscriber] = (),
        timeout: float | None = None,
        eta: Eta | None = None,
    ) -> ExecutionHandle:
        """Start a task that creates ``request`` on AMC and follows it to its result.

        Args:
            request: what to run.
            recorder: storage hooks for this execution (default: none).
            subscribers: receive its events.
            timeout: stop waiting after this many seconds (queueing included); ``None`` waits.
            eta: when it is expected to end (e.g. ``estimate_eta`` over earlier runs); polls
                sparsely before that range. ``None`` polls blind.
        """
        run = self._new_run(request.instance, recorder, subscribers, timeout, eta)
        return self._start(run, run.submit(request))

    def attach(
        self,
        instance: InstanceRef,
        execution_id: str,
        *,
        recorder: Recorder | None = None,
        subscribers: Iterable[Subscriber] = (),
        timeout: float | None = None,
        eta: Eta | None = None,
    ) -> ExecutionHandle:
        """Start a task that follows an existing execution (polling at once) to its result.

        The task does not take a gate slot: the execution is already on AMC. ``eta`` is as for
        :meth:`submit` (counted from the execution's creation on AMC).
        """
        run = self._new_run(instance, recorder, subscribers, timeout, eta)
        return self._start(run, run.attach(execution_id))

    async def run(
        self,
        request: ExecutionRequest,
        *,
        recorder: Recorder | None = None,
        subscribers: Iterable[Subscriber] = (),
        timeout: float | None = None,
        eta: Eta | None = None,
    ) -> ExecutionResult:
        """Submit ``request`` and wait for its result (see :meth:`submit`)."""
        return await self.submit(request, recorder=recorder, subscribers=subscribers, timeout=timeout, eta=eta)

    def _new_run(
        self,
        instance: InstanceRef,
        recorder: Recorder | None,
        subscribers: Iterable[Subscriber],
        timeout: float | None,
        eta: Eta | None = None,
    ) -> ExecutionRun:
        return ExecutionRun(
            self._context,
            instance,
            recorder=recorder or NullRecorder(),
            subscribers=subscribers,
            timeout=timeout,
            eta=eta,
        )

    def _start(self, run: ExecutionRun, work: Any) -> ExecutionHandle:
        task = asyncio.get_running_loop().create_task(work, name=f"amc-execution-{run.instance.instance_id}")
        self._tasks.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)
        return ExecutionHandle(run, task)
