"""AMC SQL, parsed with sqlglot and translated to DuckDB.

:class:`AmcSql` reads AMC SQL: Spark SQL's grammar and functions, with Calcite's quoting (``'text'``,
``"identifier"`` or ```identifier```) and ``TIMESTAMP`` meaning a time without zone. A query goes
through two steps:

* :func:`prepare` parses it, replaces ``BUILT_IN_PARAMETER``, ``CUSTOM_PARAMETER``, ``CURRENT_DATE``,
  ``CURRENT_TIMESTAMP`` and ``CAST('today' AS DATE)``/``CAST('now' AS TIMESTAMP)`` by literals, turns
  ``[TABLE(]EXTEND_TIME_WINDOW('table', 'P14D', 'P1D')[)]`` into a plain table reference that
  remembers its extension, checks tables and functions, and qualifies every column (sqlglot's
  ``qualify``, against :data:`amc_magic.schema.TABLES`).
* :func:`to_duckdb` replaces every table by the rows inside the time window (its ``time_column`` in
  ``[start, end)``, widened by ``EXTEND_TIME_WINDOW``) of its keyed view (``storage``: the table and
  its users' keys), rewrites AMC-only functions into DuckDB expressions and prints DuckDB SQL.

Anything that cannot be read or translated raises :class:`~amc_magic.sandbox.problems.CompileProblem` whose
``details`` reads like AMC's (Calcite's) compile messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.tokens import TokenType

from .. import schema
from .problems import CompileProblem
from .storage import duckdb_type, keyed_view


class AmcSql(Spark):
    """AMC SQL as sqlglot reads it."""

    class Tokenizer(Spark.Tokenizer):
        QUOTES = ["'"]
        STRING_ESCAPES = ["'"]  # standard SQL: 'men''s' is one literal; a backslash is an ordinary character
        IDENTIFIERS = ['"', "`"]
        KEYWORDS = {**Spark.Tokenizer.KEYWORDS, "TIMESTAMP": TokenType.TIMESTAMP}

    class Parser(Spark.Parser):
        STRICT_CAST = True
        FUNCTIONS = {
            **Spark.Parser.FUNCTIONS,
            "TRUNC": lambda args: exp.Anonymous(this="TRUNC", expressions=args),  # numbers, not dates
        }


@dataclass(frozen=True)
class QueryContext:
    """What a query is run with.

    Attributes:
        window_start: inclusive start of the time window, naive UTC.
        window_end: exclusive end of the time window, naive UTC.
        parameters: values of ``CUSTOM_PARAMETER(...)`` (``parameterValues`` over the defaults).
        now: the current time, naive UTC (``CAST('now' AS TIMESTAMP)``, ``CURRENT_DATE`` ...).
    """

    window_start: datetime
    window_end: datetime
    parameters: Mapping[str, Any]
    now: datetime


def compile_error(details: str) -> CompileProblem:
    """The error AMC answers a query it cannot compile with (HTTP 400)."""
    return CompileProblem(details)


@dataclass(frozen=True)
class PreparedQuery:
    """A query ready for :func:`to_duckdb`.

    Attributes:
        tree: the qualified sqlglot tree.
        names: the output column names as written, or None where a ``*`` hides them.
        ordered: whether the query orders its output (an outermost ORDER BY).
    """

    tree: exp.Query
    names: list[str] | None
    ordered: bool


def prepare(sql: str, context: QueryContext) -> PreparedQuery:
    """Parse AMC SQL into a qualified sqlglot tree with AMC's constants resolved."""
    try:
        return _prepare(sql, context)
    except RecursionError:
        raise compile_error("The query is nested too deeply to compile.") from None


def _prepare(sql: str, context: QueryContext) -> PreparedQuery:
    tree = parse(sql)
    names, ordered = output_names(tree), bool(tree.args.get("order"))
    _check_functions(tree, sql)
    _extend_time_windows(tree, sql)
    _resolve_constants(tree, context)
    _check_tables(tree, sql)
    try:
        return PreparedQuery(qualify(tree, dialect=AmcSql, schema=_SCHEMA, identify=False), names, ordered)
    except OptimizeError as error:
        raise compile_error(_calcite_message(str(error))) from None


