"""The status panel renders engine events into widget traits (no browser needed) or text lines."""

import io

import pytest

from amc_magic.counts import rows_by_columns
from amc_magic.engine.events import EventKind
from amc_magic.errors import ExecutionFailed
from amc_magic.durations import format_duration
from amc_magic.panel import StatusPanel, TextStatus
from panel_support import FakeClock, event


@pytest.fixture
def clock():
    return FakeClock()


def test_initial_panel_says_not_submitted(clock):
    panel = StatusPanel("amcsandbox01", clock=clock)
    assert "not submitted yet" in panel.header.value
    assert "SUBMITTING" in panel.status.value
    assert panel.widget.get_state()["children"]  # a real widget tree, no frontend needed


@pytest.mark.parametrize(
    ("kind", "status", "shown", "colour"),
    [
        (EventKind.QUEUED, None, "QUEUED", "#6b7280"),
        (EventKind.SUBMITTED, "PENDING", "PENDING", "#6b7280"),
        (EventKind.STATUS, "RUNNING", "RUNNING", "#2563eb"),
        (EventKind.DOWNLOADING, "SUCCEEDED", "DOWNLOADING", "#2563eb"),
        (EventKind.DONE, "SUCCEEDED", "SUCCEEDED", "#15803d"),
        (EventKind.CANCELLED, "CANCELLED", "CANCELLED", "#c2410c"),
        (EventKind.TIMED_OUT, "RUNNING", "TIMED OUT", "#c2410c"),
        (EventKind.FAILED, "FAILED", "FAILED", "#b91c1c"),
        (EventKind.FAILED, "REJECTED", "REJECTED", "#b91c1c"),
    ],
)
def test_each_status_has_its_label_and_colour(clock, kind, status, shown, colour):
    panel = StatusPanel("amcsandbox01", clock=clock)
    panel.update(event(kind, status))
    assert f">{shown}<" in panel.status.value
    assert colour in panel.status.value
    assert "e-1" in panel.header.value


def test_timing_ticks_between_polls_and_freezes_when_done(clock):
    panel = StatusPanel("amcsandbox01", clock=clock)
    panel.update(event(EventKind.POLL, "RUNNING", elapsed=10.0, polls=3))
    clock.now += 65
    panel.tick()
    assert "elapsed 1m 15s" in panel.timing.value
    assert "last poll 1m 05s ago" in panel.timing.value
    assert "3 polls" in panel.timing.value
    panel.update(event(EventKind.DONE, "SUCCEEDED", elapsed=80.0, polls=4, rows=1234, columns=3))
    clock.now += 100
    panel.tick()
    assert "elapsed 1m 20s" in panel.timing.value
    assert "last poll" not in panel.timing.value
    assert "1,234 rows &times; 3 columns" in panel.result.value
    assert panel.cancel_button.disabled


def test_failure_shows_amc_reason_and_hint(clock):
    error = ExecutionFailed(
        "The execution failed on AMC.",
        status="FAILED",
        status_reason="Was unable to read table dsp_impressions",
        hint="check the instance id and the advertiser id",
    )
    panel = StatusPanel("amcsandbox01", clock=clock)
    panel.update(event(EventKind.FAILED, "FAILED", status_reason="Was unable to read table dsp_impressions", error=error))
    assert "Was unable to read table dsp_impressions" in panel.reason.value
    assert "Hint: check the instance id and the advertiser id" in panel.reason.value


def test_reason_is_escaped(clock):
    panel = StatusPanel("amcsandbox01", clock=clock)
    panel.update(event(EventKind.FAILED, "FAILED", status_reason="<script>x</script>"))
    assert "<script>" not in panel.reason.value
    assert "&lt;script&gt;" in panel.reason.value


def test_cancel_button_calls_back_and_hides_without_callback(clock):
    calls = []
    panel = StatusPanel("amcsandbox01", on_cancel=lambda: calls.append(1), clock=clock)
    panel.cancel_button.click()
    assert calls == [1]
    assert StatusPanel("amcsandbox01", clock=clock).cancel_button.layout.display == "none"


def test_cache_note(clock):
    panel = StatusPanel("amcsandbox01", clock=clock)
    panel.show_note("answered from the cache", status="CACHED")
    assert "CACHED" in panel.status.value
    assert "answered from the cache" in panel.result.value
    assert panel.cancel_button.disabled


