"""A workflow's declared parameters: their types, converting values to them, and AMC's encodings.

A parameter is declared by a ``{{name}}`` or ``{{name.attr}}`` placeholder of the SQL template
(``{{window_start}}`` and ``{{window_end}}`` are the window, not parameters) and typed by the Python
value it had when the workflow was saved. Type names are canonical: ``str``, ``int``, ``float``,
``Decimal``, ``bool``, ``date``, ``datetime`` (also for ``pandas.Timestamp`` and ``numpy.datetime64``),
``NoneType``, and ``list[T]`` for every list-like value (``list``, ``tuple``, ``set``, ``Series``,
``Index``, arrays). None means the value was unknown.

On AMC a parameter is ``CUSTOM_PARAMETER('name')`` with the dots of an attribute chain turned into
``_`` (``{{cfg.start}}`` is ``cfg_start``), declared in ``inputParameters`` with these types:

======================  ===========================================
Python                  AMC ``dataType``
======================  ===========================================
``str``, unknown        ``STRING``
``int``                 ``LONG``
``float``               ``DOUBLE``
``Decimal``             ``DECIMAL``
``bool``                ``BOOLEAN``
``date``                ``DATE``
``datetime``            ``TIMESTAMP``
``list[T]``             ``{"type": "ARRAY", "elementDataType": T}``
======================  ===========================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from amc_magic.errors import ParameterError
from amc_magic.params import placeholders

BUILTIN_NAMES = frozenset({"window_start", "window_end"})
MISSING: Any = object()
"""Stands for "no value" where None is a value (SQL NULL)."""

_SEQUENCE_TYPES = (list, tuple, set, frozenset, pd.Series, pd.Index, pd.api.extensions.ExtensionArray, np.ndarray)
_AMC_TYPES = {
    "str": "STRING",
    "int": "LONG",
    "float": "DOUBLE",
    "Decimal": "DECIMAL",
    "bool": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


def declared_names(sql_template: str) -> list[str]:
    """The parameters a template declares: its placeholder expressions less the window's, in order."""
    return [name for name in placeholders(sql_template) if name.split(".")[0] not in BUILTIN_NAMES]


def declare_parameters(sql_template: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``{"name", "type", "default"}`` declarations of a template's parameters.

    Args:
        sql_template: SQL with ``{{name}}`` placeholders.
        values: the values by placeholder expression, or a namespace to look the expressions up
            in (``cfg.start`` is ``values["cfg"].start``). A parameter without a value gets type
            None and no default.
    """
    declared = []
    for name in declared_names(sql_template):
        value = lookup(name, values)
        entry: dict[str, Any] = {"name": name, "type": None if value is MISSING else type_name(value)}
        if value is not MISSING:
            entry["default"] = json_value(value)
        declared.append(entry)
    return declared


def lookup(expression: str, values: Mapping[str, Any]) -> Any:
    """The value of ``expression`` in ``values`` (by the whole expression, else by attribute chain), or MISSING."""
    if expression in values:
        return values[expression]
    head, *attributes = expression.split(".")
    if head not in values:
        return MISSING
    value = values[head]
    for attribute in attributes:
        value = getattr(value, attribute, MISSING)
        if value is MISSING:
            return MISSING
    return value


def type_name(value: Any) -> str:
    """The canonical type name of a parameter value (see the module docstring)."""
    if isinstance(value, _SEQUENCE_TYPES):
        names = {type_name(item) for item in _as_list(value)} - {"NoneType"}
        if names == {"int", "float"}:
            names = {"float"}
        return f"list[{names.pop()}]" if len(names) == 1 else "list[str]"
    if value is None:
        return "NoneType"
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, Decimal):
        return "Decimal"
    if isinstance(value, str):
        return "str"
    if isinstance(value, np.datetime64):
        return "date" if np.datetime_data(value.dtype)[0] in ("Y", "M", "W", "D") else "datetime"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return type(value).__name__


def convert(value: Any, type_name: str | None, name: str) -> Any:
    """``value`` as the declared type ``type_name``; text (a ``key=value`` override) is parsed.

    A list may be given as a list-like value, a JSON array or comma-separated text. None stays
    None (SQL NULL); an unknown or unsupported type name keeps the value as it is.

    Raises:
        ParameterError: the value cannot be read as that type.
    """
    if type_name is not None and type_name.startswith("list[") and type_name.endswith("]"):
        element = type_name[5:-1]
        return [_convert_scalar(item, element, name) for item in _as_items(value, name)]
    return _convert_scalar(value, type_name, name)


def amc_data_type(type_name: str | None) -> str | dict[str, str]:
    """AMC's ``dataType`` for a declared type (see the module docstring)."""
    if type_name is not None and type_name.startswith("list[") and type_name.endswith("]"):
        return {"type": "ARRAY", "elementDataType": _AMC_TYPES.get(type_name[5:-1], "STRING")}
    return _AMC_TYPES.get(type_name or "", "STRING")


def amc_parameter_name(expression: str) -> str:
    """The name a placeholder expression has on AMC: ``campaigns``, ``cfg.start`` as ``cfg_start``."""
    return expression.replace(".", "_")


def amc_value(value: Any) -> Any:
    """One value as AMC's ``parameterValues`` carry it: JSON numbers, booleans, text and arrays.

    Dates are ``YYYY-MM-DD``, timestamps ``YYYY-MM-DDTHH:MM:SS`` (an aware one in UTC), decimals
    text (a JSON number could lose digits), list-likes arrays.
    """
    if isinstance(value, _SEQUENCE_TYPES):
        return [amc_value(item) for item in _as_list(value)]
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.generic):
        return amc_value(pd.Timestamp(value).to_pydatetime() if isinstance(value, np.datetime64) else value.item())
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parameter_values_for_amc(values: Mapping[str, Any]) -> dict[str, Any]:
    """AMC's ``parameterValues`` for values keyed by placeholder expression (window bounds left out)."""
    return {
        amc_parameter_name(name): amc_value(value)
        for name, value in values.items()
        if name.split(".")[0] not in BUILTIN_NAMES
    }


