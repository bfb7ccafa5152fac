"""Saved workflows: their definition, their input parameters, and the store that keeps them.

A workflow is a ``workflowId`` (letters, digits, ``.``, ``-``, ``_``) and a ``sqlQuery``, with optional
``inputParameters`` the SQL reads through ``CUSTOM_PARAMETER('name')``. At execution time a value
comes from ``parameterValues``, else from the declaration's ``defaultValue``; a declared parameter
with neither is a 400. Values are converted to the declared type (AMC's API carries them as strings
as often as as JSON values). Other workflow fields (``outputColumns``, ``outputFormat``,
``filteredMetricsDiscriminatorColumn`` ...) are kept and echoed back.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .validation import (
    bad_request,
    optional_list,
    optional_str,
    reject_unknown_fields,
    required_str,
)

WORKFLOW_FIELDS = frozenset(
    {
        "workflowId",
        "sqlQuery",
        "inputParameters",
        "outputColumns",
        "outputFormat",
        "filteredMetricsDiscriminatorColumn",
        "distinctUserCountColumn",
        "filteredReasonColumn",
        "privacyFilteringBehavior",
        "inputSchema",
        "query",
    }
)
_PARAMETER_FIELDS = frozenset({"name", "dataType", "columnType", "defaultValue", "description", "displayName"})
_SIMPLE_TYPES = frozenset(
    {
        "BINARY",
        "BOOLEAN",
        "BYTE",
        "CALENDAR_INTERVAL",
        "DATE",
        "DECIMAL",
        "DOUBLE",
        "FLOAT",
        "INTEGER",
        "LONG",
        "SHORT",
        "STRING",
        "TIMESTAMP",
    }
)
_WORKFLOW_ID = re.compile(r"[A-Za-z0-9._-]{1,256}")
_MISSING = object()


@dataclass(frozen=True)
class InputParameter:
    """One declared input parameter."""

    name: str
    data_type: str | None
    element_type: str | None = None
    default: Any = _MISSING
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The declaration as AMC echoes it (arrays as ``{"type","elementDataType","elementNullable"}``)."""
        out: dict[str, Any] = {"name": self.name, **self.extra}
        if self.element_type:
            out["dataType"] = {"type": "ARRAY", "elementDataType": self.element_type, "elementNullable": False}
        elif self.data_type:
            out["dataType"] = self.data_type
        if self.default is not _MISSING:
            out["defaultValue"] = self.default
        return out


@dataclass(frozen=True)
class Workflow:
    """A workflow definition (saved, or the inline one of an ad hoc execution)."""

    workflow_id: str
    sql_query: str
    input_parameters: tuple[InputParameter, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"workflowId": self.workflow_id, "sqlQuery": self.sql_query, **self.extra}
        if self.input_parameters:
            out["inputParameters"] = [p.to_json() for p in self.input_parameters]
        return out


def parse_workflow(data: Mapping[str, Any], *, workflow_id: str | None, max_sql_bytes: int) -> Workflow:
    """Check a workflow body and build the definition.

    Args:
        data: the JSON object.
        workflow_id: the id to use; None takes the required ``workflowId`` from ``data``.
        max_sql_bytes: the largest ``sqlQuery`` accepted.

    Raises:
        ApiProblem (400): unknown fields, a bad id, a missing or oversized query, bad parameters.
    """
    reject_unknown_fields(data, WORKFLOW_FIELDS)
    if workflow_id is None:
        workflow_id = required_str(data, "workflowId")
        if not _WORKFLOW_ID.fullmatch(workflow_id):
            raise bad_request(
                f"Invalid workflowId {workflow_id}: use only letters, digits, '.', '-' and '_' (no spaces)."
            )
    sql = required_str(data, "sqlQuery")
    if len(sql.encode("utf-8")) > max_sql_bytes:
        raise bad_request(f"sqlQuery is too large: the limit is {max_sql_bytes} bytes.")
    parameters = tuple(_parse_parameter(p) for p in optional_list(data, "inputParameters"))
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise bad_request("inputParameters declares the same name twice.")
    extra = {k: v for k, v in data.items() if k not in ("workflowId", "sqlQuery", "inputParameters")}
    return Workflow(workflow_id, sql, parameters, extra)


