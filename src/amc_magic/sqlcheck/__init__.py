"""Local pre-flight checks of AMC SQL, with sqlglot.

``check(sql)`` finds what AMC would refuse before anything is submitted: leftover ``{{...}}``
placeholders, syntax errors, unsupported constructs (LIMIT, ORDER BY outside ``OVER (...)``, RIGHT
JOIN, ``SELECT *`` on a table, ``GETDATE()``, no aggregation), unknown or ambiguous tables and columns (with a "did
you mean"), VERY_HIGH columns such as ``user_id`` in the output, and literal filters on HIGH or
VERY_HIGH columns. Each :class:`Problem` says what to do and where (line and column, 1-based).

Problem codes: ``placeholder``, ``syntax``, ``not_a_query``, ``limit``, ``order_by``, ``right_join``,
``select_star``, ``unsupported_function``, ``no_aggregation``, ``unknown_table``, ``unknown_alias``, ``unknown_column``,
``ambiguous_column``, ``duplicate_alias``, ``very_high_output``, ``literal_filter``.

The SQL is read with sqlglot's default dialect plus backtick identifiers (:class:`AmcDialect`), which
keeps AMC's ``''`` string escape that the Spark dialects misread.
"""

from .checker import check
from .parsing import AmcDialect
from .problem import Problem, Severity, details, errors

__all__ = ["AmcDialect", "Problem", "Severity", "check", "details", "errors"]