def parse(sql: str) -> exp.Query:
    """Parse one AMC SQL query (a trailing semicolon is allowed)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=AmcSql) if s is not None]
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        where = f"line {first.get('line', 1)}, column {first.get('col', 1)}"
        token = first.get("highlight") or ""
        raise compile_error(f'Encountered "{token}" at {where}. {first.get("description", error)}') from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise compile_error("Exactly one query (a SELECT, WITH or UNION) is expected.")
    return statements[0]


def output_names(tree: exp.Query) -> list[str] | None:
    """The output column names as written (before qualification), or None if a ``*`` hides them."""
    while isinstance(tree, exp.SetOperation):
        tree = tree.left
    if not isinstance(tree, exp.Select) or any(p.is_star for p in tree.expressions):
        return None
    names = []
    for projection in tree.expressions:
        if isinstance(projection, exp.Alias | exp.Column):
            names.append(projection.output_name)
        else:
            names.append(projection.sql(dialect=AmcSql))
    return names


def to_duckdb(tree: exp.Query, context: QueryContext) -> str:
    """DuckDB SQL for a prepared tree: tables limited to the time window, AMC functions rewritten."""
    tree = tree.copy()
    for table in _base_tables(tree):
        table.replace(_windowed(table, context))
    for node in reversed(list(tree.walk())):  # children before their parents
        rewrite = _rewrite(node)
        if rewrite is not None:
            node.replace(rewrite)
    return tree.sql(dialect="duckdb")


# --- prepare ---------------------------------------------------------------------------------

_SCHEMA = {t.name: {c.name: duckdb_type(c.data_type) for c in t.columns} for t in schema.TABLES.values()}
_EXTEND = "amc_extend_time_window"
_UNRESOLVED = re.compile(
    r"Column '([^']+)' could not be resolved(?: for table: '([^']+)')?\.?(?: Line: (\d+), Col: (\d+))?"
)
_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", re.IGNORECASE)


def _check_functions(tree: exp.Query, sql: str) -> None:
    for node in tree.find_all(exp.Anonymous):
        name = node.name.upper()
        if name in _REWRITES or name in _DUCKDB_NATIVE or name in _SPECIAL:
            continue
        arguments = ", ".join("<ANY>" for _ in node.expressions)
        if name in _UNSUPPORTED:
            raise compile_error(f"{_position(sql, name)}Function {name} is not supported by the sandbox.")
        raise compile_error(f"{_position(sql, name)}No match found for function signature {name}({arguments})")
    if any(tree.find_all(exp.StrToMap)):
        raise compile_error(f"{_position(sql, 'STR_TO_MAP')}Function STR_TO_MAP is not supported by the sandbox.")


def _extend_time_windows(tree: exp.Query, sql: str) -> None:
    """``[TABLE(]EXTEND_TIME_WINDOW('t', 'P14D', 'P1D')[)] AS x`` becomes ``t AS x`` plus a note."""
    for table in list(tree.find_all(exp.Table)):
        call = table.this
        if isinstance(call, exp.Anonymous) and call.name.upper() == "TABLE" and len(call.expressions) == 1:
            call = call.expressions[0]
        if not (isinstance(call, exp.Anonymous) and call.name.upper() == "EXTEND_TIME_WINDOW"):
            continue
        if len(call.expressions) != 3:
            where = _position(sql, "EXTEND_TIME_WINDOW")
            raise compile_error(f"{where}EXTEND_TIME_WINDOW takes a table and two durations.")
        name_arg, before, after = call.expressions
        name = name_arg.name if isinstance(name_arg, exp.Literal | exp.Column) else ""
        plain = exp.Table(this=exp.to_identifier(name), alias=table.args.get("alias"))
        plain.meta[_EXTEND] = (_duration(before), _duration(after))
        table.replace(plain)


def _duration(node: exp.Expression) -> timedelta:
    text = node.name if isinstance(node, exp.Literal) and node.is_string else ""
    match = _DURATION.fullmatch(text)
    if not text or not match or not any(match.groups()):
        written = node.sql(dialect=AmcSql)
        raise compile_error(f"'{written}' is not an ISO-8601 duration of weeks, days or hours (e.g. 'P14D', 'PT12H').")
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def _resolve_constants(tree: exp.Query, context: QueryContext) -> None:
    for node in list(tree.walk()):
        value = _constant(node, context)
        if value is not None:
            node.replace(value)


def _constant(node: exp.Expression, context: QueryContext) -> exp.Expression | None:
    if isinstance(node, exp.Anonymous) and node.name.upper() in _SPECIAL:
        argument = node.expressions[0] if len(node.expressions) == 1 else None
        if not (isinstance(argument, exp.Literal) and argument.is_string):
            raise compile_error(f"{node.name.upper()} takes one string literal.")
        name = argument.name
        if node.name.upper() == "CUSTOM_PARAMETER":
            return _parameter(name, context.parameters)
        bounds = {"TIME_WINDOW_START": context.window_start, "TIME_WINDOW_END": context.window_end}
        if name.upper() not in bounds:
            raise compile_error(f"Unknown built-in parameter '{name}'; use TIME_WINDOW_START or TIME_WINDOW_END.")
        return _timestamp(bounds[name.upper()])
    if isinstance(node, exp.CurrentDate):
        return _date(context.now.date())
    if isinstance(node, exp.CurrentTimestamp):
        return _timestamp(context.now)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        special = node.this.name.strip().lower()
        if special == "today" and node.to.is_type(exp.DataType.Type.DATE):
            return _date(context.now.date())
        if special == "now" and node.to.is_type(exp.DataType.Type.TIMESTAMP):
            return _timestamp(context.now)
    return None


def _parameter(name: str, parameters: Mapping[str, Any]) -> exp.Expression:
    if name in parameters:
        return _literal(name, parameters[name])
    folded = {key.lower(): value for key, value in parameters.items()}
    if name.lower() in folded:
        return _literal(name, folded[name.lower()])
    raise compile_error(f"Query referenced an undeclared parameter {name}.")


def _literal(name: str, value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise compile_error(f"Parameter {name} is not a finite number.")
        return exp.Literal.number(repr(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return _date(value)
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(name, item) for item in value])
    raise compile_error(f"Parameter {name} has a value of unsupported type {type(value).__name__}.")


def _timestamp(value: datetime) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))


def _date(value: date) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))


def _check_tables(tree: exp.Query, sql: str) -> None:
    for table in _base_tables(tree):
        if table.name.lower() not in schema.TABLES or table.args.get("db"):
            raise compile_error(f"{_position(sql, table.name)}Object '{table.sql(dialect=AmcSql)}' not found")


def _base_tables(tree: exp.Query) -> list[exp.Table]:
    """Table references that are not CTEs (in the order scopes list them)."""
    return [
        source for scope in traverse_scope(tree) for source in scope.sources.values() if isinstance(source, exp.Table)
    ]


def _position(sql: str, word: str) -> str:
    """Calcite's ``From line L, column C: `` prefix for the first use of ``word`` (not in a comment or string)."""
    try:
        tokens = AmcSql().tokenize(sql)
    except sqlglot.errors.TokenError:
        return ""
    wanted = word.upper()
    start = next((t.start for t in tokens if t.token_type != TokenType.STRING and t.text.upper() == wanted), None)
    if start is None:
        return ""
    line = sql.count("\n", 0, start) + 1
    column = start - (sql.rfind("\n", 0, start) + 1) + 1
    return f"From line {line}, column {column}: "


