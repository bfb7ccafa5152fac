"""Unknown tables and columns, ambiguous columns and repeated aliases, with a "did you mean"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from sqlglot import exp

from .parsing import Parsed
from .problem import Problem, Severity
from .resolve import Resolver, Unresolved

_CODES = {"ambiguous": "ambiguous_column", "unknown_alias": "unknown_alias", "unknown_column": "unknown_column"}


def name_problems(parsed: Parsed, resolver: Resolver, unknown: Severity) -> list[Problem]:
    """Problems with the names in the query; ``unknown`` is the severity of a name the schema lacks."""
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()

    def add(severity: Severity, code: str, message: str, node: exp.Expr, key: tuple[str, str]) -> None:
        if (code, *key) not in seen:
            seen.add((code, *key))
            problems.append(Problem(severity, code, message, *parsed.locate(node)))

    for scope in resolver.scopes:
        for source in resolver.sources(scope).values():
            named = resolver.table_name(source) if isinstance(source, exp.Table) else None
            if named is not None and resolver.table_of(source) is None:
                name = parsed.text(named)
                known = [*resolver.table_names(), *scope.cte_sources]
                message = f"Object '{name}' not found.{_did_you_mean(named.name, known)}"
                add(unknown, "unknown_table", message, named, ("", named.name))
        for node in resolver.duplicate_aliases(scope):
            alias = node.alias_or_name
            message = f"Duplicate relation name '{alias}' in FROM clause: give each table its own alias."
            add("error", "duplicate_alias", message, node, (str(id(node)), alias))
        for column in resolver.own_columns(scope):
            result = resolver.resolve(scope, column)
            if not isinstance(result, Unresolved):
                continue
            code, key = _CODES[result.reason], (column.table, column.name)
            if (code, *key) not in seen:  # build the message ("did you mean" is slow) only for a new name
                add("error" if code == "ambiguous_column" else unknown, code, _unresolved_message(parsed, column, result), column, key)
    return problems


def _unresolved_message(parsed: Parsed, column: exp.Column, result: Unresolved) -> str:
    name = parsed.text(column)
    if result.reason == "ambiguous":
        tables = ", ".join(f"'{t}'" for t in result.candidates)
        return f"Column '{name}' is ambiguous (it is in {tables}): qualify it with a table alias."
    qualifier = parsed.text(column.args["table"]) if column.table else ""
    if result.reason == "unknown_alias":
        hint = _did_you_mean(column.table, result.candidates)
        return f"Table '{qualifier}' not found: it is not a table or alias in this FROM clause.{hint}"
    where = f"in table '{qualifier}'" if qualifier else "in any table"
    return f"Column '{name}' not found {where}.{_did_you_mean(column.name, result.candidates)}"


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name.lower(), {c.lower() for c in candidates if c}, n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
