"""A per-instance concurrency gate: at most N executions in flight per AMC instance from this process.

AMC runs at most 10 executions per instance at a time and queues the rest on its side. The gate
keeps this process's own share at or below ``limit`` (1 to 10) and holds the others in a local
first-in, first-out queue, so a backfill of 52 weeks does not flood AMC's queue. A slot is held
from just before the create request until AMC reports a terminal status.

The gate belongs to one event loop (the engine's).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from amc_magic.errors import OptionError

MAX_CONCURRENCY = 10


class ConcurrencyGate:
    """At most ``limit`` slots per instance id; waiters are served in arrival order.

    Args:
        limit: slots per instance, 1 to 10.

    Raises:
        OptionError: ``limit`` is outside 1..10.
    """

    def __init__(self, limit: int = MAX_CONCURRENCY) -> None:
        if not 1 <= limit <= MAX_CONCURRENCY:
            raise OptionError(
                f"Concurrency must be between 1 and {MAX_CONCURRENCY}, not {limit}.",
                hint="AMC runs at most 10 executions per instance at a time.",
            )
        self.limit = limit
        self._semaphores: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(limit))
        self._in_flight: dict[str, int] = defaultdict(int)
        self._waiting: dict[str, int] = defaultdict(int)

    def in_flight(self, instance_id: str) -> int:
        """Slots of ``instance_id`` held now."""
        return self._in_flight[instance_id]

    def waiting(self, instance_id: str) -> int:
        """Executions of ``instance_id`` queued locally for a slot."""
        return self._waiting[instance_id]

    def is_full(self, instance_id: str) -> bool:
        """Whether a new execution of ``instance_id`` would have to wait."""
        return self._semaphores[instance_id].locked()

    @asynccontextmanager
    async def slot(self, instance_id: str) -> AsyncIterator[None]:
        """Hold one of ``instance_id``'s slots for the duration of the block (waiting first if full)."""
        semaphore = self._semaphores[instance_id]
        self._waiting[instance_id] += 1
        try:
            await semaphore.acquire()
        finally:
            self._waiting[instance_id] -= 1
        self._in_flight[instance_id] += 1
        try:
            yield
        finally:
            self._in_flight[instance_id] -= 1
            semaphore.release()
