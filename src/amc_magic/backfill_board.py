"""The status display of a backfill: a grid of periods × instances and one summary line.

:class:`BoardState` is a pure fold of each cell's status; :class:`BackfillPanel` renders it as
an ipywidgets grid whose cells take the status colours, :class:`BackfillText` as a line per
finished period and a summary. Both only render: the backfill feeds them.
"""

from __future__ import annotations

import html
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from .durations import format_duration
from .panel import STATUS_COLOURS
from .statuses import NOT_STARTED, JobStatus, bucket

if TYPE_CHECKING:
    from .engine.events import ExecutionEvent
    from .job import AmcJob



class BackfillView(Protocol):
    """What a backfill drives: a status view per cell, and word when a cell ends."""

    def cell(self, index: int) -> Any: ...
    def finished(self, index: int, job: AmcJob) -> None: ...


class BoardState:
    """Each cell's status and timing, and the summary line they make.

    Args:
        labels: each cell's period and instance, in period then instance order.
        columns: instances per period (the grid's width).
        concurrency: executions in flight per instance (for the ETA).
        clock: monotonic seconds.
    """

    def __init__(self, labels: Sequence[str], columns: int, concurrency: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.labels = list(labels)
        self.columns = columns
        self.statuses = ["QUEUED"] * len(labels)
        self._concurrency = concurrency
        self._clock = clock
        self._started: dict[int, float] = {}
        self._durations: list[float] = []
        self._lock = threading.Lock()

    def set(self, index: int, status: str) -> None:
        with self._lock:
            if bucket(self.statuses[index]) in ("done", "failed"):  # a cell's end is final
                return
            if status not in NOT_STARTED and index not in self._started:
                self._started[index] = self._clock()
            if status == JobStatus.SUCCEEDED and index in self._started:
                self._durations.append(self._clock() - self._started[index])
            self.statuses[index] = status

    def counts(self) -> dict[str, int]:
        counts = {"done": 0, "running": 0, "queued": 0, "failed": 0}
        for status in self.statuses:
            counts[bucket(status)] += 1
        return counts

    def eta_seconds(self) -> float | None:
        """Seconds until every cell ends, from the mean run time so far (None before one finished)."""
        if not self._durations:
            return None
        counts = self.counts()
        waves = math.ceil((counts["running"] + counts["queued"]) / max(1, self._concurrency * self.columns))
        return waves * sum(self._durations) / len(self._durations)

    def summary(self) -> str:
        """For example ``31/52 done · 10 running · 11 queued · 0 failed · ETA 14 min``."""
        counts = self.counts()
        line = f"{counts['done']}/{len(self.statuses)} done · {counts['running']} running · {counts['queued']} queued · {counts['failed']} failed"
        eta = self.eta_seconds()
        if eta is not None and counts["running"] + counts["queued"]:
            line += f" · ETA {format_duration(eta)}"
        return line


class _CellView:
    """The status view of one cell: forwards live statuses to the board."""

    def __init__(self, board: _Board, index: int) -> None:
        self._board = board
        self._index = index

    def update(self, event: ExecutionEvent) -> None:
        if event.status and event.kind.name not in ("DONE", "FAILED", "CANCELLED", "TIMED_OUT"):
            self._board.set(self._index, event.status)

    def tick(self) -> None:
        self._board.refresh()

    def show_note(self, text: str, *, status: str | None = None, execution_id: str | None = None) -> None:
        if status:
            self._board.set(self._index, status)


class _Board:
    """Shared by both renderings: the state, per-cell views and end-of-cell bookkeeping."""

    def __init__(self, state: BoardState) -> None:
        self.state = state
        self.job: Any = None  # the backfill's job, once started
        self._ending = threading.Lock()

    def cell(self, index: int) -> _CellView:
        return _CellView(self, index)

    def set(self, index: int, status: str) -> None:
        """A live status; an end (SUCCEEDED before its download, CACHED, FAILED) waits for :meth:`finished`."""
        if bucket(status) not in ("done", "failed"):
            self.state.set(index, status)
        self.refresh()

    def finished(self, index: int, job: AmcJob) -> None:
        """A cell's job ended: counted and reported in one step, so each line's counts include it and no later end."""
        status = job.status
        final = status if bucket(status) in ("done", "failed") else JobStatus.FAILED
        with self._ending:
            self.state.set(index, final)
            self.on_finished(index, final)
        self.refresh()

    def on_finished(self, index: int, status: str) -> None:
        """A cell ended (text lines override this)."""

    def refresh(self) -> None:
        """Redraw (the widget overrides this)."""


class BackfillText(_Board):
    """A line per finished period, and the summary after the last one."""

    def __init__(self, state: BoardState, stream: TextIO | None = None) -> None:
        super().__init__(state)
        self._stream = stream or sys.stdout

    def on_finished(self, index: int, status: str) -> None:
        print(f"[amc] {self.state.labels[index]}: {status} — {self.state.summary()}", file=self._stream, flush=True)


class BackfillPanel(_Board):
    """An ipywidgets grid of periods (rows) × instances (columns), coloured by status, and the summary."""

    def __init__(self, state: BoardState, instance_ids: Sequence[str], *, cancellable: bool = False) -> None:
        super().__init__(state)
        import ipywidgets as widgets

        self._instance_ids = list(instance_ids)
        self.grid = widgets.HTML()
        self.headline = widgets.HTML()
        children: list[Any] = [self.headline, self.grid]
        if cancellable:
            button = widgets.Button(description="Cancel all", button_style="warning", layout=widgets.Layout(width="auto"))
            button.on_click(lambda _b: self.job.cancel() if self.job is not None else None)
            children.append(button)
        self.widget = widgets.VBox(children)
        self._last = ""
        self.refresh()

    def refresh(self) -> None:
        state = self.state
        cells = []
        for index, (label, status) in enumerate(zip(state.labels, state.statuses)):
            colour = STATUS_COLOURS.get(status, "#2563eb")
            cells.append(
                f'<div title="{html.escape(label)}: {status}" data-status="{status}" '
                f'style="width:14px;height:14px;border-radius:2px;background:{colour}"></div>'
            )
        grid = (
            f'<div class="amc-backfill-grid" style="display:grid;grid-auto-flow:column;'
            f'grid-template-rows:repeat({state.columns},14px);gap:2px">{"".join(cells)}</div>'
        )
        summary = f"<b>amc backfill</b> · {html.escape(', '.join(self._instance_ids))} · {html.escape(state.summary())}"
        if grid + summary != self._last:
            self._last = grid + summary
            self.grid.value, self.headline.value = grid, summary

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