def json_value(value: Any) -> Any:
    """A value as JSON data for the history (as :func:`amc_value`, read back by :func:`convert`)."""
    return amc_value(value)


def render_namespace(values: Mapping[str, Any]) -> dict[str, Any]:
    """A namespace in which ``params.render`` finds each expression's value (``cfg.start`` as an attribute)."""
    tree: dict[str, Any] = {}
    for name, value in values.items():
        head, *attributes = name.split(".")
        if not attributes:
            tree[head] = value
            continue
        node = tree.setdefault(head, {})
        if not isinstance(node, dict):
            continue  # the plain value of {{head}} wins; its own attributes are used
        for attribute in attributes[:-1]:
            node = node.setdefault(attribute, {})
        node[attributes[-1]] = value
    return {key: _as_namespace(node) for key, node in tree.items()}


def describe(parameters: Sequence[Mapping[str, Any]]) -> str:
    """``campaigns: list[str], n: int`` for people."""
    return ", ".join(f"{p['name']}: {p.get('type') or 'unknown'}" for p in parameters) or "none"


def _as_namespace(node: Any) -> Any:
    if isinstance(node, dict):
        return SimpleNamespace(**{key: _as_namespace(value) for key, value in node.items()})
    return node


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, set | frozenset):
        try:
            return sorted(value)
        except TypeError:
            return sorted(value, key=repr)
    return list(value)


def _as_items(value: Any, name: str) -> list[Any]:
    if isinstance(value, _SEQUENCE_TYPES):
        return _as_list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                raise ParameterError(
                    name, f"{{{{{name}}}}}: {text[:40]!r} is not a JSON array", hint=_list_hint(name)
                ) from None
            if isinstance(parsed, list):
                return parsed
        return [part.strip() for part in text.split(",") if part.strip()]
    return [value]


def _convert_scalar(value: Any, type_name: str | None, name: str) -> Any:
    if value is None or type_name in (None, "NoneType") or type_name not in {*_AMC_TYPES, "str"}:
        return value
    try:
        converted = _CONVERTERS[type_name](value)
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        converted = MISSING
    if converted is MISSING:
        raise ParameterError(
            name,
            f"{{{{{name}}}}} is declared {type_name} (the type its value had when the workflow was saved), "
            f"and {str(value)[:60]!r} is not one",
            hint=f"Give {name}= a {type_name} value, or save the workflow again with the new type.",
        )
    return converted


def _int(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return MISSING
    if isinstance(value, float | np.floating | Decimal):
        return int(value) if float(value).is_integer() else MISSING
    return int(value.strip() if isinstance(value, str) else value)


def _bool(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else MISSING


def _date(value: Any) -> Any:
    if isinstance(value, datetime | pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).date()
    return value if isinstance(value, date) else date.fromisoformat(str(value).strip())


def _datetime(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value).strip())


_CONVERTERS = {
    "str": lambda v: v if isinstance(v, str) else MISSING,
    "int": _int,
    "float": lambda v: MISSING if isinstance(v, bool) else float(v),
    "Decimal": lambda v: MISSING if isinstance(v, bool) else Decimal(str(v).strip()),
    "bool": _bool,
    "date": _date,
    "datetime": _datetime,
}


def _list_hint(name: str) -> str:
    return f"Give a list as comma-separated values ({name}=a,b,c) or a JSON array ({name}='[\"a\", \"b\"]')."
