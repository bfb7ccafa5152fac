"""The schema's value types: thresholds, column kinds, columns and tables, and how tables are assembled."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property


class Threshold(enum.IntEnum):
    """AMC aggregation thresholds, ordered from least to most protected."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    VERY_HIGH = 4

    @property
    def min_users(self) -> int:
        """Distinct users an output row needs when a column of this threshold is in it."""
        return {0: 1, 1: 2, 2: 100, 3: 100, 4: 100}[self.value]


class Kind(enum.Enum):
    DIMENSION = "DIMENSION"
    METRIC = "METRIC"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # AMC type: STRING, LONG, INTEGER, DOUBLE, DECIMAL, BOOLEAN, DATE, TIMESTAMP, ARRAY<...>
    kind: Kind
    threshold: Threshold
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    time_column: str  # the UTC timestamp AMC's time window applies to
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column | None:
        """The column named ``name`` (case-insensitive), or None."""
        return self._by_name.get(name.lower())

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        return {c.name.lower(): c for c in self.columns}

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)


D, M = Kind.DIMENSION, Kind.METRIC
NONE, LOW, MEDIUM, HIGH, VERY_HIGH = (
    Threshold.NONE,
    Threshold.LOW,
    Threshold.MEDIUM,
    Threshold.HIGH,
    Threshold.VERY_HIGH,
)
STRING, LONG, INTEGER, DOUBLE, DECIMAL = "STRING", "LONG", "INTEGER", "DOUBLE", "DECIMAL"
BOOLEAN, DATE, TIMESTAMP = "BOOLEAN", "DATE", "TIMESTAMP"
LONGS, INTEGERS = "ARRAY<LONG>", "ARRAY<INTEGER>"

_LOCAL = "in the advertiser's time zone"

Spec = tuple[str, Kind, Threshold, str]
"""A column without its name: AMC type, kind, threshold, description."""
Specs = dict[str, Spec]


def moments(prefix: str, what: str) -> Specs:
    """The ten time columns AMC derives from one event time, e.g. ``impression_dt_utc`` ... ``impression_hour``."""
    return {
        f"{prefix}_dt_utc": (TIMESTAMP, D, MEDIUM, f"Time of {what} (UTC)."),
        f"{prefix}_dt": (TIMESTAMP, D, MEDIUM, f"Time of {what} {_LOCAL}."),
        f"{prefix}_dt_hour_utc": (TIMESTAMP, D, LOW, f"Time of {what} (UTC), truncated to the hour."),
        f"{prefix}_dt_hour": (TIMESTAMP, D, LOW, f"Time of {what} {_LOCAL}, truncated to the hour."),
        f"{prefix}_date_utc": (DATE, D, LOW, f"Date of {what} (UTC)."),
        f"{prefix}_date": (DATE, D, LOW, f"Date of {what} {_LOCAL}."),
        f"{prefix}_day_utc": (INTEGER, D, LOW, f"Day of the month of {what} (UTC)."),
        f"{prefix}_day": (INTEGER, D, LOW, f"Day of the month of {what} {_LOCAL}."),
        f"{prefix}_hour_utc": (INTEGER, D, LOW, f"Hour of the day (0-23) of {what} (UTC)."),
        f"{prefix}_hour": (INTEGER, D, LOW, f"Hour of the day (0-23) of {what} {_LOCAL}."),
    }


def flight(prefix: str, what: str, date_type: str) -> Specs:
    """Start and end of a campaign, line item or ad group: ``*_date`` columns of ``date_type``, ``*_dt`` timestamps."""
    specs: Specs = {}
    for edge in ("start", "end"):
        specs[f"{prefix}_{edge}_date"] = (date_type, D, LOW, f"{edge.title()} of {what} {_LOCAL}.")
        specs[f"{prefix}_{edge}_date_utc"] = (date_type, D, LOW, f"{edge.title()} of {what} (UTC).")
        specs[f"{prefix}_{edge}_dt"] = (TIMESTAMP, D, LOW, f"{edge.title()} time of {what} {_LOCAL}.")
        specs[f"{prefix}_{edge}_dt_utc"] = (TIMESTAMP, D, LOW, f"{edge.title()} time of {what} (UTC).")
    return specs


def build_table(
    name: str, description: str, time_column: str, names: str, catalog: Mapping[str, Spec], *extra: Specs
) -> Table:
    """A table of the columns ``names`` (whitespace-separated) looked up in ``extra`` then ``catalog``, sorted by name.

    Raises:
        KeyError: a name is in neither.
    """
    specs: dict[str, Spec] = {}
    for column in names.split():
        specs[column] = next((e[column] for e in reversed(extra) if column in e), None) or catalog[column]
    columns = tuple(Column(n, *specs[n]) for n in sorted(specs))
    if time_column not in specs:
        raise KeyError(time_column)
    return Table(name, description, time_column, columns)
