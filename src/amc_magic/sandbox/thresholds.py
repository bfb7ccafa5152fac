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
* A path of user keys knows the columns that hold its user: a table's ``user_id``; the output columns
  of a CTE, sub-query or union that pass such a column through or group by it (a union's in every
  branch); and the columns that a WHERE or join condition ``a = b`` equates with one of those (a LEFT
  JOIN's condition only for its joined side, whose rows it may leave NULL, not for the rows it keeps).
* A SELECT without aggregation passes each path of its sources through (joins combine paths).
* An aggregating SELECT (GROUP BY, aggregate functions, or ``SELECT DISTINCT``, treated as a GROUP BY
  of its columns) keeps a path of user keys when a column holding its user is one of its GROUP BY
  keys (as the ``ANY_VALUE`` of its keys: one user per group), so a query may group by ``user_id`` at
  several levels and still count the users at the level above; it turns any other path of user keys
  into the count of its distinct users over the same groups, and an already counted path into its
  ``MAX`` (a lower bound: the rows merged may share users).
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
        user_ids: the columns whose GROUP BY leaves one user of the path per group (user keys only): a
            table's ``user_id``, a CTE's or sub-query's output columns that carry it, and the columns
            a join or WHERE condition equates with one of those.
    """

    users: exp.Column
    kind: PathKind
    user_ids: frozenset[exp.Column]


@dataclass(frozen=True)
class _Carried:
    """A relation's hidden user column as the relation hands it up.

    Attributes:
        kind: what it holds.
        user_id_positions: the relation's output columns (by position) that carry the path's user, so
            that a GROUP BY of any of them above leaves one user per group (user keys only).
    """

    kind: PathKind
    user_id_positions: frozenset[int] = frozenset()


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
    augmented, carried = _Augmenter(query, min_users).relation(query)
    return ThresholdPlan(augmented, tuple(path.kind for path in carried), min_users)


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
        self._done: dict[str, list[_Carried]] = {}

    def relation(self, query: exp.Expression) -> tuple[exp.Expression, list[_Carried]]:
        """The relation (possibly replaced) with hidden columns appended, and what they carry."""
        if isinstance(query, exp.Subquery):
            inner, carried = self.relation(query.this)
            query.set("this", inner)
            return query, carried
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
                carried = self._cte(name)
                return _hidden_paths(alias, self._ctes[name].this, carried)
            if name in schema.TABLES:
                keys, user_id = exp.column(USER_KEY, table=alias), exp.column(schema.USER_COLUMN, table=alias)
                return [_Path(keys, PathKind.USER_IDS, frozenset({user_id}))]
        if isinstance(source, exp.Subquery):
            _, carried = self.relation(source)
            return _hidden_paths(alias, source.this, carried)
        return []

    def _cte(self, name: str) -> list[_Carried]:
        if name not in self._done:
            self._done[name] = []  # a recursive reference sees no paths
            cte = self._ctes[name]
            query, carried = self.relation(cte.this)
            cte.set("this", query)
            self._done[name] = carried
        return self._done[name]

    def _select(self, select: exp.Select) -> list[_Carried]:
        aggregating = _aggregates(select)
        distinct = select.args.get("distinct")
        windowed = any(p.find(exp.Window) for p in select.expressions)
        if distinct and (aggregating or windowed or distinct.args.get("on")):
            return []  # grouping by the output would change it
        paths = [path for source in _sources(select) for path in self._source_paths(source)]
        if not paths:
            return []
        equalities = _equalities(select)
        paths = [_equated(path, equalities) for path in paths]
        if distinct:
            select.set("distinct", None)
            select.group_by(*(p.unalias().copy() for p in select.expressions), copy=False)
            aggregating = True
        group = select.args["group"].expressions if select.args.get("group") else []
        outputs = [p.unalias() for p in select.expressions]
        carried = []
        for k, path in enumerate(paths):
            column, kind = path.users, path.kind
            if aggregating and kind is PathKind.USER_IDS and any(user_id in group for user_id in path.user_ids):
                column = exp.AnyValue(this=column)  # the group's one user
            elif aggregating:
                column, kind = _merged(column, kind, self._min_users), PathKind.USER_COUNTS
            select.select(exp.alias_(column, _HIDDEN.format(k)), copy=False)
            carried.append(_handed_up(kind, path.user_ids, outputs))
        return carried

    def _union(self, union: exp.Union) -> tuple[exp.Expression, list[_Carried]]:
        left, left_carried = self.relation(union.left)
        right, right_carried = self.relation(union.right)
        union.set("this", left)
        union.set("expression", right)
        if any(a.kind is not b.kind for a, b in zip(left_carried, right_carried, strict=False)):
            _as_counts(left, [c.kind for c in left_carried])
            _as_counts(right, [c.kind for c in right_carried])
            left_carried = [_Carried(PathKind.USER_COUNTS)] * len(left_carried)
            right_carried = [_Carried(PathKind.USER_COUNTS)] * len(right_carried)
        carried = _paired(left_carried, right_carried)
        _pad(left, len(left_carried), len(carried))
        _pad(right, len(right_carried), len(carried))
        if not union.args.get("distinct") or not carried:
            return union, carried
        return _distinct_union(union, carried, self._min_users)


def _handed_up(kind: PathKind, user_ids: frozenset[exp.Column], outputs: list[exp.Expression]) -> _Carried:
    """What a SELECT hands up of a path: its kind and, for user keys, the outputs that are its user."""
    if kind is not PathKind.USER_IDS:
        return _Carried(kind)
    return _Carried(kind, frozenset(k for k, output in enumerate(outputs) if output in user_ids))


def _paired(left: list[_Carried], right: list[_Carried]) -> list[_Carried]:
    """A union's paths from its branches' paths of the same kinds, paired by position.

    A path carries its user in the columns that carry it in every branch that has the path (the
    others pad it with NULL: no users).
    """
    paired = []
    for k in range(max(len(left), len(right))):
        branches = [carried[k] for carried in (left, right) if k < len(carried)]
        positions = frozenset.intersection(*(branch.user_id_positions for branch in branches))
        paired.append(_Carried(branches[0].kind, positions))
    return paired


def _hidden_paths(alias: str, query: exp.Expression, carried: list[_Carried]) -> list[_Path]:
    """The paths of a CTE or sub-query ``alias`` over ``query`` whose hidden columns carry ``carried``."""
    selects = final_selects(query)
    names = [p.alias_or_name for p in selects[0].expressions] if selects else []
    paths = []
    for k, path in enumerate(carried):
        user_ids = frozenset(exp.column(names[position], table=alias) for position in path.user_id_positions)
        paths.append(_Path(exp.column(_HIDDEN.format(k), table=alias), path.kind, user_ids))
    return paths


def _equalities(select: exp.Select) -> list[tuple[exp.Column, exp.Column]]:
    """Pairs ``(a, b)`` of columns that ``select``'s conditions make equal, so ``b`` determines ``a``.

    WHERE and inner-join ``a = b`` conditions (top-level ``AND`` terms) hold both ways on every row; a
    LEFT JOIN's hold for the rows of the joined source that remain (the others are NULL), so only the
    joined source's columns are determined. Other joins determine nothing.
    """
    where = select.args.get("where")
    pairs = _both_ways(_column_equalities(where.this)) if where else []
    for join in select.args.get("joins") or []:
        on, side, kind = join.args.get("on"), (join.side or "").upper(), (join.kind or "").upper()
        if on is None or side not in {"", "LEFT"} or kind not in {"", "INNER", "OUTER"}:
            continue  # FULL or RIGHT joins may leave either side NULL; SEMI and ANTI joins output one side
        equalities = _both_ways(_column_equalities(on))
        if side == "LEFT":
            joined = join.this.alias_or_name
            equalities = [(a, b) for a, b in equalities if a.table == joined]
        pairs += equalities
    return pairs


def _column_equalities(condition: exp.Expression) -> list[tuple[exp.Column, exp.Column]]:
    """The ``column = column`` terms of a condition's top-level ``AND``."""
    if isinstance(condition, exp.Paren):
        return _column_equalities(condition.this)
    if isinstance(condition, exp.And):
        return _column_equalities(condition.left) + _column_equalities(condition.right)
    if isinstance(condition, exp.EQ) and isinstance(condition.left, exp.Column) and isinstance(condition.right, exp.Column):
        return [(condition.left, condition.right)]
    return []


def _both_ways(pairs: list[tuple[exp.Column, exp.Column]]) -> list[tuple[exp.Column, exp.Column]]:
    """Equalities that hold on every row: each side determines the other."""
    return pairs + [(b, a) for a, b in pairs]


def _equated(path: _Path, equalities: list[tuple[exp.Column, exp.Column]]) -> _Path:
    """``path`` with every column that ``equalities`` make equal to its user among its user ids."""
    if path.kind is not PathKind.USER_IDS:
        return path
    user_ids = set(path.user_ids)
    while added := {b for a, b in equalities if a in user_ids} - user_ids:
        user_ids |= added
    return _Path(path.users, path.kind, frozenset(user_ids))


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


def _distinct_union(union: exp.Union, carried: list[_Carried], min_users: int) -> tuple[exp.Select, list[_Carried]]:
    """``a UNION b`` as ``SELECT cols, users FROM (a UNION ALL b) GROUP BY cols``, and its paths.

    The GROUP BY is of every column, so a path whose user one of them carries keeps its user ids.
    """
    first = final_selects(union)[0]
    names = [p.alias_or_name for p in first.expressions[: len(first.expressions) - len(carried)]]
    with_ = union.args.get("with_")
    union.set("with_", None)
    union.set("distinct", False)
    columns = [exp.column(name, table="__amc_union") for name in names]
    users, wrapped = [], []
    for k, path in enumerate(carried):
        hidden = exp.column(_HIDDEN.format(k), table="__amc_union")
        if path.kind is PathKind.USER_IDS and path.user_id_positions:
            users.append(exp.alias_(exp.AnyValue(this=hidden), _HIDDEN.format(k)))
            wrapped.append(path)
        else:
            users.append(exp.alias_(_merged(hidden, path.kind, min_users), _HIDDEN.format(k)))
            wrapped.append(_Carried(PathKind.USER_COUNTS))
    wrapper = exp.select(*[exp.alias_(c, n) for c, n in zip(columns, names, strict=True)], *users)
    wrapper = wrapper.from_(union.subquery("__amc_union")).group_by(*[c.copy() for c in columns])
    if with_:
        wrapper.set("with_", with_)
    return wrapper, wrapped


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
