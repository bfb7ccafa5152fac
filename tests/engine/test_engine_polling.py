"""The poll schedule: the delay it promises, the status calls it costs, with and without an ETA."""

import math

import pytest
from engine_support import INSTANCE, Events, FakeAmc, make_engine

from amc_magic.engine import ExecutionRequest, PollSchedule, SimulatedClock
from amc_magic.engine.eta import Eta
from amc_magic.errors import OptionError

REQUEST = ExecutionRequest(INSTANCE, sql="SELECT 1")
HOUR = 3600.0


def target(length: float) -> float:
    """The worst delay allowed in noticing a run of ``length`` seconds."""
    return max(1.0, min(0.1 * length, 60.0))


def worst_share(times: list[float], start: float, end: float) -> float:
    """The worst delay over the target, for every run ending in ``[start, end]``.

    A run that ends just after a poll is noticed by the next one: its delay is just under the gap.
    """
    worst, previous = 0.0, 0.0
    for poll in times:
        first = max(previous, start)  # the earliest end this poll notices
        if poll >= start and first <= end:
            worst = max(worst, (poll - first) / target(first))
        previous = poll
    return worst


def fewest_blind_calls(length: float) -> int:
    """The fewest calls of any blind schedule within the target (each call as late as the last one allows)."""
    calls, age = 0, 0.0
    while age < length:
        age += target(age)
        calls += 1
    return calls


@pytest.mark.parametrize(("age", "expected"), [(0, 1.0), (9, 1.0), (50, 5.0), (600, 60.0), (10_000, 60.0)])
def test_the_blind_interval_is_ten_percent_of_the_age_between_1_and_60_seconds(age, expected):
    assert PollSchedule().interval(age) == PollSchedule().bound(age) == expected


def test_retry_after_is_honoured_when_longer():
    assert PollSchedule().interval(50, retry_after=30.0) == 30.0
    assert PollSchedule().interval(50, retry_after=2.0) == 5.0


def test_blind_polling_keeps_the_bound_for_runs_from_10_seconds_to_6_hours():
    times = PollSchedule().ask_ages(6 * HOUR)
    assert worst_share(times, 10.0, 6 * HOUR) <= 1.0 + 1e-9


@pytest.mark.parametrize(("length", "calls"), [(HOUR, 103), (6 * HOUR, 403)])
def test_blind_polling_costs_no_more_calls_than_the_bound_needs(length, calls):
    made = len(PollSchedule().ask_ages(length))
    assert made == calls
    assert made <= 1.05 * fewest_blind_calls(length)


def test_a_schedule_is_a_value_and_an_eta_gives_a_new_one():
    blind = PollSchedule()
    eta = Eta(low=3000.0, high=4000.0, expected=3500.0)
    shaped = blind.with_eta(eta)
    assert shaped.eta == eta and blind.eta is None
    assert shaped.with_eta(None) == blind and blind.with_eta(None) is blind


@pytest.mark.parametrize(
    "settings", [{"minimum": 0}, {"minimum": 10, "ceiling": 5}, {"ratio": -1}, {"early_ratio": -1}]
)
def test_nonsense_is_rejected(settings):
    with pytest.raises(OptionError):
        PollSchedule(**settings)


def test_an_eta_polls_sparsely_before_its_range_and_keeps_the_bound_inside_and_after():
    eta = Eta(low=3200.0, high=4000.0, expected=3600.0)
    schedule = PollSchedule().with_eta(eta)
    times = schedule.ask_ages(6 * HOUR)
    assert worst_share(times, eta.low, 6 * HOUR) <= 1.0 + 1e-9
    assert len(schedule.ask_ages(eta.high)) <= 30
    early = [b - a for a, b in zip([0.0, *times], times, strict=False) if b <= eta.low]
    assert early[:4] == [1.0, 2.0, 6.0, 18.0]  # a quick failure is still seen soon
    assert max(early) <= schedule.early_ceiling


def test_after_the_range_an_eta_schedule_is_the_blind_one():
    eta = Eta(low=100.0, high=200.0, expected=150.0)
    for age in (200.0, 500.0, 5000.0):
        assert PollSchedule().with_eta(eta).interval(age) == PollSchedule().interval(age)


async def test_the_engine_follows_the_blind_schedule_on_the_simulated_clock():
    clock = SimulatedClock()
    amc = FakeAmc(clock, run_seconds=HOUR)
    await make_engine(amc).run(REQUEST)
    assert amc.status_calls() == 103
    assert clock.monotonic() - HOUR <= 60.0


@pytest.mark.parametrize("length", [3300.0, 3600.0, 3999.0])
async def test_the_engine_polls_with_an_eta_and_publishes_it(length):
    clock = SimulatedClock()
    amc = FakeAmc(clock, run_seconds=length)
    eta = Eta(low=3200.0, high=4000.0, expected=3600.0, runs=8)
    events = Events()
    await make_engine(amc).run(REQUEST, eta=eta, subscribers=[events])
    assert amc.status_calls() <= 30
    assert clock.monotonic() - length <= target(length)
    assert {e.eta for e in events} == {eta}


async def test_without_an_eta_events_carry_none():
    clock = SimulatedClock()
    events = Events()
    await make_engine(FakeAmc(clock, run_seconds=20)).run(REQUEST, subscribers=[events])
    assert {e.eta for e in events} == {None}


class SlowStatusAmc(FakeAmc):
    """A fake AMC whose status calls take ``latency`` simulated seconds to answer."""

    latency = 2.0

    async def __call__(self, request):
        if request.method == "GET" and request.url.path.count("/") == 5:
            await self.clock.sleep(self.latency)
        return await super().__call__(request)


async def test_the_next_call_is_timed_from_when_the_last_was_sent():
    clock = SimulatedClock()
    amc = SlowStatusAmc(clock, run_seconds=HOUR)
    events = Events()
    await make_engine(amc).run(REQUEST, subscribers=[events])
    sent = [r for r in amc.requests if r.method == "GET" and r.url.path.count("/") == 5]
    assert len(sent) <= 103
    gaps = [e.next_poll_in for e in events if e.kind.value == "poll" and e.next_poll_in is not None]
    late = [gap for gap in gaps if gap > 20]
    assert late and all(gap == pytest.approx(60.0 - amc.latency) for gap in late[-5:])
    assert clock.monotonic() - HOUR <= 60.0 + amc.latency + 1e-9


def test_the_bound_is_met_up_to_rounding_for_fractional_lengths():
    times = PollSchedule().ask_ages(HOUR)
    for length in (10.5, 61.7, 599.9, 1234.5, 3599.9):
        noticed = next(t for t in times if t >= length)
        assert noticed - length <= target(length) + 1e-9
        assert math.isfinite(noticed)
