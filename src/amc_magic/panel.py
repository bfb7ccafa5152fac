"""Status display of one execution: an ipywidgets panel, or concise text lines without a widget frontend.

Both views are fed the engine's :class:`~amc_magic.engine.events.ExecutionEvent` objects and do
nothing else: :meth:`StatusPanel.update` folds an event into a small :class:`PanelState` and assigns
widget traits from it (never ``with out:`` from a task, so it is safe from the engine's thread).
The ticking clock (elapsed time, time since the last poll) is redrawn by :meth:`StatusPanel.tick`,
which the caller invokes about once a second while the execution is live.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TextIO

from .counts import counted, rows_by_columns
from .durations import format_duration
from .engine.eta import Eta
from .engine.events import EventKind, ExecutionEvent
from .errors import AmcMagicError
from .wording import NOTEBOOK, full_hint

STATUS_COLOURS = {
    "QUEUED": "#6b7280",
    "SUBMITTING": "#6b7280",
    "PENDING": "#6b7280",
    "RUNNING": "#2563eb",
    "PUBLISHING": "#2563eb",
    "DOWNLOADING": "#2563eb",
    "SUCCEEDED": "#15803d",
    "CACHED": "#15803d",
    "FAILED": "#b91c1c",
    "REJECTED": "#b91c1c",
    "CANCELLED": "#c2410c",
    "TIMED OUT": "#c2410c",
}
TERMINAL_KINDS = {EventKind.DONE, EventKind.FAILED, EventKind.CANCELLED, EventKind.TIMED_OUT}
NOTIFIED_KINDS = {EventKind.DONE, EventKind.FAILED, EventKind.CANCELLED}
"""Events that end the execution and show a browser notification if the notebook is hidden (not
``TIMED_OUT``: the execution keeps running on AMC)."""


@dataclass(frozen=True)
class PanelState:
    """Everything the panel shows, folded from the events seen so far."""

    instance_id: str
    execution_id: str | None = None
    status: str = "SUBMITTING"
    reason: str | None = None
    hint: str | None = None
    elapsed: float = 0.0  # elapsed seconds as of the last event
    event_at: float | None = None  # caller's monotonic clock at the last event
    polled_at: float | None = None  # caller's monotonic clock at the last status call
    polls: int = 0
    rows: int | None = None
    columns: int | None = None
    finished: bool = False
    note: str | None = None
    eta: Eta | None = None  # when the execution should end, predicted from earlier runs


def fold(state: PanelState, event: ExecutionEvent, now: float) -> PanelState:
    """The panel state after ``event``, seen at monotonic time ``now``."""
    status = {
        EventKind.QUEUED: "QUEUED",
        EventKind.DOWNLOADING: "DOWNLOADING",
        EventKind.DONE: "SUCCEEDED",
        EventKind.CANCELLED: "CANCELLED",
        EventKind.TIMED_OUT: "TIMED OUT",
    }.get(event.kind, event.status or state.status)
    if event.kind is EventKind.FAILED:
        status = event.status if event.status in ("FAILED", "REJECTED") else "FAILED"
    error = event.error
    return replace(
        state,
        instance_id=event.instance_id,
        execution_id=event.execution_id or state.execution_id,
        status=status,
        reason=event.status_reason or (error.message if error is not None else None) or state.reason,
        hint=(full_hint(error, NOTEBOOK) if isinstance(error, AmcMagicError) else None) or state.hint,
        elapsed=event.elapsed,
        event_at=now,
        polled_at=now if event.kind is EventKind.POLL else state.polled_at,
        polls=max(event.polls, state.polls),
        rows=event.rows if event.rows is not None else state.rows,
        columns=event.columns if event.columns is not None else state.columns,
        finished=state.finished or event.kind in TERMINAL_KINDS,
        eta=event.eta or state.eta,
    )


def _noted(state: PanelState, text: str, status: str | None, execution_id: str | None) -> PanelState:
    """The state showing ``text``; a ``status`` given with it is final."""
    return replace(
        state,
        note=text,
        status=status or state.status,
        execution_id=execution_id or state.execution_id,
        finished=status is not None or state.finished,
    )


def elapsed_now(state: PanelState, now: float) -> float:
    """Elapsed seconds, advanced past the last event while the execution is live."""
    if state.event_at is None or state.finished:
        return state.elapsed
    return state.elapsed + max(0.0, now - state.event_at)


def summary_line(state: PanelState, now: float) -> str:
    """One line of plain text: instance, execution, status, timing, shape, reason."""
    parts = [f"[amc] {state.instance_id}"]
    if state.execution_id:
        parts.append(state.execution_id)
    parts.append(f"{state.status} after {format_duration(elapsed_now(state, now))}")
    if state.eta is not None and not state.finished:
        parts.append(eta_text(state.eta))
    if state.rows is not None and state.columns is not None:
        parts.append(rows_by_columns(state.rows, state.columns))
    if state.note:
        parts.append(state.note)
    line = " | ".join(parts)
    if state.reason and state.status not in ("SUCCEEDED", "CACHED"):
        line += _detail("reason", state.reason)
    if state.hint and state.status not in ("SUCCEEDED", "CACHED"):
        line += _detail("hint", state.hint)
    return line


def eta_text(eta: Eta) -> str:
    """``ETA 14m (10m-18m, from 5 runs)``: the expected end and its range, after the creation."""
    return (
        f"ETA {format_duration(eta.expected)} ({format_duration(eta.low)}-{format_duration(eta.high)}, "
        f"from {counted(eta.runs, 'run')})"
    )


def _detail(label: str, text: str) -> str:
    """An indented ``label: text`` line under the summary; a multi-line text stays indented."""
    prefix = f"      {label}: "
    return "\n" + prefix + text.replace("\n", "\n" + " " * len(prefix))


class StatusPanel:
    """The ipywidgets panel: instance, execution id, coloured status, timing, shape, reason and hint."""

    def __init__(
        self,
        instance_id: str,
        *,
        on_cancel: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import ipywidgets as widgets  # imported here: only a widget frontend needs it

        from .notify import Notifier  # anywidget too

        self._clock = clock
        self.state = PanelState(instance_id=instance_id)
        self.header = widgets.HTML()
        self.status = widgets.HTML()
        self.timing = widgets.HTML()
        self.result = widgets.HTML()
        self.reason = widgets.HTML()
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", button_style="warning")
        self.cancel_button.layout.display = "" if on_cancel else "none"
        if on_cancel is not None:
            self.cancel_button.on_click(lambda _button: on_cancel())
        self.notifier = Notifier()  # hidden: a browser notification when the execution ends out of sight
        top = widgets.HBox([self.status, self.cancel_button], layout=widgets.Layout(align_items="center"))
        self.widget = widgets.VBox(
            [self.header, top, self.timing, self.result, self.reason, self.notifier],
            layout=widgets.Layout(border="1px solid #d1d5db", padding="4px 8px", width="fit-content"),
        )
        self._render()

    def _repr_mimebundle_(self, **kwargs: object) -> dict[str, object]:
        """The widget view, with a plain-text stand-in for frontends that cannot show widgets."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = f"AMC status panel for {self.state.instance_id} (a live view in a widget frontend)"
        return bundle

    def update(self, event: ExecutionEvent) -> None:
        """Fold one engine event into the panel; the event that ends the execution also notifies."""
        was_finished = self.state.finished
        self.state = fold(self.state, event, self._clock())
        self._render()
        if event.kind in NOTIFIED_KINDS and not was_finished:
            self.notifier.announce(self.state)

    def tick(self) -> None:
        """Redraw the clock fields (elapsed, time since the last poll)."""
        self.timing.value = self._timing_html()

    def show_note(self, text: str, *, status: str | None = None, execution_id: str | None = None) -> None:
        """Show a note (e.g. "answered from the cache"), optionally with a final status and the execution."""
        self.state = _noted(self.state, text, status, execution_id)
        self._render()

    def _render(self) -> None:
        state = self.state
        execution = html.escape(state.execution_id) if state.execution_id else "<i>not submitted yet</i>"
        self.header.value = f"<b>AMC</b> {html.escape(state.instance_id)} &middot; execution {execution}"
        colour = STATUS_COLOURS.get(state.status, "#374151")
        self.status.value = (
            f'<span style="color:white;background:{colour};padding:1px 8px;border-radius:8px;'
            f'font-weight:600">{html.escape(state.status)}</span>'
        )
        self.timing.value = self._timing_html()
        shape = ""
        if state.rows is not None and state.columns is not None:
            shape = rows_by_columns(state.rows, state.columns, "&times;")
        if state.note:
            shape = f"{shape} &middot; {html.escape(state.note)}" if shape else html.escape(state.note)
        self.result.value = shape
        reason = ""
        if state.reason and state.status not in ("SUCCEEDED", "CACHED"):
            reason = f'<span style="color:#b91c1c">{html.escape(state.reason)}</span>'
            if state.hint:
                reason += f"<br><i>Hint: {html.escape(state.hint)}</i>"
        self.reason.value = reason
        self.cancel_button.disabled = state.finished

    def _timing_html(self) -> str:
        now = self._clock()
        text = f"elapsed {format_duration(elapsed_now(self.state, now))}"
        if self.state.eta is not None and not self.state.finished:
            text += f" &middot; {eta_text(self.state.eta)}"
        if self.state.polled_at is not None and not self.state.finished:
            text += f" &middot; last poll {format_duration(now - self.state.polled_at)} ago"
        if self.state.polls:
            text += f" &middot; {self.state.polls} poll{'s' if self.state.polls != 1 else ''}"
        return f'<span style="color:#4b5563">{text}</span>'


