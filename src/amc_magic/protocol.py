"""The one-query protocol: cache, claim, share, wait, submit, follow.

For one prepared query, :meth:`QueryProtocol.execute` (a coroutine on the session's loop):

1. answers from the result cache (``cache=true``);
2. claims a history row for the query's cache key, atomically across processes (with a
   per-instance cap when asked: a backfill's ``concurrency=``);
3. if another job of this process runs the identical execution, shares its result;
4. if another process claimed it, waits until that process has AMC's id, then follows it;
5. otherwise submits it through the engine and follows it to its result.

Besides the engine's recorder, this is the only writer of execution statuses. Every history call
runs off the loop (:class:`~amc_magic.history.offloop.OffLoopHistory`). Backfills, workflow runs
and the server's poller call it per execution; running one on the engine under its lease is the
:class:`~amc_magic.following.Follower`'s part.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from .counts import rows_by_columns
from .engine.reconcile import find_created
from .errors import NotFoundError
from .following import Follower, StatusView, ended_without_result
from .history import ExecutionRecord, leases

if TYPE_CHECKING:
    from .connector import Connector
    from .history import HistoryStore
    from .history.offloop import OffLoopHistory
    from .instance_catalog import InstanceCatalog
    from .instances import Target
    from .job import AmcJob
    from .prepared import PreparedQuery

ATTACH_WAIT_SECONDS = 0.5
RECOVERY_MARGIN = timedelta(minutes=5)
"""How far before a claim AMC's executions are searched for its mark (clocks differ)."""


@dataclass(frozen=True)
class Admission:
    """A cap on live executions per instance, held across processes sharing the database.

    Attributes:
        max_live: claim only while fewer executions of the instance are live.
        wait: awaited when the instance is full, before claiming again.
        backfill_id: the backfill the execution belongs to.
        queue: held while claiming, so that waiting executions claim one at a time, in turn.
    """

    max_live: int
    wait: Callable[[], Awaitable[None]]
    backfill_id: str | None = None
    queue: asyncio.Lock | None = None


