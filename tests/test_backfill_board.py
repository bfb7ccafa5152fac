"""The backfill's display: a pure fold of cell statuses, its summary line and ETA, and both renderings."""

from __future__ import annotations

import io

from amc_magic.backfill_board import BackfillPanel, BackfillText, BoardState
from amc_magic.engine.events import EventKind, ExecutionEvent
from panel_support import FakeClock


class EndedJob:
    """What the board reads of a finished cell's job."""

    def __init__(self, status: str) -> None:
        self.status = status


def board(cells: int = 4, *, columns: int = 1, concurrency: int = 2) -> tuple[BoardState, FakeClock]:
    clock = FakeClock()
    return BoardState([f"week {n} on amcsandbox01" for n in range(cells)], columns, concurrency, clock=clock), clock


def test_the_summary_counts_each_cell_and_estimates_the_rest_from_finished_runs():
    state, clock = board()
    assert state.summary() == "0/4 done · 0 running · 4 queued · 0 failed"
    state.set(0, "RUNNING")
    state.set(1, "PENDING")
    clock.now += 60
    state.set(0, "SUCCEEDED")
    assert state.summary() == "1/4 done · 1 running · 2 queued · 0 failed · ETA 2m 00s"  # 3 left, 2 at a time, 60 s each


def test_a_cells_end_is_final_and_a_failure_counts_as_failed():
    state, _ = board(3)
    state.set(0, "CANCELLED")
    state.set(0, "RUNNING")  # a late live update does not reopen it
    state.set(1, "CACHED")
    state.set(2, "TIMED OUT")
    assert state.statuses == ["CANCELLED", "CACHED", "TIMED OUT"]
    assert state.counts() == {"done": 1, "running": 0, "queued": 0, "failed": 2}
    assert " · ETA" not in state.summary()


def test_text_prints_a_line_per_finished_cell_and_the_panel_colours_its_grid():
    state, _ = board(2)
    stream = io.StringIO()
    text = BackfillText(state, stream)
    text.cell(0).show_note("from the cache", status="CACHED")
    text.finished(0, EndedJob("CACHED"))
    text.finished(1, EndedJob("FAILED"))
    assert stream.getvalue().splitlines() == [
        "[amc] week 0 on amcsandbox01: CACHED — 1/2 done · 0 running · 1 queued · 0 failed",
        "[amc] week 1 on amcsandbox01: FAILED — 1/2 done · 0 running · 0 queued · 1 failed",
    ]
    panel = BackfillPanel(BoardState(["a", "b"], 1, 10), ["amcsandbox01"], cancellable=True)
    panel.finished(1, EndedJob("SUCCEEDED"))
    assert panel.grid.value.count('data-status="SUCCEEDED"') == 1 and panel.grid.value.count('data-status="QUEUED"') == 1
    assert "1/2 done" in panel.headline.value


def test_each_line_counts_the_ends_reported_so_far_not_ends_still_to_be_reported():
    state, _ = board(3)
    stream = io.StringIO()
    text = BackfillText(state, stream)
    for index in range(3):
        text.cell(index).update(status_event("RUNNING"))
    text.cell(1).show_note("from the cache", status="CACHED")  # its line comes later, from finished()
    text.cell(2).update(status_event("SUCCEEDED"))  # AMC says done; the download is still to come
    assert state.counts() == {"done": 0, "running": 3, "queued": 0, "failed": 0}
    text.finished(0, EndedJob("SUCCEEDED"))
    text.finished(2, EndedJob("SUCCEEDED"))
    text.finished(1, EndedJob("CACHED"))
    assert [line.split(" — ")[1].split(" · ")[0] for line in stream.getvalue().splitlines()] == ["1/3 done", "2/3 done", "3/3 done"]


def status_event(status: str) -> ExecutionEvent:
    return ExecutionEvent(EventKind.STATUS, "amcsandbox01", "e-1", status, None, elapsed=5.0, polls=1)
