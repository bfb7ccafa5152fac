"""AMC SQL's unsupported constructs: LIMIT, ORDER BY outside OVER (...), RIGHT JOIN, SELECT * on a
table, functions AMC lacks (GETDATE), and queries that aggregate nothing (AMC documentation, "Limitations and unsupported functions")."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import TokenType

from .parsing import Parsed
from .problem import Problem
from .resolve import Resolver, is_star

# Aggregates sqlglot reads as anonymous functions.
_ANONYMOUS_AGGREGATES = frozenset({"COLLECT", "PERCENTILE", "APPROX_PERCENTILE"})

LIMIT_MESSAGE = (
    "LIMIT (or FETCH FIRST) is not supported in AMC SQL. To keep the top rows, rank them with RANK() OVER (ORDER BY ...) "
    "in a subquery and filter on the rank."
)
ORDER_BY_MESSAGE = (
    "ORDER BY is not supported in AMC SQL outside a window function's OVER (...). "
    "Remove it and sort the result after download."
)
RIGHT_JOIN_MESSAGE = "RIGHT JOIN is not supported in AMC SQL. Swap the two tables and use LEFT JOIN."
UNSUPPORTED_FUNCTIONS = {
    "GETDATE": "GETDATE() is not supported in AMC SQL. Use CAST('today' AS DATE) or CAST('now' AS TIMESTAMP), "
    "or BUILT_IN_PARAMETER('TIME_WINDOW_END') for the window's end.",
}
NO_AGGREGATION_MESSAGE = (
    "The query aggregates nothing. AMC requires at least one aggregated column, such as SUM(impressions) "
    "or COUNT(DISTINCT user_id), with GROUP BY for the other columns."
)


_CONSTRUCTS = (exp.Limit, exp.Fetch, exp.Order, exp.Anonymous, exp.Join)
"""The node types :func:`construct_problems` looks at."""


def construct_problems(parsed: Parsed) -> list[Problem]:
    """LIMIT, ORDER BY outside a window, RIGHT JOIN, and the absence of any aggregation."""
    problems: list[Problem] = []
    for node in parsed.tree.find_all(*_CONSTRUCTS):  # (sqlglot's own walk, in its order: Python sees only these)
        if isinstance(node, (exp.Limit, exp.Fetch)):
            keyword = TokenType.LIMIT if isinstance(node, exp.Limit) else TokenType.FETCH
            problems.append(Problem("error", "limit", LIMIT_MESSAGE, *parsed.locate_keyword(node, keyword)))
        elif isinstance(node, exp.Order) and isinstance(node.parent, exp.Query):
            problems.append(Problem("error", "order_by", ORDER_BY_MESSAGE, *parsed.locate_keyword(node, TokenType.ORDER_BY)))
        elif isinstance(node, exp.Anonymous) and node.name.upper() in UNSUPPORTED_FUNCTIONS:
            message = UNSUPPORTED_FUNCTIONS[node.name.upper()]
            problems.append(Problem("error", "unsupported_function", message, *parsed.locate(node)))
        elif isinstance(node, exp.Join) and node.side.upper() == "RIGHT":
            problems.append(Problem("error", "right_join", RIGHT_JOIN_MESSAGE, *parsed.locate_keyword(node.this, TokenType.RIGHT)))
    if not any(_is_aggregate(node) for node in parsed.tree.find_all(exp.AggFunc, exp.Anonymous)):
        first = _first_select(parsed.tree)
        location = (None, None)
        if first is not None and first.expressions:
            location = parsed.locate_keyword(first.expressions[0], TokenType.SELECT)
        problems.append(Problem("error", "no_aggregation", NO_AGGREGATION_MESSAGE, *location))
    return problems


def star_problems(parsed: Parsed, resolver: Resolver) -> list[Problem]:
    """``SELECT *`` (or ``t.*``) that would export a table's raw rows."""
    problems = []
    for scope in resolver.scopes:
        if not isinstance(scope.expression, exp.Select):
            continue
        for projection in scope.expression.expressions:
            if not is_star(projection):
                continue
            tables = [s for s in resolver.expand_star(scope, projection) or [] if isinstance(s, exp.Table)]
            if tables:
                name = parsed.text(resolver.table_name(tables[0]) or tables[0])
                message = (
                    f"SELECT * is not allowed on table '{name}': AMC does not export raw rows. "
                    "List the columns you need and aggregate at least one."
                )
                problems.append(Problem("error", "select_star", message, *parsed.locate(projection)))
    return problems


def _is_aggregate(node: exp.Expr) -> bool:
    """An aggregate function call that is not a window function's (``SUM(x) OVER (...)`` aggregates no rows)."""
    if isinstance(node, exp.Window) or (isinstance(node.parent, exp.Window) and node.arg_key == "this"):
        return False
    if isinstance(node, exp.AggFunc):
        return True
    return isinstance(node, exp.Anonymous) and node.name.upper() in _ANONYMOUS_AGGREGATES


def _first_select(query: exp.Expr) -> exp.Select | None:
    """The first SELECT of the final query (the left-most branch of a UNION)."""
    while isinstance(query, (exp.SetOperation, exp.Subquery)):
        query = query.this
    return query if isinstance(query, exp.Select) else None