class QueryProtocol:
    """Cache, claim, share, wait, submit, follow: one query to its stored result.

    Args:
        follower: runs an execution on the engine under its lease.
        leader_of: another job of this session already running an execution, by local id.
    """

    def __init__(
        self,
        history: OffLoopHistory,
        connector: Connector,
        catalog: InstanceCatalog,
        follower: Follower,
        leader_of: Callable[[str, AmcJob], AmcJob | None],
    ) -> None:
        self._history = history
        self._connector = connector
        self._catalog = catalog
        self._follower = follower
        self._leader_of = leader_of

    async def execute(
        self,
        prepared: PreparedQuery,
        job: AmcJob,
        view: StatusView | None,
        *,
        cache: str = "true",
        timeout: float | None = None,
        admission: Admission | None = None,
    ) -> pd.DataFrame:
        """Run one prepared query to its result, reusing what the history already holds."""
        job.bind_task()
        if cache == "true":
            frame = await self._from_cache(prepared, job, view)
            if frame is not None:
                return frame
        # cache=false neither reads nor reuses: a key of its own never matches another run.
        key = prepared.cache_key if cache != "false" else f"{prepared.cache_key}:once:{uuid.uuid4().hex}"
        while True:
            record, created = await self._claim(prepared, key, admission)
            job.local_id = record.id
            if created:
                return await self._follower.submit(prepared, record, job, view, timeout)
            leader = self._leader_of(record.id, job)
            if leader is not None:
                return await self._share(leader, job, view)
            if not record.amc_execution_id and view is not None:
                view.show_note("waiting for an identical execution that another process is submitting")
            amc_id = await self._wait_for_amc_id(record)
            if amc_id is not None:
                if view is not None:
                    view.show_note("attached to an identical execution already running")
                return await self._follower.follow(self._catalog.target_of(record), record.id, amc_id, job, view, timeout)
            if cache == "true":
                frame = await self._from_cache(prepared, job, view)
                if frame is not None:
                    return frame

    async def _claim(self, prepared: PreparedQuery, key: str, admission: Admission | None) -> tuple[ExecutionRecord, bool]:
        """Claim the history row for ``key``, waiting for a slot while the instance is at its cap."""
        target = prepared.target
        lease = self._follower.lease

        def claim(store: HistoryStore) -> tuple[ExecutionRecord, bool] | None:
            return store.claim_execution(
                lease_owner=lease.owner,  # held from the start: if this process dies, others see it gone
                lease_expires_at=lease.clock() + timedelta(seconds=lease.ttl),
                instance_id=target.instance_id,
                sql_template=prepared.sql_template,
                rendered_sql=prepared.sql,
                cache_key=key,
                parameter_values=prepared.parameter_values,
                window_start=prepared.window.start,
                window_end=prepared.window.end,
                time_zone=prepared.window.time_zone,
                window_type=str(prepared.window.window_type),
                options={"target": target.name, **target.request_options},
                backfill_id=admission.backfill_id if admission else None,
                max_live=admission.max_live if admission else None,
                workflow_id=prepared.workflow_uuid,
                workflow_version=prepared.workflow_version,
            )

        claimed = await self._history.run(claim)  # outside the queue: a live row of the key is followed at once
        if claimed is not None:
            return claimed
        assert admission is not None  # None only with a cap
        async with admission.queue or contextlib.nullcontext():
            while (claimed := await self._history.run(claim)) is None:
                await admission.wait()
        return claimed

    async def _share(self, leader: AmcJob, job: AmcJob, view: StatusView | None) -> pd.DataFrame:
        """Wait for the identical execution a job of this session is running: no second poll or download.

        Cancelling this job stops only its wait; the leader's execution goes on.
        """
        if view is not None:
            view.show_note("attached to an identical execution already running")
            if leader.handle is not None:
                leader.handle.subscribe(view.update)
        job.shared_with = leader
        frame = await leader.shared_result()
        job.note_execution_id(leader.execution_id)
        return frame

    async def _from_cache(self, prepared: PreparedQuery, job: AmcJob, view: StatusView | None) -> pd.DataFrame | None:
        hit = await self._history.run(lambda store: store.find_cached(prepared.cache_key))
        frame = await self._history.run(lambda store: store.load_result(hit.id)) if hit is not None else None
        if hit is None or frame is None:
            return None
        job.local_id = hit.id
        job.from_cache = True
        job.note_execution_id(hit.amc_execution_id)
        if view is not None:
            when = hit.finished_at or hit.created_at
            view.show_note(
                f"{rows_by_columns(len(frame), frame.shape[1])} from the cache (execution {hit.short_id}, "
                f"{when:%Y-%m-%d %H:%M} UTC); cache=refresh (--cache refresh on the command line) runs it again",
                status="CACHED",
                execution_id=hit.amc_execution_id,
            )
        return frame

    async def _wait_for_amc_id(self, record: ExecutionRecord) -> str | None:
        """Wait until the claimant of ``record`` got its AMC id; None if it gave up without one."""
        while True:
            current = await self._history.run(lambda store: store.get_execution(record.id))
            if current.amc_execution_id:
                return current.amc_execution_id
            if not current.is_live:
                return None
            if await self._history.run(lambda store: _claimant_gone(store, record.id, self._follower.lease.clock)):
                return await self._recover(current)
            await asyncio.sleep(ATTACH_WAIT_SECONDS)
            await self._history.run(lambda store: store.abandon_stale())

    async def _recover(self, record: ExecutionRecord) -> str | None:
        """A claim whose process died before recording AMC's id: find its execution by its mark, or release it.

        Returns:
            AMC's id of the execution the claimant created (now recorded), or None when AMC has
            none (the claim is abandoned and the query may be submitted again).
        """
        mark = (record.options or {}).get("mark")
        if mark:
            target = self._catalog.target_of(record)
            client = self._connector.engine(target).client
            since = record.created_at - RECOVERY_MARGIN
            found = await find_created(client, target.ref, {}, str(mark), since=since)
            if found is not None:
                await self._history.run(lambda store: store.set_amc_id(record.id, found.execution_id))
                return found.execution_id
        await self._history.run(lambda store: store.abandon_unsubmitted(record.id, "Its process ended before AMC accepted it."))
        return None

    async def attach_record(
        self, record: ExecutionRecord, job: AmcJob, view: StatusView | None, timeout: float | None, target: Target | None = None
    ) -> pd.DataFrame:
        """Follow a recorded execution to its result (its stored one, if it has one)."""
        job.bind_task()
        frame = await self._history.run(lambda store: store.load_result(record.id))
        if frame is not None:
            job.from_cache = True
            if view is not None:
                view.show_note(
                    f"{rows_by_columns(len(frame), frame.shape[1])}, already downloaded",
                    status="SUCCEEDED",
                    execution_id=record.amc_execution_id,
                )
            return frame
        if not record.amc_execution_id:
            raise NotFoundError(
                f"Execution {record.short_id} never reached AMC (status {record.status}).",
                hint="Run the cell again to submit it.",
            )
        if record.status in ("FAILED", "REJECTED", "CANCELLED"):
            raise ended_without_result(record)
        target = target or self._catalog.target_of(record)
        return await self._follower.follow(target, record.id, record.amc_execution_id, job, view, timeout)


def _claimant_gone(store: HistoryStore, local_id: str, clock: Callable[[], datetime]) -> bool:
    """Whether the process that claimed ``local_id`` exited (on this machine: its lease says who)."""
    current = leases.holder(store, local_id, clock=clock)
    return current is not None and leases.holder_is_gone(current.owner)


