"""The orphan poller: finishes executions whose kernel went away, so their results are cached.

Every ``interval`` seconds it looks for executions that are live on AMC (PENDING, RUNNING,
PUBLISHING, with an AMC id) that nobody has polled for ``orphan_after`` seconds and whose lease
is free or expired. For each it takes the lease (:func:`amc_magic.history.leases.acquire`, with
the same "not polled since" condition, so a kernel that polled meanwhile keeps it), follows the
execution through the session's own follow path (:meth:`Session.attach`: poll, download, parse,
store the result and the outcome), renews the lease while it follows, and releases it at the end.

Stopping the poller stops following without cancelling anything on AMC; the lease is released, so
another server (or this one, restarted) picks the execution up again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from amc_magic.errors import AmcMagicError
from amc_magic.history import ExecutionRecord, ExecutionStatus, HistoryStore
from amc_magic.executions import LeaseTerms
from amc_magic.history import leases
from amc_magic.history import tables as t
from amc_magic.history.queries import execution_record
from amc_magic.server.payloads import iso
from amc_magic.server.service import ServerService
from amc_magic.wallclock import utc_now

logger = logging.getLogger("amc_magic.server")

FOLLOWED_STATUSES = (ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value, ExecutionStatus.PUBLISHING.value)
_executions = t.executions.c


def find_orphans(store: HistoryStore, *, unpolled_since: datetime, now: datetime, limit: int) -> list[ExecutionRecord]:
    """Live executions on AMC not polled since ``unpolled_since`` whose lease is free at ``now``, oldest first."""
    last_seen = sa.func.coalesce(_executions.last_polled_at, _executions.submitted_at, _executions.created_at)
    query = (
        sa.select(t.executions)
        .where(
            _executions.status.in_(FOLLOWED_STATUSES),
            _executions.amc_execution_id.is_not(None),
            last_seen < unpolled_since,
            sa.or_(
                _executions.lease_owner.is_(None),
                _executions.lease_expires_at.is_(None),
                _executions.lease_expires_at <= now,
            ),
        )
        .order_by(_executions.submitted_at, _executions.id)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [execution_record(row) for row in conn.execute(query)]


class OrphanPoller:
    """Follows orphaned executions to their end, one lease each.

    Args:
        service: the server's store, session and worker threads.
        owner: this poller's lease owner name (default: a new :func:`~amc_magic.history.leases.lease_owner`).
        orphan_after: seconds without a poll after which a live execution counts as orphaned.
        interval: seconds between sweeps.
        lease_seconds: lease lifetime; renewed every third of it while following.
        max_followers: executions followed at once.
        follow_embedded: also follow executions on ``instance=sandbox`` (only meaningful when the
            session shares the kernels' embedded sandbox, as in tests).
        clock: the current timezone-aware UTC time (orphan threshold, lease times).
        sleep: the async sleep between sweeps and renewals.
    """

    def __init__(
        self,
        service: ServerService,
        *,
        owner: str | None = None,
        orphan_after: float = 120.0,
        interval: float = 30.0,
        lease_seconds: float = 300.0,
        max_followers: int = 10,
        follow_embedded: bool = False,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if orphan_after <= 0 or interval <= 0 or lease_seconds <= 0 or max_followers < 1:
            raise ValueError("orphan_after, interval and lease_seconds must be positive, max_followers at least 1")
        self.service = service
        self.owner = owner or leases.lease_owner("jupyter-server")
        self.orphan_after = orphan_after
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.max_followers = max_followers
        self.follow_embedded = follow_embedded
        self._clock = clock
        self._sleep = sleep
        self.following: dict[str, asyncio.Task[None]] = {}
        self.finished: list[str] = []
        self.last_sweep_at: datetime | None = None
        self._runner: asyncio.Task[None] | None = None

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start sweeping every ``interval`` seconds (call on the server's running loop)."""
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="amc-magic-orphan-poller")

    async def stop(self) -> None:
        """Stop sweeping and following (nothing is cancelled on AMC); leases are released."""
        tasks = [task for task in (self._runner, *self.following.values()) if task is not None and not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runner = None
        for local_id in list(self.following):  # followers cancelled before they began never reached their finally
            self.following.pop(local_id, None)
            await self.service.call(leases.release, self.service.store, local_id, self.owner)

    async def sweep(self) -> list[str]:
        """Look once for orphans and start following each one whose lease this poller got; their ids."""
        store = await self.service.call(lambda: self.service.store)
        now = self._clock()
        self.last_sweep_at = now
        unpolled_since = now - timedelta(seconds=self.orphan_after)
        room = self.max_followers - len(self.following)
        if room <= 0:
            return []
        candidates = await self.service.call(
            find_orphans, store, unpolled_since=unpolled_since, now=now, limit=room + len(self.following)
        )
        started: list[str] = []
        for record in candidates:
            if record.id in self.following or len(self.following) >= self.max_followers:
                continue
            if _on_embedded_sandbox(record) and not self.follow_embedded:
                continue
            won = await self.service.call(
                leases.acquire, store, record.id, self.owner, self.lease_seconds, clock=self._clock, unpolled_since=unpolled_since
            )
            if not won:
                continue
            logger.info("amc-magic: following orphaned execution %s (%s)", record.short_id, record.status)
            task = asyncio.get_running_loop().create_task(self._follow(record), name=f"amc-magic-follow-{record.short_id}")
            self.following[record.id] = task
            started.append(record.id)
        return started

    async def wait_idle(self) -> None:
        """Wait until every execution being followed has ended (or its follower stopped)."""
        while self.following:
            await asyncio.gather(*list(self.following.values()), return_exceptions=True)

    def describe(self) -> dict[str, Any]:
        """The poller's settings and state, for ``GET /amc-magic/api/status``."""
        return {
            "owner": self.owner,
            "running": self._runner is not None and not self._runner.done(),
            "orphan_after_seconds": self.orphan_after,
            "interval_seconds": self.interval,
            "lease_seconds": self.lease_seconds,
            "following": sorted(self.following),
            "last_sweep_at": iso(self.last_sweep_at),
        }

    # --- internals --------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                logger.exception("amc-magic: the orphan poller's sweep failed; trying again in %g s", self.interval)
            await self._sleep(self.interval)

    async def _follow(self, record: ExecutionRecord) -> None:
        store = self.service.store
        renewer = asyncio.get_running_loop().create_task(self._renew(store, record))
        try:
            job = await self.service.call(lambda: self._session().attach(record.id))
            # Shielded: stopping the poller must not cancel the job (that would cancel on AMC).
            await asyncio.shield(_outcome(job, record))
            self.finished.append(record.id)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("amc-magic: following execution %s failed; it stays live for the next sweep", record.short_id)
        finally:
            renewer.cancel()
            self.following.pop(record.id, None)
            try:
                await self.service.call(leases.release, store, record.id, self.owner)
            except Exception:
                logger.warning("amc-magic: could not release the lease on %s; it expires by itself", record.short_id)

    def _session(self) -> Any:
        """The server's session, following under this poller's lease (same owner, same clock)."""
        session = self.service.session
        session.executions.lease = LeaseTerms(self.owner, self.lease_seconds, self._clock)
        return session

    async def _renew(self, store: HistoryStore, record: ExecutionRecord) -> None:
        while True:
            await self._sleep(self.lease_seconds / 3)
            renewed = await self.service.call(leases.renew, store, record.id, self.owner, self.lease_seconds, clock=self._clock)
            if not renewed:
                logger.warning("amc-magic: lost the lease on execution %s; another follower took it", record.short_id)
                return


async def _outcome(job: Any, record: ExecutionRecord) -> None:
    """Wait for the job; how the execution ended is already recorded by the session."""
    try:
        await job
    except AmcMagicError as error:
        logger.info("amc-magic: orphaned execution %s ended: %s", record.short_id, error.message)


def _on_embedded_sandbox(record: ExecutionRecord) -> bool:
    return str((record.options or {}).get("target", "")).lower() == "sandbox"
