"""Browser notifications when an execution ends while its notebook is out of sight.

:class:`Notifier` is a hidden child of the :class:`~amc_magic.panel.StatusPanel`. It is an
`anywidget <https://anywidget.dev>`_ widget, so the panel carries its own small ES module
(``notify.js`` beside this file) and needs no frontend build. The Python side only sets traits:
:meth:`Notifier.fire` sets ``title``, ``body`` and ``status`` and then bumps the ``fired`` counter,
all in one message. In the browser, a new ``fired`` value while ``document.hidden`` is true shows
``new Notification(title, {body})``. The permission is asked once per browser, on the user's first
click on the panel, and the answer is kept in ``localStorage``, so a denied permission is never asked
again. With no widget frontend (nbconvert, a terminal) nothing happens.

This module imports anywidget, so only :class:`~amc_magic.panel.StatusPanel` imports it, when a panel
is made; ``%load_ext amc_magic`` does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import ipywidgets
import traitlets

from .counts import rows_by_columns
from .durations import format_duration

if TYPE_CHECKING:
    from .panel import PanelState

REASON_CHARS = 200
"""A failure's reason is cut to this many characters in the notification."""


class Notifier(anywidget.AnyWidget):
    """Shows a browser notification each time :meth:`fire` is called while the page is hidden."""

    _esm = Path(__file__).with_name("notify.js")
    title = traitlets.Unicode("").tag(sync=True)
    body = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    fired = traitlets.Int(0).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("layout", ipywidgets.Layout(display="none"))
        super().__init__(**kwargs)

    def fire(self, title: str, body: str, status: str) -> None:
        """Send one notification event (the browser shows it only if the page is hidden)."""
        with self.hold_sync():
            self.title = title
            self.body = body
            self.status = status
            self.fired += 1

    def announce(self, state: PanelState) -> None:
        """Fire the notification of a finished execution, worded from the panel's state."""
        self.fire(*notice(state), state.status)


def notice(state: PanelState) -> tuple[str, str]:
    """The title and body of the notification for ``state``: status, instance, execution, shape or reason."""
    title = f"AMC query {state.status}"
    parts = [state.instance_id]
    if state.execution_id:
        parts.append(state.execution_id)
    if state.rows is not None and state.columns is not None:
        parts.append(rows_by_columns(state.rows, state.columns))
    parts.append(f"after {format_duration(state.elapsed)}")
    body = " · ".join(parts)
    if state.reason and state.status not in ("SUCCEEDED", "CACHED"):
        reason = state.reason if len(state.reason) <= REASON_CHARS else state.reason[: REASON_CHARS - 1] + "…"
        body += f"\n{reason}"
    return title, body
