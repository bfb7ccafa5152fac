"""AMC schedules: a saved workflow run once a day or once a week, and the store that fires them.

A schedule (``POST /schedules``) has a ``scheduleId`` (letters, digits, ``.``, ``-``, ``_``), the
saved ``workflowId`` it runs, an ``aggregationPeriod`` (``Daily`` or ``Weekly``), an
``aggregationHourUtc`` (0-23), an ``aggregationStartDay`` (``Monday`` ... ``Sunday``),
``scheduleEnabled``, and the ``requireSyntheticData`` / ``disableAggregationControls`` flags its
executions run with. Where AMC's documentation is silent the sandbox chooses, as follows:
``scheduleId``, ``workflowId`` and ``aggregationPeriod`` are required; ``aggregationHourUtc``
defaults to 0; ``aggregationStartDay`` defaults to the UTC weekday of creation (AMC's documented
default) and is kept but not used by a Daily schedule; ``scheduleEnabled`` defaults to false
(AMC's guide: "to enable a schedule, set scheduleEnabled to true"); enum values are case-sensitive.

Periods. A Daily schedule's boundaries are every day at ``aggregationHourUtc``:00 UTC, a Weekly
one's every ``aggregationStartDay`` at that hour. At each boundary ``T`` the schedule runs its
workflow once over the period just ended, ``[T - 1 day, T)`` or ``[T - 7 days, T)``, as AMC's guide
describes ("from the previous Tuesday at the specified offset from UTC until the current Tuesday
at the same hour offset").

Firing. There are no timers: :meth:`ScheduleStore.materialise` runs before every request and fires
each boundary that has passed since the schedule's settings took effect (its creation or its last
update), oldest first. Each fired boundary is recorded under the store's lock, keyed by
``(scheduleId, T)``, before the next one is looked at, so however many requests come, at whatever
times and concurrently, each period fires exactly once. A disabled schedule fires nothing, and an
update counts from the moment it is made: what came due under the old settings has fired by then,
and periods that ended while a schedule was disabled are never run (AMC does not queue them).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from .config import Clock
from .validation import bad_request, optional_bool, optional_int, reject_unknown_fields, required_str

SCHEDULE_FIELDS = frozenset(
    {
        "scheduleId",
        "workflowId",
        "aggregationHourUtc",
        "aggregationPeriod",
        "aggregationStartDay",
        "scheduleEnabled",
        "requireSyntheticData",
        "disableAggregationControls",
    }
)
PERIODS = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SCHEDULE_ID = re.compile(r"[A-Za-z0-9._-]{1,256}")

Fire = Callable[["Schedule", datetime, datetime], None]
"""Creates the execution of one period: ``fire(schedule, window_start, window_end)``."""


@dataclass(frozen=True)
class Schedule:
    """A schedule's definition, as ``GET /schedules/{scheduleId}`` returns it."""

    schedule_id: str
    workflow_id: str
    period: str
    hour_utc: int
    start_day: str
    enabled: bool
    require_synthetic_data: bool = False
    disable_aggregation_controls: bool = False

    @property
    def length(self) -> timedelta:
        """How long one period lasts (a day or a week)."""
        return PERIODS[self.period]

    def first_boundary_after(self, moment: datetime) -> datetime:
        """The first boundary strictly after ``moment`` (aware UTC)."""
        day = moment.date()
        if self.period == "Weekly":
            day += timedelta(days=(WEEKDAYS.index(self.start_day) - day.weekday()) % 7)
        boundary = datetime.combine(day, time(self.hour_utc), tzinfo=moment.tzinfo)
        return boundary if boundary > moment else boundary + self.length

    def to_json(self) -> dict[str, Any]:
        return {
            "scheduleId": self.schedule_id,
            "workflowId": self.workflow_id,
            "aggregationPeriod": self.period,
            "aggregationHourUtc": self.hour_utc,
            "aggregationStartDay": self.start_day,
            "scheduleEnabled": self.enabled,
            "requireSyntheticData": self.require_synthetic_data,
            "disableAggregationControls": self.disable_aggregation_controls,
        }


