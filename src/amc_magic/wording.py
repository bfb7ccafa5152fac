"""How each front end words what the user can do next (an error's :class:`~amc_magic.errors.NextStep`).

Lower layers state facts (this execution is not lost; the checks can run alone); the notebook says
``%amc attach ID`` and ``validate=only``, the command line says ``--no-validate``. An error's
``str()`` uses the notebook's words; the CLI renders with :data:`COMMAND_LINE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .errors import NextStep, Remedy

if TYPE_CHECKING:
    from .errors import AmcMagicError

Phrasebook = Mapping[Remedy, Callable[[NextStep], str]]

NOTEBOOK: Phrasebook = {
    Remedy.ATTACH: lambda step: f"AMC execution {step.execution_id} is not lost: `%amc attach {step.execution_id}` follows it to its result.",
    Remedy.CHECK_ONLY: lambda step: "validate=only shows the rendered query and the checks without submitting.",
    Remedy.SKIP_CHECKS: lambda step: "validate=false lets AMC decide.",
    Remedy.LIST_HISTORY: lambda step: "`%amc history` lists recent executions and backfills.",
    Remedy.LIST_WORKFLOWS: lambda step: "`%amc workflows` lists them.",
    Remedy.CONNECT: lambda step: (
        f"Connect it once with `%amc connect {step.instance_id} advertiser_id=ENTITY... marketplace_id=ATVPDKIKX0DER`, "
        "or run on the built-in emulator with instance=sandbox."
    ),
}

COMMAND_LINE: Phrasebook = {
    Remedy.ATTACH: lambda step: f"AMC execution {step.execution_id} is not lost: running the same command again follows it to its result (or `%amc attach {step.execution_id}` in a notebook).",
    Remedy.CHECK_ONLY: lambda step: "`amc-magic check FILE.sql` runs the checks without submitting.",
    Remedy.SKIP_CHECKS: lambda step: "--no-validate lets AMC decide.",
    Remedy.LIST_HISTORY: lambda step: "`amc-magic history` lists recent executions and backfills.",
    Remedy.LIST_WORKFLOWS: lambda step: "`amc-magic workflows` lists them.",
    Remedy.CONNECT: lambda step: (
        f"Connect it once from a notebook with `%amc connect {step.instance_id} advertiser_id=ENTITY... "
        "marketplace_id=ATVPDKIKX0DER`, or run on the built-in emulator with --instance sandbox."
    ),
}


def full_hint(error: AmcMagicError, phrases: Phrasebook) -> str | None:
    """The error's hint followed by its next steps in ``phrases``' words (None if it has neither)."""
    parts = [error.hint] if error.hint else []
    parts.extend(phrases[step.remedy](step) for step in error.next_steps)
    return " ".join(parts) or None
