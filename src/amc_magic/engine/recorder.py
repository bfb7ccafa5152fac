"""The storage hooks of one execution: the engine tells a recorder what happened, in order.

The engine knows nothing about storage; the history store is adapted to :class:`Recorder`. One
recorder serves one execution. The calls are synchronous and run on the engine's event loop. An
exception raised by a recorder ends the execution's task (the record is part of the contract:
nothing may run on AMC without a history row).

Order of calls for a submitted execution::

    on_submitting(body, mark)        just before the create request
    on_submitted(execution_id)       AMC accepted it (or an ambiguous create was reconciled)
    on_status(status, reason)        the first status and every change, terminal included
    on_poll()                        after every status call
    on_result(frame, columns, size)  after a SUCCEEDED execution's files are parsed

An attached execution (re-attach after a kernel restart) starts at ``on_status``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pandas as pd

from amc_magic.client.models import OutputColumn


class Recorder(Protocol):
    """Receives one execution's milestones; see the module docstring for the order."""

    def on_submitting(self, body: Mapping[str, Any], mark: str | None) -> None:
        """The create request is about to be sent with this JSON ``body``.

        Args:
            body: the exact request body (the SQL in it carries the ``mark`` comment).
            mark: the unique mark in the SQL (``None`` for a saved workflow), which finds the
                execution again if the create's answer is lost.
        """

    def on_submitted(self, amc_id: str) -> None:
        """AMC created the execution ``amc_id``."""

    def on_status(self, status: str, reason: str | None) -> None:
        """AMC reported ``status`` (with its ``statusReason``, if any); terminal ones included."""

    def on_poll(self) -> None:
        """A status call completed."""

    def on_result(self, frame: pd.DataFrame, output_columns: Sequence[OutputColumn], size_bytes: int) -> None:
        """The result is downloaded (``size_bytes`` of CSV) and parsed into ``frame``."""


class NullRecorder:
    """A recorder that records nothing (the default)."""

    def on_submitting(self, body: Mapping[str, Any], mark: str | None) -> None:
        """Ignore."""

    def on_submitted(self, amc_id: str) -> None:
        """Ignore."""

    def on_status(self, status: str, reason: str | None) -> None:
        """Ignore."""

    def on_poll(self) -> None:
        """Ignore."""

    def on_result(self, frame: pd.DataFrame, output_columns: Sequence[OutputColumn], size_bytes: int) -> None:
        """Ignore."""
