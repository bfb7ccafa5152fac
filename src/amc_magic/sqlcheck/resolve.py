"""Name resolution over sqlglot scopes: which table or CTE a column comes from, which protected
(HIGH or VERY_HIGH) base columns flow into a value, and whether a value is only written in the query.

A source whose columns cannot be known (a table missing from the schema, a table function) is
*opaque*: any column of it is accepted and carries no protected lineage.

A value's :class:`Origin` says where its values come from: table data, or only literals and
``CUSTOM_PARAMETER`` values written in the query, directly or through CTEs, subqueries, ``VALUES``
lists and unions of them (``WITH c AS (SELECT 'Seattle' AS city) ...`` makes ``c.city`` written).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, ScopeType, traverse_scope

from ..schema import Table, Threshold

EXTEND_TIME_WINDOW = "EXTEND_TIME_WINDOW"
BUILT_IN_PARAMETER = "BUILT_IN_PARAMETER"


@dataclass(frozen=True)
class Protected:
    """A base column whose aggregation threshold restricts how it may be used."""

    table: str
    column: str
    threshold: Threshold


Lineage = frozenset[Protected]
Columns = dict[str, Lineage]  # lowercase column name -> protected base columns behind it
Source = exp.Table | Scope
NO_LINEAGE: Lineage = frozenset()


class Origin(enum.IntEnum):
    """Where a value's values come from; a combination of values has the largest origin of its parts."""

    NONE = 0  # no value at all: NULL, CURRENT_DATE, UUID() ...
    WRITTEN = 1  # only literals and CUSTOM_PARAMETER values written in the query
    DATA = 2  # table data, BUILT_IN_PARAMETER (the time window), or anything not known to be written


@dataclass(frozen=True)
class Resolved:
    """The column was found; ``lineage`` is what it carries.

    ``found`` lists the (source, column name) pairs it reads (none for an opaque source or a struct
    field); ``alias`` is the scope and expression of the SELECT alias it names in GROUP BY or HAVING.
    """

    lineage: Lineage
    found: tuple[tuple[Source, str], ...] = ()
    alias: tuple[Scope, exp.Expr] | None = None


@dataclass(frozen=True)
class Unresolved:
    """The column was not found (or not uniquely): why, and the names that were available."""

    reason: Literal["unknown_column", "unknown_alias", "ambiguous"]
    candidates: tuple[str, ...]


# Wrapping a protected column in these does not expose its values.
_SHIELDS = (exp.Count, exp.ApproxDistinct, exp.Predicate)


