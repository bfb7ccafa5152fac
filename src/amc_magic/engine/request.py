"""What to run on AMC, and the create-execution body it becomes.

An ad-hoc query's SQL gets a unique comment appended (``-- amc-magic:<hex>``): the mark by which a
create whose answer was lost is found again among the instance's executions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from amc_magic.client.models import InstanceRef
from amc_magic.errors import OptionError
from amc_magic.windows import TimeWindow, local_time_text

MARK_PREFIX = "-- amc-magic:"


def new_mark() -> str:
    """A fresh unique mark (32 hex digits)."""
    return uuid.uuid4().hex


def mark_sql(sql: str, mark: str) -> str:
    """``sql`` with the mark comment on a line of its own at the end."""
    return f"{sql.rstrip()}\n{MARK_PREFIX}{mark}"


@dataclass(frozen=True)
class ExecutionRequest:
    """An execution to create: an ad-hoc query (``sql``) or a saved workflow (``workflow_id``).

    Attributes:
        instance: the AMC instance and the ids for its headers.
        sql: the rendered AMC SQL of an ad-hoc query.
        workflow_id: the saved workflow to run instead.
        start: window start, local time in ``time_zone`` (an aware datetime is converted to it).
        end: window end (exclusive), same rules.
        time_window_type: AMC's ``timeWindowType``; ``EXPLICIT`` when ``start``/``end`` are given,
            otherwise AMC's default unless set (e.g. ``MOST_RECENT_WEEK``).
        time_zone: IANA zone sent as ``timeWindowTimeZone`` (AMC's default is UTC).
        window: a resolved window, instead of ``start``/``end``/``time_window_type``/``time_zone``.
        parameter_values: values for the workflow's ``CUSTOM_PARAMETER``s.
        options: further body fields passed through as they are, e.g.
            ``{"requireSyntheticData": True}`` for a sandbox instance.
        mark: the mark to append to ad-hoc SQL (default: a fresh one per create); a caller that
            records it before submitting can find the execution again after a crash.
    """

    instance: InstanceRef
    sql: str | None = None
    workflow_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    time_window_type: str | None = None
    time_zone: str | None = None
    window: TimeWindow | None = None
    parameter_values: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    mark: str | None = None

    def __post_init__(self) -> None:
        if (self.sql is None) == (self.workflow_id is None):
            raise OptionError("An execution needs either SQL or a workflow id, not both and not neither.")
        if (self.start is None) != (self.end is None):
            raise OptionError("A time window needs both a start and an end.")
        if self.start is not None and self.time_window_type not in (None, "EXPLICIT"):
            raise OptionError(f"A start and an end make an EXPLICIT window, not {self.time_window_type}.")
        if self.window is not None and (self.start, self.end, self.time_window_type, self.time_zone) != (None,) * 4:
            raise OptionError("Give a resolved window or its fields, not both.")

    def body(self, mark: str | None) -> dict[str, Any]:
        """The ``POST /workflowExecutions`` body, with ``mark`` appended to ad-hoc SQL."""
        body: dict[str, Any] = dict(self.options)
        if self.sql is not None:
            body["workflow"] = {"sqlQuery": mark_sql(self.sql, mark) if mark else self.sql}
        else:
            body["workflowId"] = self.workflow_id
        if self.window is not None:
            body.update(self.window.request_fields())
        elif self.start is not None and self.end is not None:
            body["timeWindowType"] = "EXPLICIT"
            body["timeWindowStart"] = self._local(self.start)
            body["timeWindowEnd"] = self._local(self.end)
        elif self.time_window_type is not None:
            body["timeWindowType"] = self.time_window_type
        if self.time_zone is not None:
            body["timeWindowTimeZone"] = self.time_zone
        if self.parameter_values:
            body["parameterValues"] = dict(self.parameter_values)
        return body

    def _local(self, moment: datetime) -> str:
        return local_time_text(moment, self.time_zone or "UTC")
