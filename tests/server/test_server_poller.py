"""The orphan poller on the embedded sandbox: a kernel walks away, the server finishes the execution.

The "kernel" is a real :class:`~amc_magic.session.Session` and so is the server's; they share one
sandbox (its clock moves only when a test says so) and one history database (whose clock, which
stamps every poll, is a fake too), so nothing waits for real time except the kernel's first poll.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

import pandas as pd
import pytest

from amc_magic.history import HistoryStore, create_engine_for_url
from amc_magic.history.leases import acquire, holder
from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import ManualClock, SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.server.poller import OrphanPoller, find_orphans
from amc_magic.server.service import ServerService
from amc_magic.session import Session
from history_support import FakeClock
from server_support import StubDatabase

pytestmark = pytest.mark.timeout(60)

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
WINDOW = {"start": "2025-02-01", "end": "2025-02-28"}
RUN_SECONDS = 600
ORPHAN_AFTER = 120


class World:
    """One sandbox and one history database, with sessions and pollers over them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clock = FakeClock()
        self.sandbox_clock = ManualClock()
        config = SandboxConfig(clock=self.sandbox_clock, data=DataSpec(today=date(2025, 3, 3)), run_seconds=RUN_SECONDS)
        self.sandbox = Sandbox(config, database=StubDatabase())
        self.store = self.open_store()
        self._closers: list[Any] = [self.sandbox.close, self.store.close]

    def open_store(self) -> HistoryStore:
        return HistoryStore(create_engine_for_url(self.url), clock=self.clock)

    def session(self) -> Session:
        session = Session(store=self.open_store(), sandbox_app=self.sandbox.app)
        self._closers.insert(0, session.close)
        return session

    def poller(self, **options: Any) -> OrphanPoller:
        service = ServerService(
            self.open_store,
            lambda store: Session(store=store, sandbox_app=self.sandbox.app),
            clock=self.clock,
            shares_embedded_sandbox=True,
        )
        self._closers.insert(0, service.close)
        settings = dict(orphan_after=ORPHAN_AFTER, follow_embedded=True, clock=self.clock)
        return OrphanPoller(service, **{**settings, **options})

    def abandoned_execution(self) -> str:
        """Start the query in a kernel session, wait for its first poll, then close that session."""
        kernel = Session(store=self.open_store(), sandbox_app=self.sandbox.app)
        try:
            job = kernel.start(kernel.prepare(SQL, **WINDOW))
            deadline = time.monotonic() + 30
            while True:
                record = self.store.get_execution(job.local_id) if job.local_id else None
                if record is not None and record.status == "RUNNING" and record.poll_count >= 1:
                    break
                assert time.monotonic() < deadline, "the kernel never polled"
                time.sleep(0.02)
        finally:
            kernel.close()  # stops following; the execution keeps running on the sandbox
        return record.id

    def finish_on_amc(self) -> None:
        self.sandbox_clock.advance(RUN_SECONDS + 1)

    def close(self) -> None:
        for close in self._closers:
            close()


@pytest.fixture
def world(db_url: str):
    built = World(db_url)
    yield built
    built.close()


async def test_an_abandoned_execution_is_finished_and_cached_by_the_poller(world: World) -> None:
    local_id = world.abandoned_execution()
    assert world.store.get_execution(local_id).status == "RUNNING"
    assert world.sandbox.calls["update_execution"] == 0  # closing the kernel did not cancel it
    poller = world.poller()
    assert await poller.sweep() == []  # polled a moment ago: not an orphan

    world.clock.advance(seconds=ORPHAN_AFTER + 1)
    world.finish_on_amc()
    assert await poller.sweep() == [local_id]
    await poller.wait_idle()

    finished = world.store.get_execution(local_id)
    assert finished.status == "SUCCEEDED" and finished.row_count == 4 and finished.finished_at is not None
    assert holder(world.store, local_id, clock=world.clock) is None and poller.finished == [local_id]
    assert world.sandbox.calls["create_execution"] == 1 and world.sandbox.calls["download"] == 1
    later = world.session()  # a new kernel: %amc result reads the cache, AMC is not asked again
    frame = later.result(local_id)
    assert list(frame.columns) == ["campaign", "impressions"] and len(frame) == 4
    again = later.start(later.prepare(SQL, **WINDOW))
    pd.testing.assert_frame_equal(again.result(timeout=30), frame)
    assert again.from_cache and world.sandbox.calls["create_execution"] == 1


async def test_two_pollers_racing_for_one_orphan_finalise_it_once(world: World) -> None:
    local_id = world.abandoned_execution()
    world.clock.advance(seconds=ORPHAN_AFTER + 1)
    world.finish_on_amc()
    first, second = world.poller(), world.poller()
    started = await asyncio.gather(first.sweep(), second.sweep())
    assert sorted(started, key=len) == [[], [local_id]]
    await asyncio.gather(first.wait_idle(), second.wait_idle())
    assert world.store.get_execution(local_id).status == "SUCCEEDED"
    assert world.sandbox.calls["download"] == 1 and world.sandbox.calls["download_urls"] == 1


async def test_a_kernel_holding_the_lease_keeps_the_execution_until_its_lease_expires(world: World) -> None:
    local_id = world.abandoned_execution()
    assert acquire(world.store, local_id, "kernel-1", 300, clock=world.clock)
    world.clock.advance(seconds=ORPHAN_AFTER + 1)
    world.finish_on_amc()
    poller = world.poller()
    assert find_orphans(world.store, unpolled_since=world.clock.now, now=world.clock.now, limit=10) == []
    assert await poller.sweep() == []
    world.clock.advance(seconds=300)  # the kernel died: its lease runs out
    assert await poller.sweep() == [local_id]
    await poller.wait_idle()
    assert world.store.get_execution(local_id).status == "SUCCEEDED" and world.sandbox.calls["download"] == 1


async def test_stopping_the_poller_leaves_the_execution_running_and_frees_the_lease(world: World) -> None:
    local_id = world.abandoned_execution()
    world.clock.advance(seconds=ORPHAN_AFTER + 1)
    poller = world.poller()
    assert await poller.sweep() == [local_id]
    assert holder(world.store, local_id, clock=world.clock).owner == poller.owner
    assert poller.describe()["following"] == [local_id]
    await poller.stop()
    assert poller.following == {} and holder(world.store, local_id, clock=world.clock) is None
    assert world.store.get_execution(local_id).status == "RUNNING"
    assert world.sandbox.calls["update_execution"] == 0


async def test_the_poller_skips_embedded_executions_unless_told_and_sweeps_on_its_interval(world: World) -> None:
    local_id = world.abandoned_execution()
    world.clock.advance(seconds=ORPHAN_AFTER + 1)
    assert await world.poller(follow_embedded=False).sweep() == []
    naps: list[float] = []
    proceed = asyncio.Event()

    async def sleep(seconds: float) -> None:
        naps.append(seconds)
        await proceed.wait()

    world.finish_on_amc()
    poller = world.poller(interval=45, lease_seconds=90, sleep=sleep)
    poller.start()
    for _ in range(200):
        if 45 in naps and not poller.following:
            break
        await asyncio.sleep(0.02)
    assert poller.describe()["running"] and naps.count(45) == 1 and 30 in naps  # sweep, then renew every ttl/3
    assert world.store.get_execution(local_id).status == "SUCCEEDED"
    await poller.stop()
    assert not poller.describe()["running"]


def test_bad_settings_are_refused(world: World) -> None:
    for bad in ({"orphan_after": 0}, {"interval": -1}, {"lease_seconds": 0}, {"max_followers": 0}):
        with pytest.raises(ValueError):
            world.poller(**bad)
