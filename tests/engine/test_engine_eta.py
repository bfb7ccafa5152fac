"""Predicting an execution's duration from earlier runs of the same query."""

import math

import pytest

from amc_magic.engine.eta import Eta, PastRun, estimate_eta
from amc_magic.errors import OptionError

WEEK = 7 * 86_400.0


def runs(*durations, window=None):
    return [PastRun(d, window) for d in durations]


def test_too_little_history_gives_no_prediction():
    assert estimate_eta([]) is None
    assert estimate_eta(runs(3600, 3700)) is None
    assert estimate_eta(runs(3600, 3700), min_runs=2) is not None


def test_the_range_is_centred_on_the_median_and_contains_typical_runs():
    eta = estimate_eta(runs(3300, 3450, 3550, 3600, 3650, 3700, 3900))
    assert eta.expected == pytest.approx(3600)
    assert eta.runs == 7
    assert eta.low < 3300 and eta.high > 3900
    assert eta.high / eta.low < 1.5


def test_one_outlier_barely_moves_the_range():
    typical = runs(3300, 3450, 3550, 3600, 3650, 3700, 3900)
    with_outlier = estimate_eta([*typical, PastRun(40_000)])
    without = estimate_eta(typical)
    assert with_outlier.high < 1.1 * without.high
    assert with_outlier.expected < 1.02 * without.expected


def test_identical_runs_still_give_a_margin():
    eta = estimate_eta(runs(600, 600, 600))
    assert eta.low == pytest.approx(600 / 1.1) and eta.high == pytest.approx(660)


def test_a_wider_spread_gives_a_wider_range():
    narrow = estimate_eta(runs(3400, 3500, 3600, 3700, 3800))
    wide = estimate_eta(runs(2000, 2800, 3600, 4500, 6000))
    assert wide.high / wide.low > narrow.high / narrow.low


def test_durations_are_scaled_to_the_new_window():
    past = [*runs(900, 1000, 1100, window=WEEK), *runs(3600, 4000, 4400, window=4 * WEEK)]
    eta = estimate_eta(past, window_seconds=2 * WEEK)
    assert eta.expected == pytest.approx(2000)
    assert eta.runs == 6


def test_unknown_windows_are_taken_as_they_are():
    past = [PastRun(1000), PastRun(1100, None), PastRun(1000, WEEK)]  # only the last is scaled (to 2000)
    assert estimate_eta(past, window_seconds=2 * WEEK).expected == pytest.approx(1100)
    assert estimate_eta(past).expected == pytest.approx(1000)


def test_unusable_durations_are_left_out():
    assert estimate_eta(runs(0, -5, math.nan, math.inf, 100)) is None
    assert estimate_eta(runs(0, 100, 110, 120)).runs == 3


def test_an_eta_checks_its_range():
    assert Eta(10, 20, 15).contains(20) and not Eta(10, 20, 15).contains(21)
    with pytest.raises(OptionError):
        Eta(low=20, high=10, expected=15)
