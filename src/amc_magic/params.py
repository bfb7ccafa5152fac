"""Render ``{{name}}`` placeholders in AMC SQL as safe SQL literals.

This is the only way notebook values reach the SQL, so it is also the injection defence: every
value becomes a literal of a known type, never raw SQL text.

Placeholders are ``{{name}}`` or ``{{name.attr.attr}}``, with optional whitespace inside the
braces (``{{ campaigns }}``). Names are looked up in ``builtins`` first (``window_start``,
``window_end``) and then in the notebook namespace. The SQL is scanned once, so a rendered value is
never scanned again: a string value containing ``{{x}}`` stays that text inside its quotes. A
``{{`` without a closing ``}}`` is left alone (the SQL checks report it).

Literal rules:

- ``None``: ``NULL``. ``bool``, ``numpy.bool_``: ``TRUE`` / ``FALSE``.
- ``int`` and numpy integers: ``42``, ``-42``. Where the placeholder follows a ``-``, a space
  is put before a negative value, so ``a-{{n}}`` renders ``a- -42`` and never the comment ``a--42``.
- finite ``float`` and numpy floats: ``repr`` of the Python float, which round-trips exactly and
  may use an exponent (``1e-07``, read by SQL as a DOUBLE).
- finite ``Decimal``: plain notation, never scientific (``Decimal('1E+2')`` renders ``100``).
- ``str``, ``numpy.str_``: ``'...'`` with each ``'`` doubled.
- ``date``: ``'YYYY-MM-DD'``.
- ``datetime``, ``pandas.Timestamp``, ``numpy.datetime64``: ``'YYYY-MM-DD HH:MM:SS'``, an aware
  value converted to UTC first; fractions of a second are dropped (AMC's timestamps are whole
  seconds). A ``datetime64`` with a unit of a day or coarser renders as a date.
- ``list``, ``tuple``, ``set``, ``frozenset``, ``pandas.Series``/``Index``/array, 1-d
  ``numpy.ndarray``: the element literals joined by ``", "``, for ``IN (...)``; sets in sorted
  order (by value, or by type and ``repr`` when the values cannot be compared).

String literals follow standard SQL, as AMC's documentation does (a quote is escaped by doubling
it: ``'men''s electric shaver'``). AMC documents no backslash escapes, so a backslash is an
ordinary character and is not escaped (the sandbox's DuckDB reads literals the same way). NUL
characters and text that cannot be encoded as UTF-8 (lone surrogates) are rejected, since they
cannot travel safely to AMC. Everything else (newlines, ``--``, ``/*``, ``{{``, any Unicode) stays
inside the quotes verbatim.

Anything else is a :class:`~amc_magic.errors.ParameterError` that names the placeholder: an
undefined name, a missing attribute, an empty or nested list, NaN or infinity, ``pandas.NA`` or
``NaT``, and any other type (``dict``, ``bytes``, ``time``, objects).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError

__all__ = ["placeholders", "render"]

_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
# What a placeholder may sit in: comments are left as written; quoted text must not hold one.
_LEXEME = re.compile(
    r"""(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))"""
    r"""|(?P<quoted>'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?)"""
    r"""|\{\{(?P<placeholder>[^{}]*)\}\}""",
    re.S,
)
_NAME_CHAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_SEQUENCE_TYPES = (list, tuple, set, frozenset, pd.Series, pd.Index, pd.api.extensions.ExtensionArray, np.ndarray)


def placeholders(sql: str) -> list[str]:
    """List the placeholder expressions in ``sql``, each once, in order of first appearance.

    Args:
        sql: SQL text with ``{{name}}`` / ``{{name.attr}}`` placeholders.

    Returns:
        The expressions with surrounding whitespace removed, e.g. ``["campaigns", "cfg.start"]``.
        Malformed placeholders (``{{ 1x }}``) are left out; :func:`render` reports them.
    """
    found: dict[str, None] = {}
    for match in _LEXEME.finditer(sql):
        expression = (match.group("placeholder") or "").strip()
        if _NAME_CHAIN.fullmatch(expression):
            found.setdefault(expression)
    return list(found)