class TextStatus:
    """Concise status lines for terminals, scripts and the CLI: one line per change, none per poll.

    ``errors_raised``: the caller raises the execution's error as soon as it ends (a blocking cell, the
    CLI), so the last line leaves out its reason and hint instead of printing them twice.
    """

    def __init__(
        self,
        instance_id: str,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        errors_raised: bool = False,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._errors_raised = errors_raised
        self.state = PanelState(instance_id=instance_id)
        self._last_status: str | None = None

    def update(self, event: ExecutionEvent) -> None:
        """Print a line when the status changes or the execution ends."""
        self.state = fold(self.state, event, self._clock())
        if event.kind is EventKind.POLL or self.state.status in (self._last_status, "SUBMITTING"):
            return
        if event.kind is EventKind.STATUS and event.status in ("SUCCEEDED", "FAILED", "REJECTED"):
            return  # the DOWNLOADING/DONE or FAILED event (with its hint) follows at once
        self._last_status = self.state.status
        state = self.state
        if self._errors_raised and event.error is not None:  # the error, raised next, says both itself
            state = replace(state, reason=None, hint=None)
        self._print(summary_line(state, self._clock()))

    def tick(self) -> None:
        """Nothing to redraw in text mode."""

    def show_note(self, text: str, *, status: str | None = None, execution_id: str | None = None) -> None:
        """Print the note as a status line."""
        self.state = _noted(self.state, text, status, execution_id)
        self._print(summary_line(self.state, self._clock()))

    def _print(self, line: str) -> None:
        print(line, file=self._stream or sys.stdout, flush=True)


class SilentStatus:
    """Shows nothing (``%config AMCMagic.display = "none"``)."""

    def update(self, event: ExecutionEvent) -> None:
        """Ignore the event."""

    def tick(self) -> None:
        """Nothing to redraw."""

    def show_note(self, text: str, *, status: str | None = None, execution_id: str | None = None) -> None:
        """Ignore the note."""
