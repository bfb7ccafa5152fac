"""Checking SQL files without running them (``amc-magic check``), for pre-commit hooks and CI.

A file is a ``%%amc`` cell's SQL: it may hold ``{{name}}`` placeholders. Each is rendered from the
values given (``--param``), or else from a typed stand-in: a value of the type of the column the
placeholder is compared with (``campaign_id = {{id}}`` gets a number, ``campaign IN ({{names}})`` a
string), so the checks see the query AMC would see. ``{{window_start}}``/``{{window_end}}`` take a
nominal window. Problems are located in the file as written, placeholders and all.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from . import params
from .errors import AmcMagicError, ParameterError
from .prepared import PreparedQuery
from .schema import TABLES

NOMINAL_WINDOW = "last_7_days"
"""The window placeholders such as ``{{window_start}}`` are checked with."""

_STAND_INS: dict[str, Any] = {
    "STRING": "stand-in",
    "BOOLEAN": True,
    "DATE": date(2026, 1, 1),
    "TIMESTAMP": datetime(2026, 1, 1),
    "DOUBLE": 1.5,
    "DECIMAL": 1.5,
}
_NUMERIC = {"LONG", "INTEGER", "BIGINT", "SHORT", "BYTE", "TINYINT", "SMALLINT"}
_OPERATOR = r"(?:=|<>|!=|<=|>=|<|>|\bNOT\s+IN\s*\(|\bIN\s*\(|\bNOT\s+LIKE\b|\bLIKE\b|\bBETWEEN\b)"

Prepare = Callable[[str, Mapping[str, Any]], PreparedQuery]
"""Render and check a template with a namespace (``validate=only`` semantics: errors do not raise)."""


@dataclass(frozen=True)
class FileProblem:
    """One problem found in a file, located in the file's own text (1-based)."""

    path: str
    line: int
    column: int
    severity: str
    message: str

    def format(self) -> str:
        """``path:line:column: severity: message`` on one line."""
        message = " ".join(self.message.split())
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {message}"


def check_text(path: str, template: str, prepare: Prepare, values: Mapping[str, Any]) -> list[FileProblem]:
    """The problems of one file's SQL ``template``, rendered with ``values`` and stand-ins for the rest."""
    namespace = _namespace({**stand_ins(template, values), **values})
    try:
        prepared = prepare(template, namespace)
    except ParameterError as error:
        line, column = _position_of_placeholder(template, error.name)
        return [FileProblem(path, line, column, "error", _sentence(error))]
    except AmcMagicError as error:
        return [FileProblem(path, 1, 1, "error", _sentence(error))]
    found = []
    for problem in prepared.problems:
        line, column = _template_position(template, prepared.sql, problem.line or 1, problem.column or 1)
        found.append(FileProblem(path, line, column, problem.severity, problem.message))
    return found


def stand_ins(template: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """A typed stand-in for every placeholder of ``template`` that ``given`` has no value for."""
    found = {}
    for name in params.placeholders(template):
        if name in ("window_start", "window_end") or name.split(".")[0] in given:
            continue
        kind = _compared_type(template, name)
        found[name] = 1 if kind in _NUMERIC else _STAND_INS.get(kind, "stand-in")
    return found


def _compared_type(template: str, name: str) -> str:
    """The AMC type of the column ``{{name}}`` is compared with, or STRING when it cannot be told."""
    placeholder = r"\{\{\s*" + re.escape(name) + r"\s*\}\}"
    column = r"([A-Za-z_][A-Za-z0-9_]*)"
    patterns = (column + r"\s*" + _OPERATOR + r"\s*" + placeholder, placeholder + r"\s*" + _OPERATOR + r"\s*(?:\w+\.)?" + column)
    for pattern in patterns:
        if match := re.search(pattern, template, re.I):
            for table in TABLES.values():
                if (found := table.column(match.group(1))) is not None:
                    return found.data_type
    return "STRING"


def _namespace(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values by placeholder expression, dotted ones (``cfg.start``) nested as attributes."""
    namespace: dict[str, Any] = {}
    for expression, value in values.items():
        head, *attributes = expression.split(".")
        if not attributes:
            namespace[head] = value
            continue
        node = namespace.setdefault(head, SimpleNamespace())
        for attribute in attributes[:-1]:
            node = getattr(node, attribute, None) or _set(node, attribute, SimpleNamespace())
        setattr(node, attributes[-1], value)
    return namespace


def _set(node: Any, attribute: str, value: Any) -> Any:
    setattr(node, attribute, value)
    return value


def _position_of_placeholder(template: str, name: str) -> tuple[int, int]:
    match = re.search(r"\{\{\s*" + re.escape(name), template)
    return _line_column(template, match.start()) if match else (1, 1)


def _template_position(template: str, rendered: str, line: int, column: int) -> tuple[int, int]:
    """Map a position in the rendered SQL back to the template: placeholders render on their own line."""
    template_lines, rendered_lines = template.splitlines(), rendered.splitlines()
    if not 1 <= line <= len(rendered_lines) or len(template_lines) != len(rendered_lines):
        return line, column
    source, target = template_lines[line - 1], rendered_lines[line - 1]
    offset = column - 1
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, source, target, autojunk=False).get_opcodes():
        if j1 <= offset < j2 or (offset == j2 == len(target)):
            return line, 1 + (i1 + (offset - j1) if tag == "equal" else i1)
    return line, column


def _line_column(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _sentence(error: AmcMagicError) -> str:
    return f"{error.message.rstrip('.')}. {error.hint}" if error.hint else error.message