def resolve_parameters(workflow: Workflow, values: Any) -> dict[str, Any]:
    """The parameter values an execution runs with: ``parameterValues`` over declared defaults.

    Raises:
        ApiProblem (400): ``values`` is not an object, a declared parameter has no value, or a value
            does not convert to its declared type.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise bad_request("Field parameterValues must be an object.")
    resolved = dict(values)
    for parameter in workflow.input_parameters:
        value = values.get(parameter.name, parameter.default)
        if value is _MISSING:
            raise bad_request(
                f"Was unable to compile workflow {workflow.workflow_id}: "
                f"no value was given for input parameter {parameter.name}."
            )
        resolved[parameter.name] = _convert(parameter, value)
    return resolved


class WorkflowStore:
    """The saved workflows of the instance."""

    def __init__(self) -> None:
        self._workflows: dict[str, Workflow] = {}
        self._lock = threading.Lock()

    def create(self, workflow: Workflow) -> None:
        with self._lock:
            if workflow.workflow_id in self._workflows:
                raise bad_request(f"Workflow with ID {workflow.workflow_id} already exists.")
            self._workflows[workflow.workflow_id] = workflow

    def get(self, workflow_id: str) -> Workflow:
        with self._lock:
            workflow = self._workflows.get(workflow_id)
        if workflow is None:
            raise bad_request(f"Workflow with ID {workflow_id} does not exist.")
        return workflow

    def replace(self, workflow: Workflow) -> None:
        with self._lock:
            if workflow.workflow_id not in self._workflows:
                raise bad_request(f"Workflow with ID {workflow.workflow_id} does not exist.")
            self._workflows[workflow.workflow_id] = workflow

    def delete(self, workflow_id: str) -> None:
        with self._lock:
            if self._workflows.pop(workflow_id, None) is None:
                raise bad_request(f"Workflow with ID {workflow_id} does not exist.")

    def all(self) -> list[Workflow]:
        """Every saved workflow, in creation order."""
        with self._lock:
            return list(self._workflows.values())


def _parse_parameter(item: Any) -> InputParameter:
    if not isinstance(item, dict):
        raise bad_request("Each entry of inputParameters must be an object.")
    reject_unknown_fields(item, _PARAMETER_FIELDS)
    name = required_str(item, "name")
    for key in ("columnType", "description", "displayName"):
        optional_str(item, key)
    data_type, element_type = _parse_data_type(item.get("dataType"), name)
    extra = {k: item[k] for k in ("columnType", "description", "displayName") if item.get(k) is not None}
    parameter = InputParameter(name, data_type, element_type, item.get("defaultValue", _MISSING), extra)
    if parameter.default is not _MISSING:
        _convert(parameter, parameter.default)
    return parameter


def _parse_data_type(value: Any, name: str) -> tuple[str | None, str | None]:
    """``(type, element type)``; the element type is set for arrays."""
    if value is None:
        return None, None
    if isinstance(value, str) and value.upper() in _SIMPLE_TYPES:
        return value.upper(), None
    if isinstance(value, dict) and str(value.get("type", "")).upper() == "ARRAY":
        element = str(value.get("elementDataType", "")).upper()
        if element in _SIMPLE_TYPES:
            return "ARRAY", element
    raise bad_request(f"Invalid dataType for input parameter {name}.")


def _convert(parameter: InputParameter, value: Any) -> Any:
    """``value`` converted to the parameter's declared type (an array may come as a JSON string)."""
    if parameter.element_type:
        if isinstance(value, str) and value.strip().startswith("["):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        if not isinstance(value, list):
            raise bad_request(f"Input parameter {parameter.name} expects an array.")
        return [_convert_simple(parameter.name, parameter.element_type, v) for v in value]
    if parameter.data_type is None:
        return value
    return _convert_simple(parameter.name, parameter.data_type, value)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "INTEGER": int,
    "LONG": int,
    "SHORT": int,
    "BYTE": int,
    "DOUBLE": float,
    "FLOAT": float,
    "DECIMAL": lambda v: Decimal(str(v)),
    "DATE": lambda v: v if isinstance(v, date) else date.fromisoformat(str(v)),
    "TIMESTAMP": lambda v: v if isinstance(v, datetime) else datetime.fromisoformat(str(v).removesuffix("Z")),
}


def _convert_simple(name: str, data_type: str, value: Any) -> Any:
    """One value as ``data_type``: numbers from numbers or numeric strings, booleans from true/false."""
    if value is None:
        return None
    if data_type == "BOOLEAN":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif data_type in _CONVERTERS:
        whole_number_expected = _CONVERTERS[data_type] is int
        if not isinstance(value, bool) and not (whole_number_expected and isinstance(value, float)):
            try:
                return _CONVERTERS[data_type](value)
            except (ValueError, TypeError, InvalidOperation):
                pass
    elif isinstance(value, str | int | float):
        return str(value)
    raise bad_request(f"Value {value!r} of input parameter {name} is not a valid {data_type}.")
