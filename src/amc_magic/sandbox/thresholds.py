"""AMC's aggregation thresholds: each output row needs enough distinct users behind it.

**Users a row needs** (:func:`plan`, ``min_users``). The row's output depends on the columns used in
the outermost query's projections and GROUP BY keys, followed through CTEs, sub-queries and unions
down to the tables (a sub-query's GROUP BY keys count too while no aggregation above it has merged its
rows). Columns used only inside ``COUNT(...)``/``COUNT(DISTINCT ...)`` do not count, and WHERE, ON and
HAVING conditions do not count. The row needs the largest ``Threshold.min_users`` of those columns,
and at least 1 user.

**Users a row has.** The query is rewritten to carry hidden user columns next to its own, one per
*path*: each occurrence of a table in the FROM clauses the output rows come from.

* A table path starts as its users' keys (``storage.USER_KEY``: the 64-bit hashes that ``user_id``
  spells in hex, so the same users, but integers, which are cheaper to count than formatted strings).
* A SELECT without aggregation passes each path of its sources through (joins combine paths).
* An aggregating SELECT (GROUP BY, aggregate functions, or ``SELECT DISTINCT``, treated as a GROUP BY
  of its columns) keeps a table path whose ``user_id`` is one of its GROUP BY keys (as the
  ``ANY_VALUE`` of its keys: one user per group), turns any other path of user keys into the count of
  its distinct users over the same groups, and an already counted path into its ``MAX`` (a lower
  bound: the rows merged may share users).
* ``UNION ALL`` pairs its branches' paths by position (padding with NULL); a ``UNION`` (distinct) is
  computed as a GROUP BY of all its columns over the ``UNION ALL``.
* EXCEPT, INTERSECT, VALUES, UNNEST, and ``SELECT DISTINCT`` with aggregates or window functions,
  carry no paths (write an INTERSECT of users as a JOIN to keep them).

For a single-table GROUP BY this is exactly ``COUNT(DISTINCT user_id)`` of each output row, counted
up to ``min_users`` (:func:`_count_users`). A row's users are the smallest count among its paths that
have any users (a LEFT JOIN's empty side does not count); a non-aggregated row has 1 user per path. A
row with no path with users has 0 users, so it is removed, as is every row of a query whose output
cannot be traced to any table's users.

:func:`apply` removes the rows below ``min_users`` and the hidden columns, and counts what it removed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from sqlglot import exp

from .. import schema
from ..sqlcheck.parsing import final_selects
from .storage import USER_KEY

_HIDDEN = "__amc_users_{}"
_AGGREGATES_BY_NAME = frozenset({"COLLECT"})


class PathKind(enum.Enum):
    USER_IDS = "user ids"  # one user's key per row
    USER_COUNTS = "user counts"  # distinct users per row


@dataclass(frozen=True)
class _Path:
    """A source's hidden user column as a SELECT over it sees it.

    Attributes:
        users: the column (user keys, or counts).
        kind: what it holds.
        user_id: the column whose GROUP BY leaves one user per group: a table's ``user_id``, else
            ``users`` itself.
    """

    users: exp.Column
    kind: PathKind
    user_id: exp.Column


@dataclass(frozen=True)
class ThresholdPlan:
    """A query rewritten to report its users, and the users each output row needs.

    Attributes:
        query: the query; its last ``len(paths)`` output columns are the hidden user columns.
        paths: the kind of each hidden column.
        min_users: distinct users each output row needs.
    """

    query: exp.Query
    paths: tuple[PathKind, ...]
    min_users: int


def plan(tree: exp.Query) -> ThresholdPlan:
    """The threshold plan of a qualified query (see the module docstring)."""
    min_users = _Requirement(tree).min_users()
    query = tree.copy()
    augmented, paths = _Augmenter(query, min_users).relation(query)
    return ThresholdPlan(augmented, tuple(paths), min_users)


def apply(table: pa.Table, threshold_plan: ThresholdPlan) -> tuple[pa.Table, int]:
    """The rows with enough users, without the hidden columns, and how many rows were removed."""
    visible = table.num_columns - len(threshold_plan.paths)
    users = np.full(table.num_rows, np.inf)
    for k, kind in enumerate(threshold_plan.paths):
        column = table.column(visible + k)
        if kind is PathKind.USER_IDS:
            counts = np.where(column.is_valid().to_numpy(zero_copy_only=False), 1.0, 0.0)
        else:
            counts = column.cast(pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)
        users = np.minimum(users, np.where(counts > 0, counts, np.inf))
    keep = np.where(np.isfinite(users), users, 0.0) >= threshold_plan.min_users
    kept = table.select(range(visible)).filter(pa.array(keep))
    return kept, int(table.num_rows - kept.num_rows)


def _aggregates(select: exp.Select) -> bool:
    """Whether ``select`` aggregates its rows (GROUP BY, HAVING, or an aggregate outside a window)."""
    if select.args.get("group") or select.args.get("having"):
        return True
    for projection in select.expressions:
        for node in projection.find_all(exp.AggFunc, exp.Anonymous):
            if isinstance(node, exp.Anonymous) and node.name.upper() not in _AGGREGATES_BY_NAME:
                continue
            if node.find_ancestor(exp.Window, exp.Select) is select:
                return True
    return False


def _count_users(column: exp.Expression, min_users: int) -> exp.Expression:
    """Users of ``column`` per group: its distinct non-NULL values, counted up to ``min_users``.

    Counts are only compared with ``min_users``: ``MAX`` over merged rows, the smallest count among a
    row's paths and :func:`apply` decide the same on ``min(count, min_users)`` as on the count, and 0
    stays 0. Up to two users, ``COUNT``, ``MIN`` and ``MAX`` tell enough (two users differ, so
    ``MIN < MAX``) and run in the query's own aggregation, whereas DuckDB runs a ``COUNT(DISTINCT ...)``
    beside other aggregates as a second aggregation over the (group, user) pairs, joined back to the
    groups.
    """
    if min_users > 2:
        return exp.Count(this=exp.Distinct(expressions=[column]))
    counted = exp.case()
    if min_users == 2:
        several = exp.LT(this=exp.Min(this=column.copy()), expression=exp.Max(this=column.copy()))
        counted = counted.when(several, exp.Literal.number(2))
    some = exp.GT(this=exp.Count(this=column.copy()), expression=exp.Literal.number(0))
    return counted.when(some, exp.Literal.number(1)).else_(exp.Literal.number(0))


def _merged(column: exp.Expression, kind: PathKind, min_users: int) -> exp.Expression:
    """A path's users once an aggregation merges its rows: user ids are counted, counts maximised."""
    return _count_users(column, min_users) if kind is PathKind.USER_IDS else exp.Max(this=column)


