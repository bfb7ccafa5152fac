"""Runs AMC SQL on the sandbox's synthetic data, as AMC would: inside a time window, with thresholds.

:class:`SandboxDatabase` opens the cached DuckDB file (``data``) read-only on first use and answers
:meth:`SandboxDatabase.run` from any number of threads, each call on its own cursor. A run translates
the query (``dialect``), adds the hidden user columns of the aggregation thresholds unless they are
disabled (``thresholds``), executes it, removes the rows below their threshold and returns a
:class:`QueryOutput` whose columns carry AMC types. Rows come sorted by all columns unless the query
orders them, so equal queries give equal results.

DuckDB's parser, binder and catalog errors are AMC compile errors (:class:`~amc_magic.sandbox.problems.CompileProblem`);
errors while the query runs fail the execution (:class:`~amc_magic.sandbox.problems.QueryFailure`). Queries
reach only the six AMC tables, and the connection has DuckDB's file access switched off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from .problems import QueryFailure
from . import dialect, thresholds
from .data import DataSpec, ensure_database

Clock = Callable[[], datetime]

# DuckDB result types (by prefix) -> (DuckDB type to cast to, AMC type); anything else becomes STRING.
_OUTPUT_TYPES: tuple[tuple[str, str | None, str], ...] = (
    ("BIGINT", None, "LONG"),
    ("HUGEINT", "BIGINT", "LONG"),
    ("UBIGINT", "BIGINT", "LONG"),
    ("UINTEGER", "BIGINT", "LONG"),
    ("INTEGER", None, "INTEGER"),
    ("SMALLINT", "INTEGER", "INTEGER"),
    ("TINYINT", "INTEGER", "INTEGER"),
    ("USMALLINT", "INTEGER", "INTEGER"),
    ("UTINYINT", "INTEGER", "INTEGER"),
    ("DOUBLE", None, "DOUBLE"),
    ("FLOAT", "DOUBLE", "DOUBLE"),
    ("DECIMAL", None, "DECIMAL"),
    ("BOOLEAN", None, "BOOLEAN"),
    ("DATE", None, "DATE"),
    ("TIMESTAMP", "TIMESTAMP", "TIMESTAMP"),
    ("VARCHAR", None, "STRING"),
)
_COMPILE_ERRORS = (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)


@dataclass(frozen=True)
class QueryOutput:
    """A query's result.

    Attributes:
        columns: ``(name, AMC type)`` of each column: LONG, INTEGER, DOUBLE, DECIMAL, BOOLEAN, DATE,
            TIMESTAMP or STRING.
        table: the rows.
        filtered_rows: rows removed by the aggregation thresholds.
    """

    columns: list[tuple[str, str]]
    table: pa.Table
    filtered_rows: int


class SandboxDatabase:
    """The sandbox's data, queried with AMC SQL.

    Args:
        spec: which synthetic dataset.
        cache_dir: where data files are cached (default: ``data.default_cache_dir()``).
        clock: the current time (aware, or naive UTC) for ``CAST('now' AS TIMESTAMP)`` and friends.
    """

    def __init__(self, spec: DataSpec, cache_dir: Path | None = None, *, clock: Clock | None = None) -> None:
        self._spec = spec
        self._cache_dir = cache_dir
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def first_day(self) -> date:
        return self._spec.first_day

    @property
    def last_day(self) -> date:
        return self._spec.last_day

    def open(self) -> None:
        """Find or generate the data and open it now, instead of on the first run."""
        self._cursor().close()

    def close(self) -> None:
        """Close the database; a later run opens it again."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def run(
        self,
        sql: str,
        *,
        window_start: datetime,
        window_end: datetime,
        parameters: Mapping[str, object] | None = None,
        disable_aggregation_controls: bool = False,
    ) -> QueryOutput:
        """Run an AMC query on the rows inside ``[window_start, window_end)``.

        Args:
            sql: the AMC SQL.
            window_start: inclusive start of the time window, naive UTC.
            window_end: exclusive end of the time window, naive UTC.
            parameters: ``CUSTOM_PARAMETER`` values (the execution's ``parameterValues`` over the
                workflow's defaults).
            disable_aggregation_controls: keep rows below their aggregation threshold.

        Raises:
            CompileProblem: the query cannot be parsed, translated or bound.
            QueryFailure: the query failed while running.
        """
        context = dialect.QueryContext(
            _naive_utc(window_start), _naive_utc(window_end), parameters or {}, _naive_utc(self._clock())
        )
        prepared = dialect.prepare(sql, context)
        threshold_plan = None if disable_aggregation_controls else thresholds.plan(prepared.tree)
        duckdb_sql = dialect.to_duckdb(threshold_plan.query if threshold_plan else prepared.tree, context)
        hidden = len(threshold_plan.paths) if threshold_plan else 0
        cursor = self._cursor()
        try:
            table, columns = _execute(cursor, duckdb_sql, hidden, ordered=prepared.ordered)
        finally:
            cursor.close()
        filtered = 0
        if threshold_plan:
            table, filtered = thresholds.apply(table, threshold_plan)
        if prepared.names and len(prepared.names) == len(columns):
            columns = [(name, amc_type) for name, (_, amc_type) in zip(prepared.names, columns, strict=True)]
        return QueryOutput(columns, table.rename_columns([name for name, _ in columns]), filtered)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                path = ensure_database(self._spec, self._cache_dir)
                con = duckdb.connect(str(path), read_only=True)
                con.execute("LOAD icu")
                con.execute("SET GLOBAL TimeZone = 'UTC'")
                con.execute("SET enable_external_access = false")  # queries read the data, never files
                self._con = con
            cursor = self._con.cursor()
        cursor.execute("SET enable_progress_bar = false")
        return cursor


def _execute(
    cursor: duckdb.DuckDBPyConnection, sql: str, hidden: int, *, ordered: bool
) -> tuple[pa.Table, list[tuple[str, str]]]:
    """Run ``sql`` with its visible columns cast to AMC types; the table, and (name, AMC type) of those."""
    try:
        relation = cursor.sql(sql)
        visible = len(relation.columns) - hidden
        casts, types = [], []
        for k, duck_type in enumerate(relation.types):
            target, amc_type = _output_type(str(duck_type)) if k < visible else (None, "")
            casts.append(f"CAST(#{k + 1} AS {target})" if target else f"#{k + 1}")
            types.append(amc_type)
        aliases = ", ".join(f'{cast} AS "c{k}"' for k, cast in enumerate(casts))
        order = "" if ordered else " ORDER BY ALL"
        table = cursor.sql(f"SELECT {aliases} FROM ({sql}) AS __amc_result{order}").to_arrow_table()
    except _COMPILE_ERRORS as error:
        raise dialect.compile_error(_first_line(error)) from None
    except duckdb.Error as error:
        reason = f"Query execution failed: {_first_line(error)}"
        raise QueryFailure(reason) from None
    return table, list(zip(relation.columns[:visible], types[:visible], strict=True))


def _output_type(duck_type: str) -> tuple[str | None, str]:
    if duck_type.endswith("]") or duck_type.startswith(("STRUCT", "MAP", "UNION")):
        return "VARCHAR", "STRING"
    for prefix, target, amc_type in _OUTPUT_TYPES:
        if duck_type.startswith(prefix):
            return target, amc_type
    return "VARCHAR", "STRING"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
