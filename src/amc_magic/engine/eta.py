"""How long an execution should take, predicted from how long earlier runs of the same query took.

:func:`estimate_eta` turns past durations into an :class:`Eta`, a range the next run should end
in, and the poll schedule uses it to poll sparsely until that range and densely inside it. The
estimate is robust: the median of the log-durations, and a spread from their median absolute
deviation, so that one run that waited in AMC's queue for an hour does not widen the range much.
Durations are first scaled to the new run's time window (a query over a month of data is taken
to run about four times as long as over a week).

Pure functions over plain values, with nothing imported beyond the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from amc_magic.errors import OptionError

MAD_TO_SIGMA = 1.4826
"""Turns a median absolute deviation into a standard deviation (for normally distributed values)."""


@dataclass(frozen=True)
class PastRun:
    """One earlier run of the same query on the same instance.

    Attributes:
        duration: seconds it ran on AMC, from its creation to its end (AMC's times, not when we noticed).
        window_seconds: the length of its time window, if known.
    """

    duration: float
    window_seconds: float | None = None


@dataclass(frozen=True)
class Eta:
    """When an execution is expected to end, in seconds after it was created.

    Attributes:
        low: the earliest end expected.
        high: the latest end expected.
        expected: the most likely end (the median of the past runs, scaled).
        runs: how many past runs the prediction rests on.
    """

    low: float
    high: float
    expected: float
    runs: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.low <= self.expected <= self.high < math.inf:
            raise OptionError(
                f"Invalid ETA (low={self.low}, expected={self.expected}, high={self.high}).",
                hint="Use 0 < low <= expected <= high.",
            )

    def contains(self, seconds: float) -> bool:
        """Whether a run ending after ``seconds`` ended inside the predicted range."""
        return self.low <= seconds <= self.high


def estimate_eta(
    past: Sequence[PastRun],
    window_seconds: float | None = None,
    *,
    min_runs: int = 3,
    spread: float = 2.0,
    min_margin: float = 0.1,
) -> Eta | None:
    """Predict the range a new run's duration falls in from the durations of earlier runs.

    Each past duration is scaled by ``window_seconds / run.window_seconds`` when both are known. The
    range is ``median * exp(±h)`` over the scaled durations, where ``h`` is ``spread`` robust standard
    deviations of their logarithms (``1.4826 * MAD``), and at least ``log(1 + min_margin)``.

    Args:
        past: earlier runs of the same query on the same instance (pass the recent ones, e.g. the
            last 20; runs that never finished should be left out).
        window_seconds: the new run's time window length, if known.
        min_runs: fewer usable runs than this give no prediction.
        spread: the half-width of the range in robust standard deviations (2 covers about 95 %).
        min_margin: the least relative half-width, so that identical past runs still give a range.

    Returns:
        The predicted range, or ``None`` when there is too little history.
    """
    durations = [_scaled(run, window_seconds) for run in past]
    usable = sorted(d for d in durations if d is not None and 0 < d < math.inf)
    if len(usable) < max(1, min_runs):
        return None
    logs = [math.log(d) for d in usable]
    centre = _median(logs)
    sigma = MAD_TO_SIGMA * _median([abs(x - centre) for x in logs])
    half = max(spread * sigma, math.log1p(min_margin))
    return Eta(low=math.exp(centre - half), high=math.exp(centre + half), expected=math.exp(centre), runs=len(usable))


def _scaled(run: PastRun, window_seconds: float | None) -> float | None:
    if not math.isfinite(run.duration):
        return None
    if window_seconds and run.window_seconds and window_seconds > 0 and run.window_seconds > 0:
        return run.duration * window_seconds / run.window_seconds
    return run.duration


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