def _calcite_message(message: str) -> str:
    """sqlglot's "Column 'x' could not be resolved. Line: 1, Col: 8" in Calcite's words."""
    first = message.splitlines()[0]
    match = _UNRESOLVED.match(first)
    if not match:
        return first
    column, table, line, col = match.groups()
    where = f"From line {line}, column {col}: " if line else ""
    if table:
        return f"{where}Column '{column}' not found in table '{table}'"
    return f"{where}Column '{column}' not found in any table"


# --- to_duckdb -------------------------------------------------------------------------------


def _windowed(table: exp.Table, context: QueryContext) -> exp.Subquery:
    """``(SELECT * FROM main._keyed_t WHERE time_column >= start AND < end) AS alias``."""
    spec = schema.TABLES[table.name.lower()]
    before, after = table.meta.get(_EXTEND, (timedelta(0), timedelta(0)))
    column = exp.column(spec.time_column)
    condition = exp.and_(
        exp.GTE(this=column, expression=_timestamp(context.window_start - before)),
        exp.LT(this=column.copy(), expression=_timestamp(context.window_end + after)),
    )
    select = exp.select("*").from_(exp.table_(keyed_view(spec.name), db="main")).where(condition)
    return select.subquery(table.alias_or_name)


def _args(node: exp.Expression) -> list[exp.Expression]:
    return [arg.copy() for arg in node.expressions]