def _sources(select: exp.Select) -> list[exp.Expression]:
    from_ = select.args.get("from_")
    sources = [from_.this] if from_ else []
    return sources + [join.this for join in select.args.get("joins") or []]


def _ctes(tree: exp.Expression) -> dict[str, exp.CTE]:
    return {cte.alias_or_name.lower(): cte for cte in tree.find_all(exp.CTE)}


class _Augmenter:
    """Adds the hidden user columns to a query's relations (see the module docstring)."""

    def __init__(self, tree: exp.Query, min_users: int) -> None:
        self._ctes = _ctes(tree)
        self._min_users = min_users
        self._done: dict[str, list[PathKind]] = {}

    def relation(self, query: exp.Expression) -> tuple[exp.Expression, list[PathKind]]:
        """The relation (possibly replaced) with hidden columns appended, and their kinds."""
        if isinstance(query, exp.Subquery):
            inner, paths = self.relation(query.this)
            query.set("this", inner)
            return query, paths
        if isinstance(query, exp.Union):
            return self._union(query)
        if isinstance(query, exp.Select):
            return query, self._select(query)
        return query, []

    def _source_paths(self, source: exp.Expression) -> list[_Path]:
        alias = source.alias_or_name
        if isinstance(source, exp.Table) and not source.args.get("db"):
            name = source.name.lower()
            if name in self._ctes:
                return _hidden_paths(alias, self._cte(name))
            if name in schema.TABLES:
                keys, user_id = exp.column(USER_KEY, table=alias), exp.column(schema.USER_COLUMN, table=alias)
                return [_Path(keys, PathKind.USER_IDS, user_id)]
        if isinstance(source, exp.Subquery):
            _, kinds = self.relation(source)
            return _hidden_paths(alias, kinds)
        return []

    def _cte(self, name: str) -> list[PathKind]:
        if name not in self._done:
            self._done[name] = []  # a recursive reference sees no paths
            cte = self._ctes[name]
            query, kinds = self.relation(cte.this)
            cte.set("this", query)
            self._done[name] = kinds
        return self._done[name]

    def _select(self, select: exp.Select) -> list[PathKind]:
        aggregating = _aggregates(select)
        distinct = select.args.get("distinct")
        windowed = any(p.find(exp.Window) for p in select.expressions)
        if distinct and (aggregating or windowed or distinct.args.get("on")):
            return []  # grouping by the output would change it
        paths = [path for source in _sources(select) for path in self._source_paths(source)]
        if not paths:
            return []
        if distinct:
            select.set("distinct", None)
            select.group_by(*(p.unalias().copy() for p in select.expressions), copy=False)
            aggregating = True
        group = select.args["group"].expressions if select.args.get("group") else []
        kinds = []
        for k, path in enumerate(paths):
            column, kind = path.users, path.kind
            if aggregating and kind is PathKind.USER_IDS and path.user_id in group:
                column = exp.AnyValue(this=column)  # the group's one user
            elif aggregating:
                column, kind = _merged(column, kind, self._min_users), PathKind.USER_COUNTS
            select.select(exp.alias_(column, _HIDDEN.format(k)), copy=False)
            kinds.append(kind)
        return kinds

    def _union(self, union: exp.Union) -> tuple[exp.Expression, list[PathKind]]:
        left, left_kinds = self.relation(union.left)
        right, right_kinds = self.relation(union.right)
        union.set("this", left)
        union.set("expression", right)
        if any(a is not b for a, b in zip(left_kinds, right_kinds, strict=False)):
            _as_counts(left, left_kinds)
            _as_counts(right, right_kinds)
            left_kinds = [PathKind.USER_COUNTS] * len(left_kinds)
            right_kinds = [PathKind.USER_COUNTS] * len(right_kinds)
        kinds = left_kinds if len(left_kinds) >= len(right_kinds) else right_kinds
        _pad(left, len(left_kinds), len(kinds))
        _pad(right, len(right_kinds), len(kinds))
        if not union.args.get("distinct") or not kinds:
            return union, kinds
        return _distinct_union(union, kinds, self._min_users), [PathKind.USER_COUNTS] * len(kinds)


