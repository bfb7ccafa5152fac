"""AMC's aggregation thresholds that the text of a query can break: a VERY_HIGH column in the final
output, and a HIGH or VERY_HIGH column compared with a literal or parameter value."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from ..schema import Threshold
from .parsing import Parsed
from .problem import Problem
from .resolve import Protected, Resolver, is_star

BUILT_IN_PARAMETER = "BUILT_IN_PARAMETER"
CONTAINED_IN = "CONTAINED_IN"


def output_problems(parsed: Parsed, resolver: Resolver) -> list[Problem]:
    """VERY_HIGH columns whose values reach the final SELECT (directly or through CTEs and subqueries)."""
    problems = []
    for select in _final_selects(parsed.tree):
        scope = resolver.scope_of(select)
        if scope is None:
            continue
        for projection in select.expressions:
            for node, protected in _projection_exposure(resolver, scope, projection):
                if protected.threshold >= Threshold.VERY_HIGH:
                    message = (
                        f"{_subject(parsed, node, protected)} cannot be in the query output. Count it instead, "
                        f"e.g. COUNT(DISTINCT {protected.column}), or drop it from the final SELECT."
                    )
                    problems.append(Problem("error", "very_high_output", message, *parsed.locate(node)))
    return problems


def filter_problems(parsed: Parsed, resolver: Resolver) -> list[Problem]:
    """HIGH and VERY_HIGH columns compared with literals or CUSTOM_PARAMETER values, anywhere in the query."""
    problems = []
    for scope in resolver.scopes:
        for predicate in scope.expression.walk(prune=lambda n: isinstance(n, exp.Query) and n is not scope.expression):
            for side, other in _compared_sides(predicate):
                if not _is_literal_value(other):
                    continue
                for node, protected in resolver.exposure(scope, side):
                    message = (
                        f"{_subject(parsed, node, protected)} cannot be compared with a literal or parameter "
                        "value. Remove the filter, or group by a less sensitive column."
                    )
                    problems.append(Problem("error", "literal_filter", message, *parsed.locate(node)))
    return problems


def _projection_exposure(
    resolver: Resolver, scope: Scope, projection: exp.Expr
) -> Iterator[tuple[exp.Expr, Protected]]:
    if not is_star(projection):
        yield from resolver.exposure(scope, projection)
        return
    for source in resolver.expand_star(scope, projection) or []:
        if isinstance(source, exp.Table):
            continue  # SELECT * on a table is its own error
        for lineage in (resolver.columns_of(source) or {}).values():
            for protected in lineage:
                yield projection, protected


def _compared_sides(node: exp.Expr) -> Iterator[tuple[exp.Expr, list[exp.Expr]]]:
    """(side, other sides) pairs of a comparison-like node; nothing for other nodes."""
    if isinstance(node, exp.In):
        if node.expressions and not node.args.get("query"):
            yield node.this, node.expressions
    elif isinstance(node, exp.Between):
        yield node.this, [node.args["low"], node.args["high"]]
    elif isinstance(node, exp.Predicate) and isinstance(node, exp.Binary):
        yield node.this, [node.expression]
        yield node.expression, [node.this]
    elif isinstance(node, exp.Anonymous) and node.name.upper() == CONTAINED_IN and len(node.expressions) > 1:
        yield node.expressions[0], node.expressions[1:]


def _is_literal_value(nodes: list[exp.Expr]) -> bool:
    """True if ``nodes`` hold a value written in the query and no column.

    Literals count, and so does ``CUSTOM_PARAMETER('name')`` (its name is one); ``BUILT_IN_PARAMETER``
    (the time window) and NULL do not.
    """
    has_value = False
    for root in nodes:
        for node in root.walk():
            if isinstance(node, (exp.Column, exp.Query)):
                return False
            if isinstance(node, exp.Anonymous) and node.name.upper() == BUILT_IN_PARAMETER:
                return False
            if isinstance(node, (exp.Literal, exp.Boolean)):
                has_value = True
    return has_value


def _final_selects(query: exp.Expr) -> list[exp.Select]:
    """The SELECTs whose projections are the query's output (every branch of a UNION)."""
    if isinstance(query, exp.Subquery):
        return _final_selects(query.this)
    if isinstance(query, exp.SetOperation):
        return _final_selects(query.left) + _final_selects(query.right)
    return [query] if isinstance(query, exp.Select) else []


def _subject(parsed: Parsed, node: exp.Expr, protected: Protected) -> str:
    """``Column 'x' (from table.column) has aggregation threshold T and``, naming the base column if it differs."""
    written = node.sql() if is_star(node) else parsed.text(node)
    same = isinstance(node, exp.Column) and not is_star(node) and node.name == protected.column.lower()
    origin = "" if same else f" (from {protected.table}.{protected.column})"
    return f"Column '{written}'{origin} has aggregation threshold {protected.threshold.name} and"
