"""A saved workflow as AMC's saved workflow: ``CUSTOM_PARAMETER`` SQL and ``inputParameters``.

The template is scanned the way :func:`amc_magic.params.render` scans it, so a placeholder means
the same thing on both paths: ``{{ name }}`` (spaces allowed) and ``{{name.attr}}`` become
``CUSTOM_PARAMETER('name')`` / ``CUSTOM_PARAMETER('name_attr')``; ``{{window_start}}`` and
``{{window_end}}`` become ``BUILT_IN_PARAMETER('TIME_WINDOW_START')`` / ``('TIME_WINDOW_END')``;
placeholders in ``--`` and ``/* */`` comments are left as written; a placeholder inside quotes, or
one that is not a name (``{{ 1x }}``, ``{{a'b}}``), is refused, so nothing but an identifier ever
lands between the quotes of ``CUSTOM_PARAMETER('...')``.

A list renders locally as ``a, b, c`` for ``IN (...)``; AMC passes it as an array, which ``IN``
cannot take, so ``expr [NOT] IN ({{names}})`` becomes ``[NOT] ARRAY_CONTAINS(CUSTOM_PARAMETER('names'),
expr)`` when ``expr`` is a column or a function call. Elsewhere a list placeholder is a plain
``CUSTOM_PARAMETER``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from amc_magic.errors import ParameterError
from amc_magic.history.records import WorkflowRecord
from amc_magic.history.workflows import WorkflowVersion
from amc_magic.workflows.parameters import (
    amc_data_type,
    amc_parameter_name,
    amc_value,
    convert,
    declared_names,
)

_LEXEME = re.compile(
    r"""(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))"""
    r"""|(?P<quoted>'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?)"""
    r"""|\{\{(?P<placeholder>[^{}]*)\}\}""",
    re.S,
)
_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
_NAME_CHAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_IN_OPEN = re.compile(r"\bIN\s*\(\s*\Z", re.I)
_NOT_END = re.compile(r"\bNOT\s*\Z", re.I)
_CLOSE = re.compile(r"\s*\)")
_OPERAND_CHARS = re.compile(r"[A-Za-z0-9_.\"`]")
_BUILT_IN = {"window_start": "TIME_WINDOW_START", "window_end": "TIME_WINDOW_END"}


def to_amc_sql(sql_template: str, parameters: Sequence[Mapping[str, Any]] = ()) -> str:
    """The template with every placeholder rewritten for AMC (see the module docstring).

    Args:
        sql_template: SQL with ``{{name}}`` placeholders.
        parameters: the declarations (``{"name", "type"}``); a ``list[...]`` type gets the
            ``ARRAY_CONTAINS`` rewrite inside ``IN (...)``.

    Raises:
        ParameterError: a placeholder is inside quotes, or is not a name or attribute chain.
    """
    lists = {p["name"] for p in parameters if str(p.get("type") or "").startswith("list")}
    out: list[str] = []
    position = 0
    while (match := _LEXEME.search(sql_template, position)) is not None:
        out.append(sql_template[position : match.start()])
        position = match.end()
        if match.group("placeholder") is None:
            if match.group("quoted") is not None:
                _refuse_quoted(match.group(0))
            out.append(match.group(0))
            continue
        expression = _expression(match.group("placeholder"))
        reference = _reference(expression)
        closing = _CLOSE.match(sql_template, position)
        if expression in lists and closing is not None:
            rewritten = _array_contains("".join(out), reference)
            if rewritten is not None:
                out = [rewritten]
                position = closing.end()
                continue
        out.append(reference)
    out.append(sql_template[position:])
    return "".join(out)


