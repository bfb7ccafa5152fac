"""The library of standard AMC analyses: ready, parameterised workflows named ``analyses/<name>``.

::

    from amc_magic import analyses
    analyses.list_analyses()                         # rows for a DataFrame: name, title, parameters, ...
    reach = analyses.get_analysis("reach_frequency") # or "analyses/reach_frequency"
    frame = reach.run({"campaigns": ["Lumen - Remarketing"]}, start="2026-03-01", end="2026-03-31")
    reach.plot(frame)                                # a matplotlib Figure
    reach.sql                                        # the template, with {{campaigns}}

Each analysis's SQL is a file in ``sql/`` with ``{{name}}`` placeholders, rendered by the magic's
renderer (``{{campaigns}}`` becomes ``'a', 'b'`` for ``IN (...)``); its metadata (title, parameters
with types and defaults, the columns it returns) is in ``catalog``.
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFoundError
from .catalog import analyses
from .model import REQUIRED, Analysis, Column, Parameter

__all__ = ["REQUIRED", "Analysis", "Column", "Parameter", "get_analysis", "list_analyses"]


def list_analyses() -> list[dict[str, Any]]:
    """One row per analysis (``name``, ``title``, ``parameters``, ``columns``, ``plot``, ``description``),
    ready for ``pandas.DataFrame(list_analyses())``."""
    return [analysis.summary() for analysis in analyses()]


def get_analysis(name: str) -> Analysis:
    """The analysis called ``name`` (``reach_frequency`` or ``analyses/reach_frequency``).

    Raises:
        NotFoundError: there is no such analysis; the message lists them.
    """
    wanted = name if name.startswith("analyses/") else f"analyses/{name}"
    for analysis in analyses():
        if analysis.name == wanted:
            return analysis
    known = ", ".join(a.short_name for a in analyses())
    raise NotFoundError(f"There is no standard analysis {name!r}; the analyses are: {known}.")
