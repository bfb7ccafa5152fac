"""AMC's schedule endpoints, and the executions schedules run, on top of :class:`~.api.AmcApi`.

- ``POST /schedules`` creates a schedule for a saved workflow; 200 ``{}``.
- ``GET /schedules`` lists them, ``{"schedules": [...], "nextToken"}`` (``limit`` 1-100).
- ``GET /schedules/{scheduleId}`` returns one, at the top level like a workflow (AMC's OpenAPI
  models a ``{"schedule": ...}`` wrapper; the sandbox follows its samples, which never wrap).
- ``PUT /schedules/{scheduleId}`` updates one; 200 ``{}``. AMC's guide says to "provide the updated
  values for the individual parameters you want to modify", so fields left out keep their values
  (``{"scheduleEnabled": false}`` disables a schedule).
- ``DELETE /schedules/{scheduleId}``; 200 ``{}``.

Errors are AMC's 400s with ``details``: ``Schedule with ID ... already exists.`` / ``... does not
exist.``, ``Workflow with ID ... does not exist.``, and the field checks of
:func:`~.schedules.parse_schedule`. The optional ``marketplaceId`` query parameter is accepted and
ignored (the sandbox has one marketplace).

:meth:`ScheduleApi.materialise` creates the executions of the periods that have ended (see
``schedules``); the app calls it before every AMC request. Each is a run of the saved workflow over
its period as an EXPLICIT UTC window, with the workflow's default parameter values,
``executionCategory: "SCHEDULED"`` (the ad hoc category is ``AD_HOC``; AMC's documents name no
value for a schedule's runs, so this one is the sandbox's) and ``createTime`` at the period's end.
They are listed by ``GET /workflowExecutions`` (``workflowId`` filters them) and download like any
other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .api import AmcApi, ApiRequest, _page
from .executions import ExecutionSpec
from .schedules import Schedule, parse_schedule
from .time_window import ResolvedWindow
from .validation import bad_request, parse_json_object


class ScheduleApi:
    """The schedule endpoints of one sandbox instance (its workflows and executions are ``api``'s)."""

    def __init__(self, api: AmcApi) -> None:
        self.api = api

    def create_schedule(self, request: ApiRequest) -> dict[str, Any]:
        schedule = parse_schedule(parse_json_object(request.body), now=self.api.config.clock())
        self.api.workflows.get(schedule.workflow_id)
        self.api.schedules.create(schedule)
        return {}

    def list_schedules(self, request: ApiRequest) -> dict[str, Any]:
        return _page("schedules", [s.to_json() for s in self.api.schedules.all()], request.query)

    def get_schedule(self, request: ApiRequest) -> dict[str, Any]:
        return self.api.schedules.get(request.path["scheduleId"]).to_json()

    def update_schedule(self, request: ApiRequest) -> dict[str, Any]:
        schedule_id = request.path["scheduleId"]
        data = parse_json_object(request.body)
        if data.get("scheduleId", schedule_id) != schedule_id:
            raise bad_request("The scheduleId in the body does not match the scheduleId in the path.")
        current = self.api.schedules.get(schedule_id)
        schedule = parse_schedule({**current.to_json(), **data}, now=self.api.config.clock())
        if schedule.workflow_id != current.workflow_id:
            self.api.workflows.get(schedule.workflow_id)
        self.materialise()
        self.api.schedules.replace(schedule)
        return {}

    def delete_schedule(self, request: ApiRequest) -> dict[str, Any]:
        self.materialise()
        self.api.schedules.delete(request.path["scheduleId"])
        return {}

    def materialise(self) -> int:
        """Create the executions of every period that has ended by now; return how many."""
        return self.api.schedules.materialise(self._fire)

    def _fire(self, schedule: Schedule, start: datetime, end: datetime) -> None:
        spec = ExecutionSpec(
            workflow=self.api.workflows.get(schedule.workflow_id),
            window=ResolvedWindow("EXPLICIT", start, end, None, None, None),
            parameter_values={},
            echoed={
                "ignoreDataGaps": False,
                "disableAggregationControls": schedule.disable_aggregation_controls,
                "requireSyntheticData": schedule.require_synthetic_data,
            },
            category="SCHEDULED",
        )
        self.api.submit_scheduled(spec, created_at=end)
