"""What a standard analysis is: its SQL template, its parameters, the columns it returns, its picture.

An :class:`Analysis` is plain data plus four small behaviours: :meth:`~Analysis.values` (the
parameter values a run uses: given values over defaults, checked), :meth:`~Analysis.render` (the SQL
with those values as literals, by the magic's own renderer), :meth:`~Analysis.run` (through
``amc_magic.query``) and :meth:`~Analysis.plot`. Importing this module loads neither pandas nor
matplotlib; they are imported when a run or a plot needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import OptionError, ParameterError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()
"""The default of a parameter that has none: a run must give it."""

PARAMETER_TYPES = {
    "list[str]": (list, tuple, set, frozenset),
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
}


@dataclass(frozen=True)
class Parameter:
    """One ``{{name}}`` placeholder of an analysis.

    Attributes:
        name: the placeholder's name.
        type: ``list[str]`` (rendered for ``IN (...)``), ``str``, ``int`` or ``bool``.
        description: what it controls.
        default: the value used when a run gives none, or :data:`REQUIRED`.
    """

    name: str
    type: str
    description: str
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check(self, value: Any) -> Any:
        """``value`` if it fits the type (a list may be any sequence; numpy/pandas lists are kept as given).

        Raises:
            ParameterError: the value has another type, or a list is empty.
        """
        if self.type == "list[str]" and hasattr(value, "tolist") and not isinstance(value, str):
            items = list(value.tolist())
        elif isinstance(value, PARAMETER_TYPES[self.type]) and not (self.type == "int" and isinstance(value, bool)):
            items = list(value) if self.type == "list[str]" else None
        else:
            raise ParameterError(self.name, f"Parameter {self.name} must be of type {self.type}, not {value!r}.")
        if items is not None and (not items or not all(isinstance(item, str) for item in items)):
            raise ParameterError(self.name, f"Parameter {self.name} must be a non-empty list of strings.")
        return value


@dataclass(frozen=True)
class Column:
    """One output column: its name, its AMC data type (STRING, LONG, DOUBLE, DECIMAL) and meaning."""

    name: str
    type: str
    description: str


Plotter = Callable[["pd.DataFrame", Any], "Figure"]
"""Draws a result frame on a matplotlib Axes (or a new figure when it is None); returns the Figure."""


@dataclass(frozen=True)
class Analysis:
    """A standard analysis: a parameterised AMC SQL workflow named ``analyses/<short name>``.

    Attributes:
        name: ``analyses/<short name>``, the workflow name it is saved and run under.
        title: a one-line title.
        description: what it answers and how it reads.
        source: the AMC instructional query it follows.
        sql: the SQL template, with ``{{name}}`` placeholders.
        parameters: its placeholders, in the order they matter.
        columns: the columns it returns, in order.
        plotter: draws its result, if a picture reads better than the table.
    """

    name: str
    title: str
    description: str
    source: str
    sql: str
    parameters: tuple[Parameter, ...]
    columns: tuple[Column, ...]
    plotter: Plotter | None = field(default=None, repr=False, compare=False)

    @property
    def short_name(self) -> str:
        return self.name.removeprefix("analyses/")

    def values(self, given: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
        """The values a run uses: ``given`` and ``more`` over the defaults, each checked.

        Raises:
            ParameterError: an unknown name, a missing required value, or a value of the wrong type.
        """
        supplied = {**(given or {}), **more}
        known = {p.name: p for p in self.parameters}
        for name in supplied:
            if name not in known:
                expected = ", ".join(known) or "none"
                raise ParameterError(name, f"{self.name} has no parameter {name} (its parameters: {expected}).")
        values = {}
        for parameter in self.parameters:
            value = supplied.get(parameter.name, parameter.default)
            if value is REQUIRED:
                raise ParameterError(
                    parameter.name,
                    f"{self.name} needs a value for {parameter.name}: {parameter.description}",
                    hint=f"Give it as {parameter.name}=... ({parameter.type}).",
                )
            values[parameter.name] = parameter.check(value)
        return values

    def render(self, given: Mapping[str, Any] | None = None, /, **more: Any) -> str:
        """The SQL with the values of :meth:`values` as literals (the magic's ``{{name}}`` rendering)."""
        from ..params import render

        return render(self.sql, self.values(given, **more))

    def run(
        self, given: Mapping[str, Any] | None = None, /, *, start: Any = None, end: Any = None, **options: Any
    ) -> pd.DataFrame:
        """Run on an instance through ``amc_magic.query`` (sandbox by default) and return its frame.

        ``given`` holds the parameter values; ``start``, ``end`` and ``options`` (``instance``,
        ``window``, ``tz``, ``cache``, ``session`` ...) go to ``amc_magic.query``.
        """
        from ..api import query

        return query(self.sql, params=self.values(given), start=start, end=end, **options)

    def plot(self, frame: pd.DataFrame, ax: Any = None) -> Figure:
        """Draw ``frame`` (this analysis's result) with matplotlib; returns the Figure.

        Raises:
            OptionError: the analysis has no picture (its table is the clearest view).
        """
        if self.plotter is None:
            raise OptionError(f"{self.name} has no plot: its table reads best.")
        missing = [c.name for c in self.columns if c.name not in frame.columns]
        if missing:
            raise OptionError(f"The frame is not a result of {self.name}: it lacks {', '.join(missing)}.")
        return self.plotter(frame, ax)

    def summary(self) -> dict[str, Any]:
        """One row for :func:`~amc_magic.analyses.list_analyses`."""
        return {
            "name": self.name,
            "title": self.title,
            "parameters": "; ".join(_describe(p) for p in self.parameters),
            "columns": ", ".join(c.name for c in self.columns),
            "plot": self.plotter is not None,
            "description": self.description,
        }


def _describe(parameter: Parameter) -> str:
    default = "required" if parameter.required else f"default {parameter.default!r}"
    return f"{parameter.name}: {parameter.type} ({default})"
