"""Turning a SQL template, a namespace and options into a query ready to run.

:func:`prepare_query` resolves the time window, renders ``{{name}}`` parameters, runs the SQL
checks and computes the cache key. It records and submits nothing: every mistake raises here, before
anything reaches the history or AMC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from . import params, sqlcheck
from .errors import NextStep, Remedy, SqlCheckError
from .history import cache_key
from .instances import Target
from .schema import Table
from .windows import TimeWindow, WindowType, resolve_window

if TYPE_CHECKING:
    from .engine.request import ExecutionRequest


@dataclass(frozen=True)
class PreparedQuery:
    """A query ready to run: rendered, checked, keyed.

    Attributes:
        target: where it runs.
        sql_template: the SQL as written, with ``{{name}}`` placeholders.
        sql: the rendered SQL sent to AMC.
        window: the resolved time window.
        parameter_values: each placeholder and the literal it rendered to.
        problems: what the SQL checks found (warnings only, unless validation was off or ``only``).
        cache_key: identifies identical requests.
        workflow_uuid: the saved workflow this query is a version of (its executions link to it).
        workflow_version: that version's number.
        amc_workflow: AMC's saved workflow to run instead of the SQL, and its ``parameterValues``
            (``sync=true``: the workflow is synced to the target; ``sql`` stays the local rendering
            the history records and the cache is keyed by).
    """

    target: Target
    sql_template: str
    sql: str
    window: TimeWindow
    parameter_values: dict[str, str]
    problems: tuple[sqlcheck.Problem, ...]
    cache_key: str
    workflow_uuid: str | None = None
    workflow_version: int | None = None
    amc_workflow: tuple[str, dict[str, Any]] | None = None

    @property
    def errors(self) -> list[sqlcheck.Problem]:
        return sqlcheck.errors(self.problems)

    def request(self, mark: str | None = None) -> ExecutionRequest:
        """The execution to create on AMC for this query (``mark``: the one to append to its SQL)."""
        from .engine.request import ExecutionRequest

        if self.amc_workflow is not None:
            workflow_id, parameter_values = self.amc_workflow
            return ExecutionRequest(
                instance=self.target.ref,
                workflow_id=workflow_id,
                parameter_values=parameter_values,
                window=self.window,
                options=self.target.request_options,
            )
        return ExecutionRequest(
            instance=self.target.ref, sql=self.sql, window=self.window, options=self.target.request_options, mark=mark
        )


def prepare_query(
    sql_template: str,
    namespace: Mapping[str, Any],
    *,
    target: Target,
    now: datetime,
    start: Any = None,
    end: Any = None,
    window: str | None = None,
    tz: str = "UTC",
    validate: str = "true",
    tables: Callable[[], Mapping[str, Table]],
    data_days: tuple[date, date] | None = None,
    workflow: tuple[str, int] | None = None,
) -> PreparedQuery:
    """Resolve, render, check and key one query.

    Args:
        tables: the instance's schema, read only if a real instance's query is checked.
        data_days: the first and last day of the instance's data, when known (the embedded sandbox).
        workflow: the saved workflow version (UUID, number) the execution links to.

    Raises:
        WindowError, ParameterError: bad window or parameter.
        SqlCheckError: the checks found errors (unless ``validate`` is ``false`` or ``only``).
    """
    if not sql_template.strip():
        raise SqlCheckError("The cell has no SQL.", [], hint="Write an AMC SQL query below the %%amc line.")
    resolved = resolve_window(
        start=start, end=end, window=window, tz=tz, now=now, instance_type=target.instance_type, data_days=data_days
    )
    builtins = resolved.builtins()
    sql = params.render(sql_template, namespace, builtins=builtins)
    values = {
        name: params.render("{{" + name + "}}", namespace, builtins=builtins) for name in params.placeholders(sql_template)
    }
    problems: list[sqlcheck.Problem] = []
    if validate != "false":
        problems = check_for(sql, target, tables)
        if validate == "true" and sqlcheck.errors(problems):
            raise SqlCheckError(
                "AMC would reject this query:\n" + "\n".join(p.format() for p in sqlcheck.errors(problems)),
                problems,
                hint="Fix the SQL.",
                next_steps=(NextStep(Remedy.CHECK_ONLY), NextStep(Remedy.SKIP_CHECKS)),
            )
    key = cache_key(
        instance_id=target.instance_id,
        rendered_sql=sql,
        window_start=resolved.start,
        window_end=resolved.end,
        time_zone=resolved.time_zone,
        window_type=str(resolved.window_type),
        options={**target.request_options, "embedded": target.embedded, **_relative_window_day(resolved, now)},
    )
    uuid, version = workflow or (None, None)
    return PreparedQuery(target, sql_template, sql, resolved, values, tuple(problems), key, uuid, version)


def check_for(sql: str, target: Target, tables: Callable[[], Mapping[str, Table]]) -> list[sqlcheck.Problem]:
    """The SQL checks as they apply to ``target``.

    The embedded sandbox's schema is complete, so there an unknown name is an error. A real
    instance's schema may be incomplete and our parser is not AMC's: there only AMC's own rules
    block a submission, while names and syntax AMC may know are warnings.
    """
    if target.complete_schema:
        return sqlcheck.check(sql)
    problems = sqlcheck.check(sql, tables=tables(), unknown_columns="warning")
    return [sqlcheck.Problem("warning", p.code, p.message, p.line, p.column) if p.code == "syntax" else p for p in problems]


def _relative_window_day(window: TimeWindow, now: datetime) -> dict[str, str]:
    """A window AMC resolves (most recent day, this month...) moves daily: key it by the day it ran."""
    if window.window_type == WindowType.EXPLICIT:
        return {}
    return {"resolved_on": now.astimezone(UTC).date().isoformat()}