def parse_schedule(data: Mapping[str, Any], *, now: datetime) -> Schedule:
    """Check a schedule body and build the definition; ``now`` gives the default start day.

    Raises:
        ApiProblem (400): unknown fields, a missing or malformed id, an unknown period or day, an
            hour outside 0-23, a flag that is not a boolean.
    """
    reject_unknown_fields(data, SCHEDULE_FIELDS)
    schedule_id = required_str(data, "scheduleId")
    if not _SCHEDULE_ID.fullmatch(schedule_id):
        raise bad_request(f"Invalid scheduleId {schedule_id}: use only letters, digits, '.', '-' and '_' (no spaces).")
    workflow_id = required_str(data, "workflowId")
    period = required_str(data, "aggregationPeriod")
    if period not in PERIODS:
        raise bad_request(f"Invalid aggregationPeriod {period}; expected Daily or Weekly.")
    start_day = data.get("aggregationStartDay") or WEEKDAYS[now.weekday()]
    if start_day not in WEEKDAYS:
        raise bad_request(f"Invalid aggregationStartDay {start_day}; expected one of {', '.join(WEEKDAYS)}.")
    return Schedule(
        schedule_id=schedule_id,
        workflow_id=workflow_id,
        period=period,
        hour_utc=optional_int(data, "aggregationHourUtc", default=0, low=0, high=23),
        start_day=start_day,
        enabled=optional_bool(data, "scheduleEnabled"),
        require_synthetic_data=optional_bool(data, "requireSyntheticData"),
        disable_aggregation_controls=optional_bool(data, "disableAggregationControls"),
    )


@dataclass(frozen=True)
class _Entry:
    schedule: Schedule
    next_boundary: datetime
    """The first boundary not yet fired (only meaningful while the schedule is enabled)."""


class ScheduleStore:
    """The instance's schedules and the periods they have fired.

    Args:
        clock: the time source periods are counted on.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._fired: set[tuple[str, datetime]] = set()
        self._lock = threading.RLock()

    def create(self, schedule: Schedule) -> None:
        with self._lock:
            if schedule.schedule_id in self._entries:
                raise bad_request(f"Schedule with ID {schedule.schedule_id} already exists.")
            self._entries[schedule.schedule_id] = self._entry(schedule)

    def get(self, schedule_id: str) -> Schedule:
        with self._lock:
            entry = self._entries.get(schedule_id)
        if entry is None:
            raise bad_request(f"Schedule with ID {schedule_id} does not exist.")
        return entry.schedule

    def replace(self, schedule: Schedule) -> None:
        """Put new settings in force from now on (the caller materialises first, so nothing due is lost)."""
        with self._lock:
            self.get(schedule.schedule_id)
            self._entries[schedule.schedule_id] = self._entry(schedule)

    def delete(self, schedule_id: str) -> None:
        with self._lock:
            if self._entries.pop(schedule_id, None) is None:
                raise bad_request(f"Schedule with ID {schedule_id} does not exist.")

    def all(self) -> list[Schedule]:
        """Every schedule, in creation order."""
        with self._lock:
            return [entry.schedule for entry in self._entries.values()]

    def using(self, workflow_id: str) -> list[str]:
        """The ids of the schedules that run ``workflow_id``."""
        with self._lock:
            return [sid for sid, entry in self._entries.items() if entry.schedule.workflow_id == workflow_id]

    def materialise(self, fire: Fire) -> int:
        """Fire every period of an enabled schedule that has ended by now; return how many fired.

        ``fire`` is called with the store's lock held, once per ``(scheduleId, period end)``, in
        the order the periods ended (across schedules, so executions are created in time order).
        If it raises, that period and the later ones stay due and fire on a later call.
        """
        with self._lock:
            now = self._clock()
            due = sorted(
                (boundary, order, schedule_id)
                for order, (schedule_id, entry) in enumerate(self._entries.items())
                if entry.schedule.enabled
                for boundary in _boundaries(entry, now)
            )
            fired = 0
            for boundary, _, schedule_id in due:
                entry = self._entries[schedule_id]
                if (schedule_id, boundary) not in self._fired:
                    fire(entry.schedule, boundary - entry.schedule.length, boundary)
                    self._fired.add((schedule_id, boundary))
                    fired += 1
                self._entries[schedule_id] = replace(entry, next_boundary=boundary + entry.schedule.length)
            return fired

    def _entry(self, schedule: Schedule) -> _Entry:
        return _Entry(schedule, schedule.first_boundary_after(self._clock()))


def _boundaries(entry: _Entry, now: datetime) -> list[datetime]:
    """The boundaries from ``entry.next_boundary`` up to ``now``, both included."""
    found, boundary = [], entry.next_boundary
    while boundary <= now:
        found.append(boundary)
        boundary += entry.schedule.length
    return found
