"""What a check finds: :class:`Problem`, and the AMC-style text built from a list of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a query, located where possible.

    Attributes:
        severity: ``"error"`` (AMC would reject the query) or ``"warning"`` (it may).
        code: A stable name for the rule, such as ``"limit"`` or ``"unknown_column"``.
        message: What is wrong and what to do, in AMC's wording where AMC has one.
        line: 1-based line of the offending text, or None.
        column: 1-based column of the offending text, or None.
    """

    severity: Severity
    code: str
    message: str
    line: int | None = None
    column: int | None = None

    def format(self) -> str:
        """The message with AMC's (Calcite's) location prefix, e.g. ``From line 3, column 8: ...``."""
        if self.line is None or self.column is None:
            return self.message
        return f"From line {self.line}, column {self.column}: {self.message}"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that are errors, in their order."""
    return [p for p in problems if p.severity == "error"]


def details(problems: Iterable[Problem]) -> str:
    """AMC-style ``details`` text of a 400 answer for the errors among ``problems`` ("" if none)."""
    found = errors(problems)
    if not found:
        return ""
    return "\n".join(["Was unable to compile workflow."] + [p.format() for p in found])
