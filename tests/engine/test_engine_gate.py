"""The per-instance concurrency gate, alone and under the engine."""

import asyncio

import pytest
from engine_support import INSTANCE, Events, FakeAmc, make_engine

from amc_magic.engine import ConcurrencyGate, ExecutionRequest, SimulatedClock
from amc_magic.errors import ExecutionCancelled, ExecutionTimeout, OptionError


@pytest.mark.parametrize("limit", [0, 11])
def test_limit_must_be_between_1_and_10(limit):
    with pytest.raises(OptionError):
        ConcurrencyGate(limit)


async def test_waiters_get_slots_first_in_first_out_and_instances_are_separate():
    gate, order, release = ConcurrencyGate(1), [], asyncio.Event()

    async def hold(name, instance="a"):
        async with gate.slot(instance):
            order.append(name)
            await release.wait()

    tasks = [asyncio.create_task(hold(name)) for name in "xyz"]
    other = asyncio.create_task(hold("other", "b"))
    await asyncio.sleep(0)
    assert (order, gate.in_flight("a"), gate.waiting("a"), gate.is_full("a")) == (["x", "other"], 1, 2, True)
    release.set()
    await asyncio.gather(*tasks, other)
    assert order == ["x", "other", "y", "z"]
    assert (gate.in_flight("a"), gate.waiting("a")) == (0, 0)


async def test_a_cancelled_waiter_leaves_the_line():
    gate = ConcurrencyGate(1)
    async with gate.slot("a"):
        waiter = asyncio.create_task(gate.slot("a").__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert gate.waiting("a") == 0
    assert not gate.is_full("a")


async def test_the_engine_keeps_at_most_n_executions_in_flight():
    clock = SimulatedClock()
    amc = FakeAmc(clock, run_seconds=60)
    engine = make_engine(amc, gate=ConcurrencyGate(2))
    peak = 0

    def watch(event):
        nonlocal peak
        peak = max(peak, amc.running())

    events = [Events() for _ in range(5)]
    handles = [
        engine.submit(ExecutionRequest(INSTANCE, sql=f"SELECT {n}"), subscribers=[events[n], watch]) for n in range(5)
    ]
    results = await asyncio.gather(*handles)
    assert len(results) == 5 and peak == 2
    assert [e.kinds()[0] for e in events] == ["submitted", "submitted", "queued", "queued", "queued"]
    creates = [r for r in amc.requests if r.method == "POST"]
    assert [r.content.decode().split("SELECT ")[1][0] for r in creates] == ["0", "1", "2", "3", "4"]
    assert 120 <= clock.monotonic() <= 200  # three waves of about a minute, not five


async def test_a_queued_execution_can_be_cancelled_without_reaching_amc():
    clock = SimulatedClock()
    amc = FakeAmc(clock, run_seconds=60)
    engine = make_engine(amc, gate=ConcurrencyGate(1))
    first = engine.submit(ExecutionRequest(INSTANCE, sql="SELECT 1"))
    events = Events()
    second = engine.submit(ExecutionRequest(INSTANCE, sql="SELECT 2"), subscribers=[events])
    await events.wait_for(lambda e: e.kind.value == "queued")
    second.cancel()
    with pytest.raises(ExecutionCancelled) as caught:
        await second
    assert caught.value.execution_id is None and second.execution_id is None
    await first
    assert len([r for r in amc.requests if r.method == "POST"]) == 1


async def test_a_queued_execution_times_out_without_submitting():
    clock = SimulatedClock()
    amc = FakeAmc(clock, run_seconds=600)
    engine = make_engine(amc, gate=ConcurrencyGate(1))
    first = engine.submit(ExecutionRequest(INSTANCE, sql="SELECT 1"))
    with pytest.raises(ExecutionTimeout) as caught:
        await engine.run(ExecutionRequest(INSTANCE, sql="SELECT 2"), timeout=30)
    assert "nothing was submitted" in caught.value.message
    assert clock.monotonic() == pytest.approx(30)
    await first
