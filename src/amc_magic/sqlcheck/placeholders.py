"""Leftover ``{{name}}`` placeholders: found on the raw text, since they usually break parsing."""

from __future__ import annotations

import re

from .problem import Problem

# Comments are skipped; quoted text is searched too ('{{x}}' is as unrendered as {{x}}).
_LEXEME = re.compile(r"""--[^\n]*|/\*.*?(?:\*/|\Z)|'(?:[^']|'')*'?|"[^"]*"?|`[^`]*`?|(\{\{.*?\}\})""", re.S)
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.S)


def find_placeholders(sql: str) -> list[Problem]:
    """One error per ``{{...}}`` left in ``sql`` outside comments, located at its opening braces."""
    offsets: list[tuple[int, str]] = []
    for lexeme in _LEXEME.finditer(sql):
        if lexeme.group(1) is not None:
            offsets.append((lexeme.start(), lexeme.group(1)))
        elif lexeme.group(0)[0] in "'\"`":
            offsets.extend((lexeme.start() + m.start(), m.group(0)) for m in _PLACEHOLDER.finditer(lexeme.group(0)))
    return [_problem(sql, offset, text) for offset, text in offsets]


def _problem(sql: str, offset: int, text: str) -> Problem:
    name = text[2:-2].strip()
    line = sql.count("\n", 0, offset) + 1
    column = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    message = (
        f"Placeholder {text} was not rendered. Define the variable '{name}' in the notebook "
        f"(or pass it as a parameter), or remove the braces."
    )
    return Problem("error", "placeholder", message, line, column)