def _seconds_between(args: list[exp.Expression]) -> exp.Expression:
    start, end = args
    return exp.DateDiff(this=end, expression=start, unit=exp.var("SECOND"))


def _epoch_to_utc_timestamp(args: list[exp.Expression]) -> exp.Expression:
    """Seconds or milliseconds since 1970, told apart by magnitude as AMC does."""
    (value,) = args
    millis = exp.cast(
        exp.If(
            this=exp.GTE(this=exp.Abs(this=value), expression=exp.Literal.number("100000000000")),
            true=value.copy(),
            false=exp.Mul(this=exp.cast(value.copy(), "DOUBLE"), expression=exp.Literal.number(1000)),
        ),
        "BIGINT",
    )
    return exp.Anonymous(this="EPOCH_MS", expressions=[millis])


def _hash64(args: list[exp.Expression]) -> exp.Expression:
    """A signed 64-bit hash: DuckDB's unsigned ``hash`` shifted into BIGINT's range."""
    unsigned = exp.cast(exp.Anonymous(this="HASH", expressions=args), "HUGEINT")
    return exp.cast(exp.Sub(this=unsigned, expression=exp.Literal.number("9223372036854775808")), "BIGINT")


def _named_row(args: list[exp.Expression]) -> exp.Expression:
    if len(args) % 2:
        raise compile_error("NAMED_ROW takes pairs of a label and a value.")
    fields = [
        exp.PropertyEQ(this=exp.to_identifier(label.name), expression=value)
        for label, value in zip(args[::2], args[1::2], strict=True)
    ]
    return exp.Struct(expressions=fields)


def _array_complement(args: list[exp.Expression]) -> exp.Expression:
    first, second = args
    element = exp.to_identifier("__amc_x")
    keep = exp.Not(this=exp.ArrayContains(this=second, expression=exp.column(element)))
    return exp.Anonymous(this="LIST_FILTER", expressions=[first, exp.Lambda(this=keep, expressions=[element])])


_REWRITES: dict[str, Callable[[list[exp.Expression]], exp.Expression]] = {
    "SECONDS_BETWEEN": _seconds_between,
    "CONTAINED_IN": lambda args: exp.In(this=args[0], expressions=args[1:]),
    "COLLECT": lambda args: exp.ArrayAgg(this=args[0]),
    "CONVERT_TIME_ZONE_FROM_UTC": lambda args: exp.ConvertTimezone(
        source_tz=exp.Literal.string("UTC"), target_tz=args[1], timestamp=args[0]
    ),
    "EPOCH_TO_UTC_TIMESTAMP": _epoch_to_utc_timestamp,
    "HASH64": _hash64,
    "NAMED_ROW": _named_row,
    "E": lambda args: exp.Exp(this=exp.Literal.number(1)),
    "ARRAY_COMPLEMENT": _array_complement,
    "ARRAY_UNION": lambda args: exp.ArrayDistinct(this=exp.ArrayConcat(this=args[0], expressions=args[1:])),
}
_DUCKDB_NATIVE = frozenset({"CARDINALITY", "TRUNC"})  # same name and meaning in DuckDB
_SPECIAL = frozenset({"BUILT_IN_PARAMETER", "CUSTOM_PARAMETER", "EXTEND_TIME_WINDOW", "TABLE"})
_UNSUPPORTED = frozenset({"FROM_VARBINARY", "TO_VARBINARY", "JSON_SERIALIZE"})
_DAY_OF_WEEK_UNITS = frozenset({"DOW", "DAYOFWEEK"})


def _rewrite(node: exp.Expression) -> exp.Expression | None:
    """The DuckDB form of an AMC expression whose meaning differs in DuckDB, or None."""
    if isinstance(node, exp.Anonymous) and node.name.upper() in _REWRITES:
        args = _args(node)
        if node.name.upper() == "COLLECT" and len(args) != 1:
            raise compile_error("COLLECT takes one column.")
        return _REWRITES[node.name.upper()](args)
    if type(node) is exp.RegexpSubstr:
        return exp.RegexpExtract(this=node.this.copy(), expression=node.expression.copy())
    if isinstance(node, exp.DayOfWeek) or (isinstance(node, exp.Extract) and node.name.upper() in _DAY_OF_WEEK_UNITS):
        return exp.Paren(this=exp.Add(this=node.copy(), expression=exp.Literal.number(1)))  # AMC: Sunday is 1
    return None
