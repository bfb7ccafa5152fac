"""Parsing AMC SQL with sqlglot, and finding where a node came from in the text.

AMC SQL is Calcite-like: ``'...'`` strings with ``''`` as the escaped quote, ``"..."`` identifiers.
sqlglot's Spark dialects read ``'Mother''s Day'`` as two adjacent strings, so the checks use sqlglot's
default (ANSI-like) dialect, extended to accept Spark-style backtick identifiers as well
(:class:`AmcDialect`). It parses AMC's own functions (``BUILT_IN_PARAMETER``, ``SECONDS_BETWEEN``,
``EXTEND_TIME_WINDOW`` in ``FROM``, ``SIMILAR TO`` ...) as ordinary or anonymous functions.
"""

from __future__ import annotations

import bisect
import re

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType
from sqlglot.tokens import Tokenizer as BaseTokenizer

from .balance import balance_connectors
from .problem import Problem


class AmcDialect(Dialect):
    """sqlglot's default dialect, plus backtick-quoted identifiers."""

    class Tokenizer(BaseTokenizer):
        IDENTIFIERS = ['"', "`"]


class Parsed:
    """One parsed statement with its tokens, able to locate nodes in the original text.

    Identifiers in ``tree`` are lowercased (AMC names are case-insensitive); :meth:`text` gives a node's
    original spelling. Long AND / OR chains are regrouped into balanced trees (:mod:`.balance`).
    """

    def __init__(self, sql: str, tree: exp.Expr, tokens: list[Token]) -> None:
        self.sql = sql
        self.tree = tree
        self.tokens = tokens
        self._lines = _line_starts(sql)
        self._token_offsets = [t.start for t in tokens]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        return _position(self._lines, offset)

    def start(self, node: exp.Expr) -> int | None:
        """Offset of the first character of ``node`` that sqlglot recorded, or None."""
        starts = [start for n in node.walk() if (start := n.meta_get("start")) is not None]
        return min(starts) if starts else None

    def locate(self, node: exp.Expr) -> tuple[int | None, int | None]:
        """1-based (line, column) where ``node`` starts, or (None, None)."""
        offset = self.start(node)
        return (None, None) if offset is None else self.position(offset)

    def locate_keyword(self, node: exp.Expr, token_type: TokenType) -> tuple[int | None, int | None]:
        """Location of the last ``token_type`` keyword before ``node`` (for clauses without their own position)."""
        offset = self.start(node)
        if offset is None:
            return None, None
        for index in range(bisect.bisect_left(self._token_offsets, offset) - 1, -1, -1):
            if self.tokens[index].token_type == token_type:
                return self.position(self.tokens[index].start)
        return self.locate(node)

    def text(self, node: exp.Expr) -> str:
        """The original spelling of an identifier-like node, without quotes."""
        ident = node if isinstance(node, exp.Identifier) else node.args.get("this")
        if isinstance(ident, exp.Identifier) and ident.meta_get("start") is not None:
            return self.sql[ident.meta_get("start") : ident.meta_get("end") + 1].strip('"`')
        return node.name


def final_selects(query: exp.Expr) -> list[exp.Select]:
    """The SELECTs whose rows ``query`` returns: itself, or every branch of a (nested) set operation."""
    selects: list[exp.Select] = []
    stack = [query]  # a stack, not recursion: a UNION of many SELECTs is as deep as it is long
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Subquery):
            stack.append(node.this)
        elif isinstance(node, exp.SetOperation):
            stack.extend((node.right, node.left))
        elif isinstance(node, exp.Select):
            selects.append(node)
    return selects


def parse(sql: str) -> Parsed | Problem:
    """Parse one AMC SQL statement, or say why it cannot be parsed (code ``syntax``/``not_a_query``)."""
    dialect = AmcDialect()
    try:
        toks = dialect.tokenize(sql)
        statements = [s for s in dialect.parser().parse(toks, sql) if s is not None]
    except ParseError as error:
        return _parse_problem(error)
    except TokenError as error:
        return _token_problem(sql, error)
    if not statements:
        return Problem("error", "syntax", "The query is empty: write one SELECT statement.")
    parsed = Parsed(sql, statements[0], toks)
    if len(statements) > 1:
        separator = next(i for i, t in enumerate(toks) if t.token_type == TokenType.SEMICOLON)
        line, column = parsed.position(toks[separator + 1].start)
        message = "Only one statement can run per query: remove the text after the first ';'."
        return Problem("error", "syntax", message, line, column)
    if not isinstance(statements[0], exp.Query):
        line, column = parsed.position(toks[0].start)
        message = "Only SELECT queries can run on AMC (no CREATE, INSERT, UPDATE or DELETE)."
        return Problem("error", "not_a_query", message, line, column)
    for ident in parsed.tree.find_all(exp.Identifier):
        ident.set("this", ident.this.lower())
    balance_connectors(parsed.tree)
    return parsed


def _parse_problem(error: ParseError) -> Problem:
    first = error.errors[0] if error.errors else {}
    highlight = str(first.get("highlight") or "")
    description = _readable(str(first.get("description") or error))
    line, end_column = first.get("line"), first.get("col")
    column = None
    if isinstance(end_column, int):
        column = max(1, end_column - len(highlight) + 1) if "\n" not in highlight else end_column
    near = f'Encountered "{highlight}"' if highlight else "Unexpected end of the query"
    message = f"{near}: {description}. Check the SQL just before this point."
    return Problem("error", "syntax", message, line if isinstance(line, int) else None, column)


def _readable(description: str) -> str:
    """sqlglot's error text without Python reprs of classes and tokens."""
    description = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", description)
    return re.sub(
        r"<Token token_type: TokenType\.(\w+), text: (.*?), line: .*?>",
        lambda m: "the end of the query" if m.group(1) == "SENTINEL" else f'"{m.group(2)}"',
        description,
    )


def _token_problem(sql: str, error: TokenError) -> Problem:
    found = re.search(r"Missing (.+?) from \d+:(\d+)", str(error.__cause__ or ""))
    if found is None:
        return Problem("error", "syntax", "The query could not be read: look for an unclosed quote or comment.")
    quote, offset = found.group(1), min(int(found.group(2)), max(len(sql) - 1, 0))
    line, column = _position(_line_starts(sql), offset)
    return Problem("error", "syntax", f"Unterminated quoted text: a {quote} has no closing {quote}.", line, column)


def _line_starts(sql: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", sql)]


def _position(line_starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect.bisect_right(line_starts, offset)
    return line, offset - line_starts[line - 1] + 1