class Resolver:
    """Resolves the columns of one parsed query against ``tables`` (keys compared case-insensitively)."""

    def __init__(self, tree: exp.Expr, tables: Mapping[str, Table]) -> None:
        self.scopes = traverse_scope(tree)
        self._tables = {name.lower(): table for name, table in tables.items()}
        self._scope_of = {id(scope.expression): scope for scope in self.scopes}
        self._outputs: dict[int, list[tuple[str, Lineage]] | None] = {}
        self._sources: dict[int, tuple[dict[str, Source], list[exp.Expr]]] = {}
        self._columns: dict[int, Columns | None] = {}
        self._resolved: dict[tuple[int, int], Resolved | Unresolved] = {}
        self._origins: dict[int, list[Origin] | None] = {}
        self._origins_filled = False
        self._origin_columns: dict[int, tuple[dict[str, Origin], Origin]] = {}

    # --- tables and sources --------------------------------------------------------------------

    def scope_of(self, query: exp.Expr) -> Scope | None:
        """The scope whose root is ``query``."""
        return self._scope_of.get(id(query))

    def table_name(self, source: exp.Table) -> exp.Expr | None:
        """The node naming the schema table behind ``source`` (unwrapping EXTEND_TIME_WINDOW), or None."""
        if not isinstance(source.this, exp.Func):
            return source
        for func in source.this.find_all(exp.Anonymous):
            if func.name.upper() == EXTEND_TIME_WINDOW and func.expressions:
                first = func.expressions[0]
                return first if isinstance(first, (exp.Column, exp.Table, exp.Identifier)) else None
        return None

    def table_of(self, source: exp.Table) -> Table | None:
        """The schema table behind ``source``, or None if it is unknown or not a plain table."""
        named = self.table_name(source)
        return None if named is None else self._tables.get(named.name)

    def table_names(self) -> list[str]:
        """Names of the schema's tables."""
        return [t.name for t in self._tables.values()]

    def sources(self, scope: Scope) -> dict[str, Source]:
        """The sources selected in ``scope`` (FROM and JOIN), by lowercase alias."""
        return self._selected(scope)[0]

    def duplicate_aliases(self, scope: Scope) -> list[exp.Expr]:
        """FROM/JOIN items of ``scope`` whose alias repeats an earlier one."""
        return self._selected(scope)[1]

    def _selected(self, scope: Scope) -> tuple[dict[str, Source], list[exp.Expr]]:
        if id(scope) not in self._sources:
            selected: dict[str, Source] = {}
            duplicates: list[exp.Expr] = []
            for name, node in scope.references:
                if name in selected:
                    duplicates.append(node)
                elif name in scope.sources:
                    selected[name] = scope.sources[name]
            self._sources[id(scope)] = (selected, duplicates)
        return self._sources[id(scope)]

    def columns_of(self, source: Source) -> Columns | None:
        """The columns ``source`` offers with their lineage, or None if it is opaque."""
        key = id(source)
        if key not in self._columns:
            self._columns[key] = self._compute_columns(source)
        return self._columns[key]

    def _compute_columns(self, source: Source) -> Columns | None:
        if isinstance(source, Scope):
            outputs = self.outputs(source)
            return None if outputs is None else dict(outputs)
        table = self.table_of(source)
        if table is None:
            return None
        return {
            c.name.lower(): frozenset({Protected(table.name, c.name, c.threshold)}) if c.threshold >= Threshold.HIGH else NO_LINEAGE
            for c in table.columns
        }

    # --- outputs of a query ----------------------------------------------------------------------

    def outputs(self, scope: Scope) -> list[tuple[str, Lineage]] | None:
        """The output columns of ``scope`` in order, with lineage; None if they cannot be known."""
        key = id(scope)
        if key not in self._outputs:
            self._outputs[key] = None  # guards against cycles
            self._outputs[key] = self._rename(scope, self._compute_outputs(scope))
        return self._outputs[key]

    def _compute_outputs(self, scope: Scope) -> list[tuple[str, Lineage]] | None:
        query = scope.expression
        if isinstance(query, exp.SetOperation):
            left, right = (self.outputs(s) for s in scope.set_operation_scopes)
            if left is None:
                return None
            rights = [lineage for _, lineage in right or []]
            return [(name, lineage | (rights[i] if i < len(rights) else NO_LINEAGE)) for i, (name, lineage) in enumerate(left)]
        if not isinstance(query, exp.Select):
            return None
        result: list[tuple[str, Lineage]] = []
        for projection in query.expressions:
            if is_star(projection):
                expanded = self.expand_star(scope, projection)
                if expanded is None:
                    return None
                for source in expanded:
                    columns = self.columns_of(source)
                    if columns is None:
                        return None
                    result.extend(columns.items())
            else:
                result.append((projection.alias_or_name, frozenset(p for _, p in self.exposure(scope, projection))))
        return result

    def _rename(self, scope: Scope, outputs: list[tuple[str, Lineage]] | None) -> list[tuple[str, Lineage]] | None:
        if not scope.outer_columns:
            return outputs
        lineages = [lineage for _, lineage in outputs or []]
        return [(name.lower(), lineages[i] if i < len(lineages) else NO_LINEAGE) for i, name in enumerate(scope.outer_columns)]

    def expand_star(self, scope: Scope, star: exp.Expr) -> list[Source] | None:
        """The sources a ``*`` or ``t.*`` projection expands, or None if ``t`` is not a source."""
        sources = self.sources(scope)
        if isinstance(star, exp.Column) and star.table:
            source = sources.get(star.table)
            return None if source is None else [source]
        return list(sources.values())

    # --- columns ---------------------------------------------------------------------------------

    def own_columns(self, scope: Scope) -> list[exp.Column]:
        """Columns written in ``scope`` itself (not in its subqueries), stars excluded."""
        return [
            c
            for c in scope.columns
            if not isinstance(c.this, exp.Star) and c.find_ancestor(exp.Select, exp.SetOperation) is scope.expression
        ]

    def resolve(self, scope: Scope, column: exp.Column) -> Resolved | Unresolved:
        """Find ``column`` in ``scope``, then in the scopes a correlated subquery can see."""
        key = (id(scope), id(column))
        if key not in self._resolved:
            self._resolved[key] = self._resolve(scope, column)
        return self._resolved[key]

    def _resolve(self, scope: Scope, column: exp.Column) -> Resolved | Unresolved:
        misses: list[Unresolved] = []
        for candidate in _visible_scopes(scope):
            result = self._resolve_in(candidate, column)
            if isinstance(result, Resolved) or result.reason == "ambiguous":
                return result
            misses.append(result)
        return misses[0]  # the innermost scope says best what is missing

    def _resolve_in(self, scope: Scope, column: exp.Column) -> Resolved | Unresolved:
        sources = self.sources(scope)
        name, qualifier = column.name, column.table
        if qualifier:
            source = sources.get(qualifier) or next(
                (s for s in sources.values() if isinstance(s, exp.Table) and s.name == qualifier), None
            )
            if source is None:
                if any(self._offers(s, qualifier) for s in sources.values()):
                    return Resolved(NO_LINEAGE)  # struct field access: column.field
                return Unresolved("unknown_alias", tuple(sources))
            columns = self.columns_of(source)
            if columns is None:
                return Resolved(NO_LINEAGE, ((source, name),))
            if name not in columns:
                return Unresolved("unknown_column", tuple(columns))
            return Resolved(columns[name], ((source, name),))
        found: dict[str, tuple[Source, Lineage]] = {}
        opaque = False
        for alias, source in sources.items():
            columns = self.columns_of(source)
            if columns is None:
                opaque = True
            elif name in columns:
                found[alias] = (source, columns[name])
        if len(found) == 1 or (found and name in _using_columns(scope)):
            lineage = frozenset().union(*(lineage for _, lineage in found.values()))
            return Resolved(lineage, tuple((source, name) for source, _ in found.values()))
        if found:
            return Unresolved("ambiguous", tuple(found))
        if opaque:
            return Resolved(NO_LINEAGE)
        projection = self._output_alias(scope, column)
        if projection is not None:
            return Resolved(frozenset(p for _, p in self.exposure(scope, projection)), alias=(scope, projection))
        offered = [n for s in sources.values() for n in self.columns_of(s) or {}]
        return Unresolved("unknown_column", tuple(offered))

    def _offers(self, source: Source, name: str) -> bool:
        columns = self.columns_of(source)
        return columns is not None and name in columns

    def _output_alias(self, scope: Scope, column: exp.Column) -> exp.Expr | None:
        """The expression of the SELECT alias ``column`` names, when it stands in GROUP BY or HAVING."""
        query = scope.expression
        clause = column.find_ancestor(exp.Group, exp.Having, exp.Select)
        if not isinstance(clause, (exp.Group, exp.Having)) or clause.parent is not query:
            return None
        for projection in query.expressions:  # the clause's parent is a SELECT
            if isinstance(projection, exp.Alias) and projection.alias == column.name:
                return projection.this
        return None

    def exposure(self, scope: Scope, node: exp.Expr) -> Iterator[tuple[exp.Column, Protected]]:
        """Protected base columns whose values ``node`` passes on, with the column that brings each.

        A column inside COUNT / APPROX_COUNT_DISTINCT or a comparison does not pass its values on.
        Subqueries are not followed.
        """
        for column in node.find_all(exp.Column):
            if isinstance(column.this, exp.Star) or in_subquery(column, node) or _shielded(column, node):
                continue
            result = self.resolve(scope, column)
            if isinstance(result, Resolved):
                for protected in result.lineage:
                    yield column, protected

    # --- origins ---------------------------------------------------------------------------------

    def origin(self, scope: Scope, nodes: exp.Expr | list[exp.Expr]) -> Origin:
        """Where the values of ``nodes`` (read in ``scope``) come from; a subquery gives its first column's."""
        found = Origin.NONE
        stack = list(nodes) if isinstance(nodes, list) else [nodes]
        while stack and found is not Origin.DATA:
            node = stack.pop()
            if isinstance(node, exp.Column):
                found = max(found, Origin.DATA if isinstance(node.this, exp.Star) else self._column_origin(scope, node))
            elif isinstance(node, exp.Query):
                found = max(found, self.query_origin(node))
            elif isinstance(node, (exp.Literal, exp.Boolean)):
                found = max(found, Origin.WRITTEN)
            elif isinstance(node, (exp.Star, exp.Count, exp.Exists)) or _is_built_in_parameter(node):
                found = Origin.DATA  # rows counted or tested, or the time window: not values written
            elif not isinstance(node, exp.DataType):  # CAST(... AS DECIMAL(38, 4)) writes no value
                stack.extend(node.iter_expressions())
        return found

    def query_origin(self, query: exp.Expr) -> Origin:
        """The origin of the first output column of ``query`` (a scalar or ``IN`` subquery's value)."""
        while isinstance(query, exp.Subquery):
            query = query.this
        scope = self.scope_of(query)
        origins = None if scope is None else self.output_origins(scope)
        return origins[0] if origins else Origin.DATA

    def output_origins(self, scope: Scope) -> list[Origin] | None:
        """The origin of each output column of ``scope`` in order; None if its outputs cannot be known."""
        if not self._origins_filled:
            # Fill the cache inner scopes first (the order of ``scopes``), so that a long chain of CTEs
            # is followed one step at a time instead of by recursion.
            self._origins_filled = True
            for inner in self.scopes:
                self.output_origins(inner)
        key = id(scope)
        if key not in self._origins:
            self._origins[key] = None  # guards against cycles
            self._origins[key] = self._compute_origins(scope)
        return self._origins[key]

    def _compute_origins(self, scope: Scope) -> list[Origin] | None:
        query = scope.expression
        if isinstance(query, exp.SetOperation):
            left, right = (self.output_origins(s) for s in scope.set_operation_scopes)
            if left is None or right is None:
                return None
            return [max(a, b) for a, b in zip(left, right, strict=False)] + [Origin.DATA] * abs(len(left) - len(right))
        if isinstance(query, exp.Values):
            rows = [row.expressions if isinstance(row, exp.Tuple) else [row] for row in query.expressions]
            width = max((len(row) for row in rows), default=0)
            return [self.origin(scope, [row[i] for row in rows if i < len(row)]) for i in range(width)]
        if not isinstance(query, exp.Select):
            return None
        result: list[Origin] = []
        for projection in query.expressions:
            if not is_star(projection):
                result.append(self.origin(scope, projection))
                continue
            for source in self.expand_star(scope, projection) or []:
                columns = self.columns_of(source)
                if columns is None:
                    return None
                result.extend(self.source_origin(source, name) for name in columns)
        return result

    def source_origin(self, source: Source, name: str) -> Origin:
        """The origin of column ``name`` of ``source``: DATA for a table, what it selects for a query."""
        if not isinstance(source, Scope):
            return Origin.DATA
        key = id(source)
        if key not in self._origin_columns:
            self._origin_columns[key] = self._compute_origin_columns(source)
        by_name, rest = self._origin_columns[key]
        return by_name.get(name, rest)

    def _compute_origin_columns(self, scope: Scope) -> tuple[dict[str, Origin], Origin]:
        """Origins by output name, and the origin of a name not among them."""
        origins = self.output_origins(scope)
        if origins is None:
            return {}, Origin.DATA
        names = scope.outer_columns or [n for n, _ in self.outputs(scope) or []]
        by_name = dict(zip(names, origins, strict=False))  # a repeated name keeps its last column, as columns_of
        if isinstance(scope.expression, exp.Values) and not scope.outer_columns:
            return by_name, max(origins, default=Origin.DATA)  # an opaque VALUES list: every value is written
        return by_name, Origin.DATA

    def _column_origin(self, scope: Scope, column: exp.Column) -> Origin:
        result = self.resolve(scope, column)
        if not isinstance(result, Resolved):
            return Origin.DATA
        if result.alias is not None:
            return self.origin(*result.alias)
        if not result.found:
            return Origin.DATA
        return max(self.source_origin(source, name) for source, name in result.found)


