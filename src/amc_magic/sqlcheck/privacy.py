"""AMC's aggregation thresholds that the text of a query can break: a VERY_HIGH column in the final
output, and a HIGH or VERY_HIGH column compared with a literal or parameter value.

A comparison is any predicate (``=``, ``<>``, ``LIKE``, ``IN``, ``BETWEEN``, ``ARRAY_CONTAINS`` ...),
``CONTAINED_IN``, ``NULLIF``, a simple ``CASE x WHEN v``, and ``JOIN ... USING (x)``, wherever it stands
(WHERE, HAVING, ON, CASE WHEN, IF, projections). One side is protected when a HIGH or VERY_HIGH column
flows into it, also through functions (``UPPER(city_name)``), CTEs and subqueries; the other side is a
literal or parameter value when its :class:`~.resolve.Origin` is WRITTEN, which follows CTEs, subqueries,
``VALUES`` lists and unions that select only literals (``JOIN (VALUES ('98101')) v(pc) ON v.pc =
d.postal_code``, ``postal_code IN (SELECT pc FROM literal_cte)``). A comparison with real table data, with
``BUILT_IN_PARAMETER(...)`` or with NULL is allowed.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from ..schema import Threshold
from .parsing import Parsed, final_selects
from .problem import Problem
from .resolve import Origin, Protected, Resolver, in_subquery, is_star

CONTAINED_IN = "CONTAINED_IN"


def output_problems(parsed: Parsed, resolver: Resolver) -> list[Problem]:
    """VERY_HIGH columns whose values reach the final SELECT (directly or through CTEs and subqueries)."""
    problems = []
    for select in final_selects(parsed.tree):
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

    def add(node: exp.Expr, protected: Protected) -> None:
        message = (
            f"{_subject(parsed, node, protected)} cannot be compared with a literal or parameter "
            "value. Remove the filter, or group by a less sensitive column."
        )
        problems.append(Problem("error", "literal_filter", message, *parsed.locate(node)))

    for scope in resolver.scopes:
        for predicate in scope.expression.find_all(*_COMPARING):
            if in_subquery(predicate, scope.expression):  # that query's scope checks it
                continue
            for side, other in _compared_sides(predicate):
                exposed = list(_side_exposure(resolver, scope, side))
                if exposed and resolver.origin(scope, other) is Origin.WRITTEN:
                    for node, protected in exposed:
                        add(node, protected)
        for ident, protected in _using_exposure(resolver, scope):
            add(ident, protected)
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


_COMPARING = (exp.In, exp.Case, exp.Nullif, exp.Between, exp.Predicate, exp.Anonymous)
"""The node types :func:`_compared_sides` finds sides in."""


def _compared_sides(node: exp.Expr) -> Iterator[tuple[exp.Expr, list[exp.Expr]]]:
    """(side, other sides) pairs of a comparison-like node; nothing for other nodes."""
    if isinstance(node, exp.In):
        query = node.args.get("query")
        if query is not None:  # x IN (SELECT ...): the subquery's column is the other side
            yield node.this, [query]
            yield query, [node.this]
        elif node.expressions:
            yield node.this, node.expressions
    elif isinstance(node, exp.Case):
        if node.this is not None:  # CASE x WHEN v THEN ...: x = v
            for branch in node.args.get("ifs") or []:
                yield node.this, [branch.this]
    elif isinstance(node, exp.Nullif):
        yield node.this, [node.expression]
        yield node.expression, [node.this]
    elif isinstance(node, exp.Between):
        yield node.this, [node.args["low"], node.args["high"]]
    elif isinstance(node, exp.Predicate) and isinstance(node, exp.Binary):
        yield node.this, [node.expression]
        yield node.expression, [node.this]
    elif isinstance(node, exp.Anonymous) and node.name.upper() == CONTAINED_IN and len(node.expressions) > 1:
        yield node.expressions[0], node.expressions[1:]


def _side_exposure(resolver: Resolver, scope: Scope, side: exp.Expr) -> Iterator[tuple[exp.Expr, Protected]]:
    """Protected columns flowing into one side of a comparison; a subquery side gives its first column's."""
    if not isinstance(side, exp.Query):
        yield from resolver.exposure(scope, side)
        return
    for select in final_selects(side):
        inner = resolver.scope_of(select)
        if inner is not None and select.expressions and not is_star(select.expressions[0]):
            yield from resolver.exposure(inner, select.expressions[0])


def _using_exposure(resolver: Resolver, scope: Scope) -> Iterator[tuple[exp.Expr, Protected]]:
    """``JOIN ... USING (x)`` where one source's ``x`` is protected and another's is only written values."""
    query = scope.expression
    if not isinstance(query, exp.Select):
        return
    for join in query.args.get("joins") or []:
        for ident in join.args.get("using") or []:
            name = ident.name
            offering = [s for s in resolver.sources(scope).values() if name in (resolver.columns_of(s) or {})]
            if any(resolver.source_origin(s, name) is Origin.WRITTEN for s in offering):
                for source in offering:
                    for protected in (resolver.columns_of(source) or {})[name]:
                        yield ident, protected


def _subject(parsed: Parsed, node: exp.Expr, protected: Protected) -> str:
    """``Column 'x' (from table.column) has aggregation threshold T and``, naming the base column if it differs."""
    written = node.sql() if is_star(node) else parsed.text(node)
    same = isinstance(node, (exp.Column, exp.Identifier)) and not is_star(node) and node.name == protected.column.lower()
    origin = "" if same else f" (from {protected.table}.{protected.column})"
    return f"Column '{written}'{origin} has aggregation threshold {protected.threshold.name} and"
