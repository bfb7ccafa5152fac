"""When to ask AMC for an execution's status: often at first, then in proportion to its age.

The interval is ``ratio`` times the execution's age, never below ``minimum`` and never above
``ceiling``. A finished run is therefore noticed within about ``ratio`` of its length (within
``minimum`` for short runs), while a long run costs few calls: with the defaults an hour-long run
takes about 70 status calls, where polling every 15 s would take 240.
"""

from __future__ import annotations

from dataclasses import dataclass

from amc_magic.errors import OptionError


@dataclass(frozen=True)
class PollSchedule:
    """An adaptive poll schedule.

    Attributes:
        minimum: the shortest interval in seconds (the pace of the first polls).
        ratio: the interval as a fraction of the execution's age.
        ceiling: the longest interval in seconds.
    """

    minimum: float = 1.0
    ratio: float = 0.1
    ceiling: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.minimum <= self.ceiling or self.ratio < 0:
            raise OptionError(
                f"Invalid poll schedule (minimum={self.minimum}, ratio={self.ratio}, ceiling={self.ceiling}).",
                hint="Use 0 < minimum <= ceiling and ratio >= 0.",
            )

    def interval(self, age: float, retry_after: float | None = None) -> float:
        """Seconds to wait before the next status call of an execution ``age`` seconds old.

        Args:
            age: seconds since the execution was created.
            retry_after: AMC's ``Retry-After`` from a throttled status call, honoured if longer.
        """
        interval = min(self.ceiling, max(self.minimum, self.ratio * age))
        return max(interval, retry_after or 0.0)