def test_text_status_prints_changes_not_polls(clock):
    out = io.StringIO()
    text = TextStatus("amcsandbox01", stream=out, clock=clock)
    text.update(event(EventKind.SUBMITTED, "PENDING"))
    text.update(event(EventKind.POLL, "PENDING", polls=1))
    text.update(event(EventKind.STATUS, "RUNNING", elapsed=5.0, polls=2))
    text.update(event(EventKind.POLL, "RUNNING", polls=3))
    text.update(event(EventKind.STATUS, "SUCCEEDED", elapsed=40.0, polls=4))
    text.update(event(EventKind.DOWNLOADING, "SUCCEEDED", elapsed=40.0, files=1))
    text.update(event(EventKind.DONE, "SUCCEEDED", elapsed=42.0, rows=10, columns=2))
    lines = out.getvalue().splitlines()
    assert lines == [
        "[amc] amcsandbox01 | e-1 | PENDING after 0s",
        "[amc] amcsandbox01 | e-1 | RUNNING after 5s",
        "[amc] amcsandbox01 | e-1 | DOWNLOADING after 40s",
        "[amc] amcsandbox01 | e-1 | SUCCEEDED after 42s | 10 rows x 2 columns",
    ]


def test_text_status_failure_has_reason_and_hint(clock):
    out = io.StringIO()
    text = TextStatus("amcsandbox01", stream=out, clock=clock)
    error = ExecutionFailed("failed", status="FAILED", status_reason="boom\nat line 2", hint="try again")
    text.update(event(EventKind.FAILED, "FAILED", status_reason="boom\nat line 2", error=error))
    assert out.getvalue().splitlines()[1:] == [
        "      reason: boom",
        "              at line 2",  # a long reason stays indented
        "      hint: try again",
    ]


def test_text_status_leaves_the_reason_to_an_error_its_caller_raises(clock):
    out = io.StringIO()
    text = TextStatus("amcsandbox01", stream=out, clock=clock, errors_raised=True)
    error = ExecutionFailed("failed", status="FAILED", status_reason="boom", hint="try again")
    text.update(event(EventKind.FAILED, "FAILED", status_reason="boom", error=error))
    assert out.getvalue() == "[amc] amcsandbox01 | e-1 | FAILED after 0s\n"


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.4, "59s"), (60, "1m 00s"), (3725, "1h 02m")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_the_panel_displays_as_its_widget_with_a_neutral_text_fallback(clock):
    panel = StatusPanel("amcsandbox01", clock=clock)
    bundle = panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
    assert bundle["text/plain"] == "AMC status panel for amcsandbox01 (a live view in a widget frontend)"


def test_notes_can_name_the_execution_and_poll_counts_read_well(clock):
    panel = StatusPanel("amcsandbox01", clock=clock)
    panel.show_note("from the cache", status="CACHED", execution_id="abc-123")
    assert "abc-123" in panel.header.value
    panel = StatusPanel("amcsandbox01", clock=clock)
    panel.update(event(EventKind.POLL, "RUNNING", polls=1))
    assert "1 poll<" in panel.timing.value or panel.timing.value.endswith("1 poll</span>")


def test_text_status_prints_the_failure_hint_once(clock):
    out = io.StringIO()
    text = TextStatus("amcsandbox01", stream=out, clock=clock)
    text.update(event(EventKind.STATUS, "RUNNING"))
    text.update(event(EventKind.STATUS, "FAILED", status_reason="boom"))
    error = ExecutionFailed("failed", status="FAILED", status_reason="boom", hint="data may be incomplete")
    text.update(event(EventKind.FAILED, "FAILED", status_reason="boom", error=error))
    printed = out.getvalue()
    assert printed.count("FAILED") == 1
    assert "hint: data may be incomplete" in printed


def test_an_eta_from_earlier_runs_shows_until_the_end(clock):
    from amc_magic.engine.eta import Eta

    eta = Eta(low=600.0, high=1080.0, expected=840.0, runs=5)
    stream = io.StringIO()
    text = TextStatus("amcsandbox01", stream=stream, clock=clock)
    text.update(event(EventKind.SUBMITTED, "PENDING", eta=eta))
    panel = StatusPanel("amcsandbox01", clock=clock)
    panel.update(event(EventKind.STATUS, "RUNNING", eta=eta))
    assert "ETA 14m 00s (10m 00s-18m 00s, from 5 runs)" in stream.getvalue()
    assert "ETA 14m" in panel.timing.value
    panel.update(event(EventKind.DONE, "SUCCEEDED", rows=3, columns=2))
    assert "ETA" not in panel.timing.value


def test_a_one_row_result_is_one_row_not_one_rows(clock):
    out = io.StringIO()
    text = TextStatus("amcsandbox01", stream=out, clock=clock)
    text.update(event(EventKind.DONE, "SUCCEEDED", elapsed=3.0, rows=1, columns=1))
    assert out.getvalue().splitlines()[-1].endswith("| 1 row x 1 column")
    assert rows_by_columns(0, 2) == "0 rows x 2 columns" and rows_by_columns(12345, 3, "&times;") == "12,345 rows &times; 3 columns"
