"""Typed views of the AMC objects the engine reads: the instance it talks to and an execution.

Only the fields the product relies on are typed; the whole JSON body stays in ``raw`` so nothing
AMC said is lost (a history row keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from amc_magic.statuses import AMC_TERMINAL, AmcStatus

TERMINAL_STATUSES = AMC_TERMINAL
KNOWN_STATUSES = frozenset(AmcStatus)


@dataclass(frozen=True)
class InstanceRef:
    """Which AMC instance a call goes to, and the ids AMC wants in its headers.

    Attributes:
        instance_id: the AMC instance id, e.g. ``amc1a2b3c4d``.
        advertiser_id: the AMC account (entity) id, e.g. ``ENTITY1AA1AA11AAA1``.
        marketplace_id: the marketplace, e.g. ``ATVPDKIKX0DER`` (US).
    """

    instance_id: str
    advertiser_id: str
    marketplace_id: str


@dataclass(frozen=True)
class OutputColumn:
    """One column of an execution's result, as AMC describes it in ``outputColumns``."""

    name: str
    data_type: str
    column_type: str | None = None

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> OutputColumn:
        """Build from an ``outputColumns`` item (``{"name", "dataType", "columnType"}``)."""
        data_type = item.get("dataType") or "STRING"
        if isinstance(data_type, Mapping):  # complex types come as {"type": "ARRAY", ...}
            data_type = data_type.get("type") or "STRING"
        return cls(str(item["name"]), str(data_type).upper(), item.get("columnType"))


@dataclass(frozen=True)
class AmcExecution:
    """An execution as AMC last described it.

    Attributes:
        execution_id: AMC's ``workflowExecutionId`` (a UUID).
        status: AMC's status, e.g. ``PENDING``, ``RUNNING``, ``SUCCEEDED``.
        status_reason: AMC's ``statusReason``, if any (why it failed, for instance).
        workflow_id: the saved workflow, or ``transient_<uuid>`` for an ad-hoc query.
        create_time: when AMC created it (aware, UTC), if given.
        output_columns: the result's columns (AMC fills them in once the query compiled).
        sql_query: the SQL, present only when asked for with ``includeWorkflow=true``.
        raw: the whole JSON object.
    """

    execution_id: str
    status: str
    status_reason: str | None = None
    workflow_id: str | None = None
    create_time: datetime | None = None
    output_columns: tuple[OutputColumn, ...] = ()
    sql_query: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        """Whether AMC will not change this execution's status any more."""
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AmcExecution:
        """Build from AMC's execution object (top-level, or wrapped in ``workflowExecution``)."""
        body = data.get("workflowExecution", data)
        workflow = body.get("workflow") if isinstance(body.get("workflow"), Mapping) else {}
        return cls(
            execution_id=str(body["workflowExecutionId"]),
            status=str(body.get("status") or "UNKNOWN").upper(),
            status_reason=body.get("statusReason") or None,
            workflow_id=body.get("workflowId") or workflow.get("workflowId"),
            create_time=parse_amc_time(body.get("createTime")),
            output_columns=tuple(OutputColumn.from_json(c) for c in body.get("outputColumns") or ()),
            sql_query=body.get("sqlQuery") or workflow.get("sqlQuery"),
            raw=dict(body),
        )


def parse_amc_time(value: object) -> datetime | None:
    """Parse AMC's ``yyyy-MM-ddTHH:mm:ss[.fff]Z`` timestamps as aware UTC datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_amc_time(moment: datetime) -> str:
    """Format an aware datetime the way AMC's query parameters expect (``yyyy-MM-ddTHH:mm:ssZ``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
