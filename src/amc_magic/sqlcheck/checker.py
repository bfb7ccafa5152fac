"""The :func:`check` entry point: placeholders, syntax, unsupported constructs, names, thresholds."""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot.errors import OptimizeError

from .. import schema
from ..schema import Table
from .names import name_problems
from .parsing import parse
from .placeholders import find_placeholders
from .privacy import filter_problems, output_problems
from .problem import Problem, Severity
from .resolve import Resolver
from .rules import construct_problems, star_problems


def check(sql: str, *, tables: Mapping[str, Table] | None = None, unknown_columns: Severity = "error") -> list[Problem]:
    """Check AMC SQL locally before it is submitted.

    Args:
        sql: The rendered query.
        tables: The schema to check names and thresholds against; None means the bundled
            :data:`amc_magic.schema.TABLES`.
        unknown_columns: Severity of a table or column the schema lacks: ``"error"`` when the schema is
            complete (the sandbox), ``"warning"`` for a real instance whose schema may not list every column.

    Returns:
        The problems found, ordered by position (problems without a position last). Leftover ``{{...}}``
        placeholders or a syntax error stop the checks there.
    """
    placeholders = find_placeholders(sql)
    if placeholders:
        return placeholders
    try:
        return _check(sql, tables, unknown_columns)
    except RecursionError:
        message = "The query is nested too deeply to check locally; AMC will check it when it is submitted."
        return [Problem("warning", "too_deep", message)]


def _check(sql: str, tables: Mapping[str, Table] | None, unknown_columns: Severity) -> list[Problem]:
    parsed = parse(sql)
    if isinstance(parsed, Problem):
        return [parsed]
    problems = construct_problems(parsed)
    try:
        resolver = Resolver(parsed.tree, schema.TABLES if tables is None else tables)
    except OptimizeError:  # sqlglot cannot scope this set operation: leave names and thresholds to AMC
        return _ordered(problems)
    problems += star_problems(parsed, resolver)
    problems += name_problems(parsed, resolver, unknown_columns)
    problems += output_problems(parsed, resolver)
    problems += filter_problems(parsed, resolver)
    return _ordered(problems)


def _ordered(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