def render(sql: str, namespace: Mapping[str, Any], *, builtins: Mapping[str, Any] | None = None) -> str:
    """Replace every ``{{name}}`` / ``{{name.attr}}`` in ``sql`` with a SQL literal.

    Args:
        sql: SQL text with placeholders.
        namespace: the notebook's variables (for example IPython's ``user_ns``).
        builtins: values looked up before ``namespace``, such as ``TimeWindow.builtins()``.
            Its ``__getitem__`` may itself raise :class:`ParameterError`.

    Returns:
        The SQL with each placeholder replaced by its literal (see the module docstring).

    Raises:
        ParameterError: a placeholder is malformed, undefined, or holds a value that has no safe
            literal; ``.name`` is the placeholder expression.
    """
    scopes = (builtins or {}, namespace)

    def replace(match: re.Match[str]) -> str:
        if match.group("comment") is not None:
            return match.group(0)  # comments are not rendered: a value could end a -- comment
        if match.group("quoted") is not None:
            _refuse_quoted_placeholder(match.group(0))
            return match.group(0)
        expression = match.group("placeholder").strip()
        if not _NAME_CHAIN.fullmatch(expression):
            raise ParameterError(
                expression,
                f"{{{{{expression}}}}} is not a valid placeholder",
                hint="Use a variable name or an attribute chain, such as {{campaigns}} or {{config.start}}; "
                "compute anything else into a variable first.",
            )
        literal = _literal(_lookup(expression, scopes), expression)
        if literal.startswith("-") and sql[: match.start()].endswith("-"):
            return " " + literal  # a-{{n}} must not become the comment a--5
        return literal

    return _LEXEME.sub(replace, sql)


def _refuse_quoted_placeholder(quoted: str) -> None:
    """A placeholder inside quotes would put its literal inside another literal: refuse it."""
    inner = _PLACEHOLDER.search(quoted)
    if inner is None:
        return
    expression = inner.group(1).strip()
    raise ParameterError(
        expression,
        f"{{{{{expression}}}}} is inside quotes ({quoted[:40]}{'...' if len(quoted) > 40 else ''}); "
        "a placeholder renders its own quotes",
        hint=f"Write {{{{{expression}}}}} without quotes around it, e.g. campaign = {{{{{expression}}}}}.",
    )


def _lookup(expression: str, scopes: Iterable[Mapping[str, Any]]) -> Any:
    """Resolve ``name.attr.attr`` against the first scope that defines ``name``."""
    head, *attributes = expression.split(".")
    for scope in scopes:
        if head in scope:
            value = scope[head]
            break
    else:
        raise ParameterError(
            expression,
            f"{{{{{expression}}}}}: '{head}' is not defined",
            hint=f"Define {head} in the notebook (or fix the spelling) before running the cell.",
        )
    for depth, attribute in enumerate(attributes, start=1):
        try:
            value = getattr(value, attribute)
        except AttributeError:
            owner = ".".join([head, *attributes[: depth - 1]])
            raise ParameterError(
                expression,
                f"{{{{{expression}}}}}: {owner} ({type(value).__name__}) has no attribute '{attribute}'",
                hint="Only attribute access is supported in placeholders; "
                "assign the value to a variable and use {{that_variable}}.",
            ) from None
    return value


def _literal(value: Any, name: str) -> str:
    """Render one value, or a flat collection of values, as SQL."""
    label = f"{{{{{name}}}}}"
    if isinstance(value, _SEQUENCE_TYPES):
        items = _items(value, name, label)
        return ", ".join(_scalar_literal(item, name, f"{label}[{index}]") for index, item in enumerate(items))
    return _scalar_literal(value, name, label)


