"""Read-only views for the notebook: the ``validate=only`` report and one execution's details."""

from __future__ import annotations

import difflib
import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from .durations import format_duration
from .errors import NotFoundError, SqlCheckError
from .history import ExecutionRecord, InstanceRecord
from .instances import SANDBOX, Target
from .schema import Table

if TYPE_CHECKING:
    from .prepared import PreparedQuery


class ValidationReport:
    """What ``validate=only`` shows: the rendered SQL, the window and the checks' verdict."""

    def __init__(self, prepared: PreparedQuery) -> None:
        self.prepared = prepared
        self.sql = prepared.sql
        self.problems = list(prepared.problems)
        self.ok = not prepared.errors

    @property
    def verdict(self) -> str:
        errors = len(self.prepared.errors)
        warnings = len(self.problems) - errors
        if errors:
            return f"AMC would reject this query: {errors} error(s), {warnings} warning(s)."
        if warnings:
            return f"The checks passed with {warnings} warning(s). Nothing was submitted."
        return "The checks passed. Nothing was submitted."

    def error(self) -> SqlCheckError:
        """The error that fails a ``validate=only`` cell whose checks found errors."""
        errors = self.prepared.errors
        return SqlCheckError(
            "AMC would reject this query:\n" + "\n".join(p.format() for p in errors),
            list(self.problems),
            hint="Fix the SQL above and run the cell again; nothing was submitted.",
        )

    def _lines(self) -> list[str]:
        window = self.prepared.window
        lines = [
            self.verdict,
            f"instance: {self.prepared.target.instance_id}",
            f"window: {window.describe()}",
            *(f"  warning: {w}" for w in window.warnings),
            *(f"  {p.severity}: {p.format()}" for p in self.problems),
            "rendered SQL:",
            self.sql,
        ]
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines())

    def _repr_html_(self) -> str:
        colour = "#15803d" if self.ok else "#b91c1c"
        items = "".join(
            f"<li><b>{p.severity}</b>: {html.escape(p.format())}</li>" for p in self.problems
        ) + "".join(f"<li><b>warning</b>: {html.escape(w)}</li>" for w in self.prepared.window.warnings)
        return (
            f'<div><b style="color:{colour}">{html.escape(self.verdict)}</b>'
            f"<br>instance {html.escape(self.prepared.target.instance_id)} &middot; "
            f"window {html.escape(self.prepared.window.describe())}"
            + (f"<ul>{items}</ul>" if items else "")
            + f"<pre>{html.escape(self.sql)}</pre></div>"
        )


def execution_details(record: ExecutionRecord) -> pd.Series:
    """Everything recorded about one execution, as a Series (``%amc show``)."""
    duration = None
    if record.submitted_at and record.finished_at:
        duration = format_duration((record.finished_at - record.submitted_at).total_seconds())
    values = {
        "id": record.id,
        "amc_execution_id": record.amc_execution_id,
        "instance": record.instance_id,
        "status": record.status,
        "status_reason": record.status_reason,
        "window": _window(record),
        "time_zone": record.time_zone,
        "created": record.created_at,
        "submitted": record.submitted_at,
        "started": record.started_at,
        "finished": record.finished_at,
        "duration": duration,
        "polls": record.poll_count,
        "last_polled": record.last_polled_at,
        "rows": record.row_count,
        "columns": ", ".join(f"{c['name']} {c.get('dataType', '')}".strip() for c in record.output_columns or []) or None,
        "bytes_downloaded": record.bytes_downloaded,
        "parameters": record.parameter_values or None,
        "sql": record.rendered_sql,
    }
    return pd.Series(values, name=record.short_id, dtype=object)


def _window(record: ExecutionRecord) -> str:
    if record.window_start is None or record.window_end is None:
        return record.window_type
    return f"{record.window_start:%Y-%m-%d %H:%M} → {record.window_end:%Y-%m-%d %H:%M} UTC"


def instances_frame(sandbox: Target, records: Sequence[InstanceRecord]) -> pd.DataFrame:
    """The embedded sandbox and the connected instances, one row each (``%amc instances``)."""
    rows = [
        {
            "instance": SANDBOX,
            "instance_id": sandbox.instance_id,
            "type": sandbox.instance_type,
            "advertiser_id": sandbox.ref.advertiser_id,
            "marketplace_id": sandbox.ref.marketplace_id,
            "api_url": "(in-process emulator)",
            "name": "amc-magic sandbox",
        }
    ]
    rows.extend(
        {
            "instance": record.instance_id,
            "instance_id": record.instance_id,
            "type": record.instance_type,
            "advertiser_id": record.entity_id,
            "marketplace_id": record.marketplace_id,
            "api_url": record.api_url,
            "name": record.name,
        }
        for record in records
    )
    return pd.DataFrame(rows)


def schema_frame(tables: Mapping[str, Table], table: str | None, instance_id: str) -> pd.DataFrame:
    """The tables of a schema, or one table's columns (``%amc schema``).

    Raises:
        NotFoundError: no such table (with a "did you mean").
    """
    if table is None:
        return pd.DataFrame(
            [
                {"table": t.name, "columns": len(t.columns), "time_column": t.time_column, "description": t.description}
                for t in tables.values()
            ]
        )
    found = tables.get(table.lower())
    if found is None:
        close = difflib.get_close_matches(table.lower(), list(tables), n=1)
        raise NotFoundError(
            f"No table {table!r} in the schema of {instance_id}.",
            hint=f"Did you mean {close[0]!r}?" if close else "`%amc schema` lists the tables.",
        )
    return pd.DataFrame(
        [
            {"column": c.name, "type": c.data_type, "kind": c.kind.value, "threshold": c.threshold.name, "description": c.description}
            for c in found.columns
        ]
    )
