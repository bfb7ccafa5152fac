"""A simulated clock: an hour of sleeping passes in milliseconds, in the right order.

It provides the three time sources the client and the engine take (``clock``, ``now``, ``sleep``),
so that a test or a benchmark can run hour-long executions instantly and assert every wait. It is a
small discrete-event scheduler: a sleeper registers its wake-up time and waits; once no other task
of the event loop is ready to run, time jumps to the earliest wake-up and that sleeper resumes.
Several concurrent tasks therefore interleave as they would in real time. Sleepers that are
cancelled (a timer that lost a race) leave time untouched.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta

_MAX_SETTLE_TURNS = 1000


class SimulatedClock:
    """Monotonic time, wall time and an async sleep that all follow one simulated timeline.

    Use one clock within one event loop.

    Args:
        start: the wall time at simulated second 0 (a sandbox can share the timeline through
            ``SandboxConfig(clock=clock.now)``).

    Attributes:
        sleeps: every completed sleep's duration, in the order they ended.
    """

    def __init__(self, start: datetime = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) -> None:
        self._start = start
        self._elapsed = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._driver: asyncio.Task[None] | None = None
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Simulated seconds since the start."""
        return self._elapsed

    def now(self) -> datetime:
        """The simulated wall time (aware, UTC)."""
        return self._start + timedelta(seconds=self._elapsed)

    def advance(self, seconds: float) -> None:
        """Move time forward at once (sleepers due by then wake when the loop is next idle)."""
        self._move_to(self._elapsed + max(0.0, seconds))

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time."""
        loop = asyncio.get_running_loop()
        wake = loop.create_future()
        heapq.heappush(self._timers, (self._elapsed + max(0.0, seconds), next(self._order), wake))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        await wake
        self.sleeps.append(seconds)

    def _move_to(self, moment: float) -> None:
        self._elapsed = max(self._elapsed, moment)

    async def _drive(self) -> None:
        """Wake sleepers one by one, earliest first, whenever everything else is waiting."""
        loop = asyncio.get_running_loop()
        while self._timers:
            await _settle(loop)
            while self._timers and self._timers[0][2].done():  # cancelled sleepers
                heapq.heappop(self._timers)
            if not self._timers:
                return
            moment, _, wake = heapq.heappop(self._timers)
            self._move_to(moment)
            wake.set_result(None)


async def _settle(loop: asyncio.AbstractEventLoop) -> None:
    """Yield until no other callback is ready to run (CPython's loop exposes its ready queue)."""
    for _ in range(_MAX_SETTLE_TURNS):
        await asyncio.sleep(0)
        ready = getattr(loop, "_ready", None)
        if ready is not None and not ready:
            return