def _items(value: Any, name: str, label: str) -> list[Any]:
    """The elements of a collection, checked to be a non-empty flat list; sets in sorted order."""
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise ParameterError(
            name,
            f"{label} is a {value.ndim}-dimensional array; only flat lists can be rendered",
            hint=f"Pass a one-dimensional array, for example {name}.ravel().",
        )
    items = _sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    if not items:
        raise ParameterError(
            name,
            f"{label} is an empty {type(value).__name__}; it would render as IN ()",
            hint="Give at least one value, or leave that filter out of the query when the list is empty.",
        )
    for index, item in enumerate(items):
        if isinstance(item, (*_SEQUENCE_TYPES, dict)):
            raise ParameterError(
                name,
                f"{label} is a nested collection: {label}[{index}] is {_a(type(item).__name__)}",
                hint="Flatten it to a list of scalar values first.",
            )
    return items


def _sorted(values: set[Any] | frozenset[Any]) -> list[Any]:
    """Sort a set deterministically, even when its elements cannot be compared with each other."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda item: (type(item).__qualname__, repr(item)))


def _scalar_literal(value: Any, name: str, label: str) -> str:
    """Render one scalar; ``name`` is the placeholder, ``label`` what the error message calls the value."""
    if value is None:
        return "NULL"
    if value is pd.NA or value is pd.NaT or (isinstance(value, np.datetime64) and np.isnat(value)):
        raise ParameterError(
            name,
            f"{label} is a missing value ({value!r})",
            hint="Use None for SQL NULL, or drop missing values first (for example with .dropna()).",
        )
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.timedelta64):
        return str(int(value))
    if isinstance(value, (float, np.floating, Decimal)):
        return _number_literal(value, name, label)
    if isinstance(value, str):
        return _string_literal(value, name, label)
    if isinstance(value, np.datetime64):
        return _datetime64_literal(value)
    if isinstance(value, datetime):
        return f"'{_timestamp_text(value)}'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    raise ParameterError(
        name,
        f"{label} is {_a(type(value).__name__)}, which has no SQL literal",
        hint="Supported: str, int, float, Decimal, bool, None, date, datetime, and lists, tuples, sets, "
        "Series, Index or 1-d arrays of those.",
    )


def _number_literal(value: float | np.floating[Any] | Decimal, name: str, label: str) -> str:
    """A finite float (``repr``, round-trips) or Decimal (plain notation, never an exponent)."""
    finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    if not finite:
        raise ParameterError(
            name,
            f"{label} is {value!r}; SQL has no literal for NaN or infinity",
            hint="Use None for SQL NULL, or drop non-finite values first.",
        )
    return format(value, "f") if isinstance(value, Decimal) else repr(float(value))


def _string_literal(value: str, name: str, label: str) -> str:
    """Quote a string the standard SQL way: ``'`` doubled, every other character verbatim."""
    text = str.__str__(value)  # the underlying text, whatever a str subclass overrides
    if "\x00" in text:
        raise ParameterError(
            name,
            f"{label} contains a NUL character (\\x00), which cannot be sent safely to AMC",
            hint="Remove it first, for example with .replace('\\x00', '').",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParameterError(
            name,
            f"{label} contains characters that cannot be encoded as UTF-8 (lone surrogates)",
            hint="Clean the text first, for example with .encode('utf-8', 'replace').decode('utf-8').",
        ) from None
    return "'" + text.replace("'", "''") + "'"


def _datetime64_literal(value: np.datetime64) -> str:
    """Render a ``numpy.datetime64`` as a date (unit of a day or coarser) or as a timestamp."""
    unit, _ = np.datetime_data(value.dtype)
    if unit in ("Y", "M", "W", "D"):
        return f"'{value.astype('datetime64[D]').item().isoformat()}'"
    return f"'{_timestamp_text(pd.Timestamp(value))}'"


def _timestamp_text(value: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS``: in UTC for an aware value, as given for a naive one."""
    if value.utcoffset() is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _a(noun: str) -> str:
    """``noun`` with its indefinite article (``an object``, ``a dict``)."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
