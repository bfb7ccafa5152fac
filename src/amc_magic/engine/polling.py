"""When to ask AMC for an execution's status: as rarely as a promised delay allows.

The promise: an execution that ends ``L`` seconds after it was created is noticed within
``bound(L) = min(ceiling, max(minimum, ratio * L))`` seconds (with the defaults: 1 s for runs up
to 10 s, 10 % of the run's length up to 10 min, then 60 s). Without any idea of how long the run
takes, the fewest status calls that keep it are the greedy ones: the next call ``bound(age)``
after the last (every 1 s, then a geometric series of ratio 1.1, then every 60 s). That is about
103 calls for an hour-long run and 403 for a 6-hour one, each noticed within the bound.

With an :class:`~amc_magic.engine.eta.Eta` (a predicted range from earlier runs of the same query),
the schedule polls sparsely before the range (``early_ratio`` of the age, at most ``early_ceiling``
apart), so that an early failure is still seen, and keeps the bound from the range's low end on:
an hour-long run that ends inside a typical predicted range takes about 20 calls. After the high
end it is the blind schedule again (the same bound), so an overdue run costs nothing extra.

A schedule is a frozen value: the engine asks it for an interval and sleeps on its own clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from amc_magic.engine.eta import Eta
from amc_magic.errors import OptionError


@dataclass(frozen=True)
class PollSchedule:
    """A poll schedule with a relative delay bound, optionally shaped by an expected duration.

    Attributes:
        minimum: the shortest interval in seconds (the pace of the first polls).
        ratio: the interval as a fraction of the execution's age.
        ceiling: the longest interval in seconds once a run may have ended.
        eta: when the execution is expected to end (``None``: blind).
        early_ratio: the interval as a fraction of the age before ``eta.low``.
        early_ceiling: the longest interval before ``eta.low`` (never below ``ceiling``).
    """

    minimum: float = 1.0
    ratio: float = 0.1
    ceiling: float = 60.0
    eta: Eta | None = None
    early_ratio: float = 2.0
    early_ceiling: float = 900.0

    def __post_init__(self) -> None:
        if not 0 < self.minimum <= self.ceiling or min(self.ratio, self.early_ratio, self.early_ceiling) < 0:
            raise OptionError(
                f"Invalid poll schedule (minimum={self.minimum}, ratio={self.ratio}, ceiling={self.ceiling}, "
                f"early_ratio={self.early_ratio}, early_ceiling={self.early_ceiling}).",
                hint="Use 0 < minimum <= ceiling, and ratios and early_ceiling >= 0.",
            )

    def with_eta(self, eta: Eta | None) -> PollSchedule:
        """The same schedule shaped by ``eta`` (``None``: blind)."""
        return self if eta == self.eta else replace(self, eta=eta)

    def bound(self, age: float) -> float:
        """The promised worst delay in noticing a run that ends ``age`` seconds after its creation."""
        return min(self.ceiling, max(self.minimum, self.ratio * age))

    def ask_ages(self, until: float) -> list[float]:
        """The ages at which this schedule asks (answers taken as instant), up to the first at or after ``until``."""
        ages, age = [], 0.0
        while not ages or ages[-1] < until:
            age += self.interval(age)
            ages.append(age)
        return ages

    def interval(self, age: float, retry_after: float | None = None) -> float:
        """Seconds to wait before the next status call of an execution ``age`` seconds old.

        Args:
            age: seconds since the execution was created (when the last status call was sent).
            retry_after: AMC's ``Retry-After`` from a throttled status call, honoured if longer.
        """
        interval = self.bound(age)
        eta = self.eta
        if eta is not None and age < eta.low:
            early = min(max(self.early_ceiling, self.ceiling), max(self.minimum, self.early_ratio * age))
            # The first call from the low end on must come within bound(low) of it.
            interval = max(interval, min(early, eta.low + self.bound(eta.low) - age))
        return max(interval, retry_after or 0.0)