def _is_built_in_parameter(node: exp.Expr) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.upper() == BUILT_IN_PARAMETER


def is_star(projection: exp.Expr) -> bool:
    """True for ``*`` and ``t.*`` projections."""
    return isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star))


def in_subquery(node: exp.Expr, root: exp.Expr) -> bool:
    """True if a query stands between ``node`` and ``root`` (``node`` is that query's business)."""
    while node is not root and node.parent is not None:
        node = node.parent
        if node is not root and isinstance(node, exp.Query):
            return True
    return False


def _shielded(column: exp.Column, root: exp.Expr) -> bool:
    """True if a shield, or a window's PARTITION BY / ORDER BY, stands between ``column`` and ``root``."""
    child: exp.Expr = column
    while child is not root and child.parent is not None:
        node = child.parent
        if isinstance(node, _SHIELDS) or (isinstance(node, exp.Window) and child.arg_key != "this"):
            return True
        child = node
    return False


def _visible_scopes(scope: Scope) -> Iterator[Scope]:
    yield scope
    while scope.scope_type in (ScopeType.SUBQUERY, ScopeType.SET_OPERATION) and scope.parent is not None:
        scope = scope.parent
        yield scope


def _using_columns(scope: Scope) -> set[str]:
    """Names joined with ``USING (...)`` in ``scope``: one column, not an ambiguous pair."""
    if not isinstance(scope.expression, exp.Select):
        return set()
    return {ident.name for join in scope.expression.args.get("joins") or [] for ident in join.args.get("using") or []}