def _hidden_paths(alias: str, kinds: list[PathKind]) -> list[_Path]:
    """The paths of a CTE or sub-query ``alias`` whose hidden columns hold ``kinds``."""
    columns = [exp.column(_HIDDEN.format(k), table=alias) for k in range(len(kinds))]
    return [_Path(column, kind, column) for column, kind in zip(columns, kinds, strict=True)]


def _as_counts(query: exp.Expression, kinds: list[PathKind]) -> None:
    """Turn the branch's user-id columns into per-row counts (1, or 0 for NULL)."""
    for select in final_selects(query):
        hidden = select.expressions[len(select.expressions) - len(kinds) :]
        for projection, kind in zip(hidden, kinds, strict=True):
            if kind is PathKind.USER_IDS:
                missing = exp.Is(this=projection.this.copy(), expression=exp.Null())
                projection.set("this", exp.If(this=missing, true=exp.Literal.number(0), false=exp.Literal.number(1)))


def _pad(query: exp.Expression, have: int, want: int) -> None:
    for select in final_selects(query):
        for k in range(have, want):
            select.select(exp.alias_(exp.Null(), _HIDDEN.format(k)), copy=False)


def _distinct_union(union: exp.Union, kinds: list[PathKind], min_users: int) -> exp.Select:
    """``a UNION b`` as ``SELECT cols, users FROM (a UNION ALL b) GROUP BY cols``."""
    first = final_selects(union)[0]
    names = [p.alias_or_name for p in first.expressions[: len(first.expressions) - len(kinds)]]
    with_ = union.args.get("with_")
    union.set("with_", None)
    union.set("distinct", False)
    columns = [exp.column(name, table="__amc_union") for name in names]
    hidden = [exp.column(_HIDDEN.format(k), table="__amc_union") for k in range(len(kinds))]
    users = [
        exp.alias_(_merged(column, kind, min_users), _HIDDEN.format(k))
        for k, (column, kind) in enumerate(zip(hidden, kinds, strict=True))
    ]
    wrapper = exp.select(*[exp.alias_(c, n) for c, n in zip(columns, names, strict=True)], *users)
    wrapper = wrapper.from_(union.subquery("__amc_union")).group_by(*[c.copy() for c in columns])
    if with_:
        wrapper.set("with_", with_)
    return wrapper