def input_parameters(sql_template: str, parameters: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """AMC's ``inputParameters`` for the template's parameters, with the saved values as defaults.

    Each is ``{"name", "dataType", "columnType": "DIMENSION", "description"}`` plus
    ``defaultValue`` when a value was saved (a schedule runs the workflow with no
    ``parameterValues``). A placeholder without a declaration is a ``STRING``.
    """
    declared = {p["name"]: p for p in parameters}
    out = []
    for name in declared_names(sql_template):
        parameter = declared.get(name, {})
        type_name = parameter.get("type")
        entry: dict[str, Any] = {
            "name": amc_parameter_name(name),
            "dataType": amc_data_type(type_name),
            "columnType": "DIMENSION",
            "description": f"{{{{{name}}}}} ({type_name or 'unknown type'})",
        }
        default = parameter.get("default")
        if default is not None:
            entry["defaultValue"] = amc_value(convert(default, type_name, name))
        out.append(entry)
    names = [entry["name"] for entry in out]
    for name in names:
        if names.count(name) > 1:
            raise ParameterError(
                name,
                f"Two placeholders are both {name!r} on AMC (dots become '_')",
                hint="Rename one of them before syncing the workflow.",
            )
    return out


def to_amc_workflow(workflow: WorkflowRecord, version: WorkflowVersion | None = None) -> dict[str, Any]:
    """AMC's saved-workflow body for ``version`` of ``workflow`` (default: its newest, as on its row).

    Returns:
        ``{"workflowId": <the wf_ id>, "sqlQuery": <CUSTOM_PARAMETER SQL>, "inputParameters": [...]}``
        (``inputParameters`` left out when there are none).

    Raises:
        ParameterError: the template cannot be rewritten (see :func:`to_amc_sql`).
    """
    sql = version.sql_template if version is not None else workflow.sql_template
    parameters = version.parameters if version is not None else workflow.parameters
    body: dict[str, Any] = {"workflowId": workflow.workflow_id, "sqlQuery": to_amc_sql(sql, parameters)}
    declared = input_parameters(sql, parameters)
    if declared:
        body["inputParameters"] = declared
    return body


def _expression(inner: str) -> str:
    expression = inner.strip()
    if not _NAME_CHAIN.fullmatch(expression):
        raise ParameterError(
            expression[:60],
            f"{{{{{expression[:60]}}}}} is not a valid placeholder",
            hint="Use a variable name or an attribute chain, such as {{campaigns}} or {{config.start}}.",
        )
    return expression


def _reference(expression: str) -> str:
    head, *attributes = expression.split(".")
    if head in _BUILT_IN:
        if attributes:
            raise ParameterError(
                expression, f"{{{{{expression}}}}}: the window bound {head} has no attributes on AMC",
                hint=f"Use {{{{{head}}}}} itself.",
            )
        return f"BUILT_IN_PARAMETER('{_BUILT_IN[head]}')"
    return f"CUSTOM_PARAMETER('{amc_parameter_name(expression)}')"


def _refuse_quoted(quoted: str) -> None:
    inner = _PLACEHOLDER.search(quoted)
    if inner is not None:
        expression = inner.group(1).strip()[:60]
        raise ParameterError(
            expression,
            f"{{{{{expression}}}}} is inside quotes ({quoted[:40]}{'...' if len(quoted) > 40 else ''}); "
            "a placeholder renders its own quotes",
            hint=f"Write {{{{{expression}}}}} without quotes around it.",
        )


def _array_contains(before: str, reference: str) -> str | None:
    """``before`` (ending in ``expr [NOT] IN (``) with that tail replaced by ``ARRAY_CONTAINS``, or None."""
    opening = _IN_OPEN.search(before)
    if opening is None:
        return None
    head = before[: opening.start()]
    negated = _NOT_END.search(head)
    if negated is not None:
        head = head[: negated.start()]
    head = head.rstrip()
    start = _operand_start(head)
    if start is None:
        return None
    call = f"ARRAY_CONTAINS({reference}, {head[start:]})"
    return head[:start] + ("NOT " if negated else "") + call


def _operand_start(text: str) -> int | None:
    """Where the column or function call that ``text`` ends with begins (None: it ends with neither)."""
    index = len(text)
    if text.endswith(")"):
        depth = 0
        for index in range(len(text) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(text[index], 0)
            if depth == 0:
                break
        else:
            return None
    while index > 0 and _OPERAND_CHARS.match(text[index - 1]):
        index -= 1
    if index == len(text) or text[index:].upper() in ("AND", "OR", "WHERE", "ON", "WHEN", "NOT"):
        return None
    return index