class _Requirement:
    """Finds the columns an output row depends on (see the module docstring)."""

    def __init__(self, tree: exp.Query) -> None:
        self._tree = tree
        self._ctes = _ctes(tree)
        self._columns: set[tuple[str, str]] = set()
        self._seen: set[tuple[int, int | None, bool]] = set()

    def min_users(self) -> int:
        self._relation(self._tree, None, regrouped=False)
        needed = [
            column.threshold.min_users
            for table, name in self._columns
            if (column := schema.TABLES[table].column(name)) is not None
        ]
        return max([1, *needed])

    def _relation(self, query: exp.Expression, position: int | None, *, regrouped: bool) -> None:
        """Collect what output column ``position`` (None: all) of ``query`` depends on."""
        key = (id(query), position, regrouped)
        if key in self._seen:
            return
        self._seen.add(key)
        if isinstance(query, exp.Subquery):
            self._relation(query.this, position, regrouped=regrouped)
        elif isinstance(query, exp.SetOperation):
            self._relation(query.left, position, regrouped=regrouped)
            self._relation(query.right, position, regrouped=regrouped)
        elif isinstance(query, exp.Select):
            self._select(query, position, regrouped=regrouped)

    def _select(self, select: exp.Select, position: int | None, *, regrouped: bool) -> None:
        projections = select.expressions if position is None else select.expressions[position : position + 1]
        expressions = [p.unalias() for p in projections]
        if not regrouped and select.args.get("group"):
            expressions += select.args["group"].expressions
        sources = {source.alias_or_name: source for source in _sources(select)}
        below_regrouped = regrouped or _aggregates(select)
        for expression in expressions:
            for column in expression.find_all(exp.Column):
                if isinstance(column.find_ancestor(exp.Count, exp.Select), exp.Count):
                    continue  # only counted
                if column.find_ancestor(exp.Select) is not select or column.table not in sources:
                    continue  # a nested sub-query's own column
                self._column(sources[column.table], column.name, regrouped=below_regrouped)

    def _column(self, source: exp.Expression, name: str, *, regrouped: bool) -> None:
        if isinstance(source, exp.Table) and not source.args.get("db"):
            table = source.name.lower()
            if table in self._ctes:
                self._named(self._ctes[table].this, name, regrouped=regrouped)
            elif table in schema.TABLES:
                self._columns.add((table, name.lower()))
        elif isinstance(source, exp.Subquery):
            self._named(source.this, name, regrouped=regrouped)

    def _named(self, query: exp.Expression, name: str, *, regrouped: bool) -> None:
        selects = final_selects(query)
        if not selects:
            return
        names = [p.alias_or_name.lower() for p in selects[0].expressions]
        if name.lower() in names:
            self._relation(query, names.index(name.lower()), regrouped=regrouped)
