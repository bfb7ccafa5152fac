"""``%%amc`` and ``%amc`` through an IPython shell, against the embedded sandbox."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

import amc_magic
from amc_magic.errors import (
    ConfigurationError,
    ExecutionCancelled,
    ExecutionTimeout,
    NotFoundError,
    OptionError,
    ParameterError,
    SqlCheckError,
    WindowError,
)
from amc_magic.history import HistoryStore
from amc_magic.job import AmcJob
from amc_magic.report import ValidationReport
from amc_magic.session import Session
from magic_support import CAMPAIGNS, MARCH, REACH_SQL, TOTALS_SQL, ShellHarness, direct_reach, wait_until

pytestmark = pytest.mark.timeout(60)


def error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What the shell printed for a failed cell (status lines left out), with no library traceback."""
    return output_error_lines(capsys.readouterr())


def output_error_lines(captured: pytest.CaptureResult[str]) -> list[str]:
    text = captured.out + captured.err
    assert "Traceback" not in text
    assert 'File "' not in text
    return [line for line in captured.out.splitlines() if line.strip() and not line.startswith(("[amc] ", " "))]


def job_reports(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What jobs reported through the ``amc_magic`` logger (shown on stderr in a notebook)."""
    return [record.getMessage() for record in caplog.records if record.name == "amc_magic"]


def assert_nothing_submitted(amc: ShellHarness) -> None:
    assert amc.creates == 0
    assert amc.history().empty


# --- queries and parameters ---------------------------------------------------------------


def test_parameters_render_into_the_query_and_bind_the_result(amc: ShellHarness, data_cache: Path):
    amc.ns["campaigns"] = CAMPAIGNS

    result = amc.cell(f"reach {MARCH}", REACH_SQL)

    assert result.success and result.result is None
    reach = amc.ns["reach"]
    expected = direct_reach(data_cache, CAMPAIGNS, "2025-03-01", "2025-04-01")
    assert len(expected) == 2  # "Mother's Day" matches nothing, the two others do
    pd.testing.assert_frame_equal(reach.sort_values("campaign").reset_index(drop=True), expected, check_dtype=False)
    assert pd.api.types.is_integer_dtype(reach["reach"]) and pd.api.types.is_integer_dtype(reach["impressions"])
    shown = amc.line(f"show {amc.history()['id'][0]}").result
    assert "'Mother''s Day'" in shown["sql"]
    assert shown["parameters"]["campaigns"].startswith("'Northwind - Spring Collection', 'Mother''s Day'")
    assert re.fullmatch(r"\d+s|\d+m \d\ds", shown["duration"])  # as the history and the panel write it


def test_a_string_with_quotes_comes_back_unchanged(amc: ShellHarness):
    amc.ns["label"] = 'Mother\'s Day "best" \\ offer; --'
    amc.ns["campaign"] = "Lumen - Remarketing"

    result = amc.cell(
        f"labelled {MARCH}",
        "SELECT campaign, {{ label }} AS label, SUM(impressions) AS impressions FROM dsp_impressions\n"
        "WHERE campaign = {{campaign}} GROUP BY campaign",
    )

    assert result.success
    assert amc.ns["labelled"][["campaign", "label"]].values.tolist() == [["Lumen - Remarketing", amc.ns["label"]]]


def test_without_a_variable_the_result_is_the_cell_value(amc: ShellHarness):
    result = amc.cell(MARCH, TOTALS_SQL)

    assert isinstance(result.result, pd.DataFrame)
    assert amc.ns["_"] is result.result
    assert set(result.result.columns) == {"campaign", "impressions"} and len(result.result) > 0


def test_the_magic_line_expands_python_values(amc: ShellHarness):
    amc.ns.update(first_day="2025-03-01", last_day="2025-03-31", name="totals")

    result = amc.cell("$name start={first_day} end={last_day[:7] + '-31'}", TOTALS_SQL)

    assert result.success
    window = amc.history()["window"][0]
    assert window.startswith("2025-03-01") and "2025-04-01" in window
    pd.testing.assert_frame_equal(amc.ns["totals"], amc.cell(MARCH, TOTALS_SQL).result)
    assert amc.creates == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("bogus=1", "OptionError: Unknown option 'bogus'."),
        ("stat=2025-03-01", "OptionError: Unknown option 'stat'. Did you mean 'start'?"),
        ("wait=maybe", "OptionError: wait='maybe' is not true or false."),
        ("cache=sometimes", "OptionError: cache='sometimes' is not one of true, false, refresh."),
        ("timeout=-5", "OptionError: timeout='-5' is not a positive number of seconds."),
        ("1abc", "OptionError: '1abc' is not a valid Python variable name for the result."),
        ("reach extra", "OptionError: Unexpected word 'extra' on the %%amc line."),
        ("every=fortnight", "OptionError: every='fortnight' is not one of day, week, month."),
        ("concurrency=12", "OptionError: concurrency=12 is not a whole number from 1 to 10."),
        ("concurrency=3", "OptionError: concurrency= applies to a backfill (every= or instance=a,b); this cell runs one execution."),
        ("week_start=sunday", "OptionError: week_start= applies to a backfill (every= or instance=a,b); this cell runs one execution."),
        ("start=2025-03-31 end=2025-03-01", None),
        ("tz=Mars/Olympus", None),
    ],
)
def test_bad_options_give_one_clean_message_and_submit_nothing(amc: ShellHarness, capsys, line, message):
    result = amc.cell(line, TOTALS_SQL)

    assert not result.success
    lines = error_lines(capsys)
    if message is None:  # a window error: its own wording, same shape
        assert lines[0].startswith("WindowError: ")
    else:
        assert lines[0] == message
    assert lines[1].startswith("Hint: ") and len(lines) == 2
    assert_nothing_submitted(amc)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "ParameterError: {{campaigns}}: 'campaigns' is not defined"),
        ([], "ParameterError: {{campaigns}} is an empty list; it would render as IN ()"),
        (["a", math.nan], "ParameterError: {{campaigns}}[1] is nan; SQL has no literal for NaN or infinity"),
        ({"a": 1}, "ParameterError: {{campaigns}} is a dict, which has no SQL literal"),
        ([["a"]], "ParameterError: {{campaigns}} is a nested collection: {{campaigns}}[0] is a list"),
    ],
)
def test_bad_parameters_give_one_clean_message_and_submit_nothing(amc: ShellHarness, capsys, value, message):
    amc.ns.pop("campaigns", None)
    if value is not None:
        amc.ns["campaigns"] = value

    result = amc.cell(MARCH, REACH_SQL)

    assert isinstance(result.error_in_exec, ParameterError)
    lines = error_lines(capsys)
    assert lines[0] == message
    assert lines[1].startswith("Hint: ") and len(lines) == 2
    assert_nothing_submitted(amc)


def test_validate_only_shows_the_rendered_sql_and_verdict_and_submits_nothing(amc: ShellHarness):
    amc.ns["campaigns"] = CAMPAIGNS

    report = amc.cell(f"{MARCH} validate=only", REACH_SQL).result

    assert isinstance(report, ValidationReport) and report.ok
    text = repr(report)
    assert text.startswith("The checks passed. Nothing was submitted.")
    assert "WHERE campaign IN ('Northwind - Spring Collection', 'Mother''s Day', 'Lumen - Remarketing')" in text
    assert "2025-03-01" in text
    assert_nothing_submitted(amc)


def test_validate_only_into_a_variable_shows_the_report_too(amc: ShellHarness, capsys):
    amc.ns["campaigns"] = CAMPAIGNS

    result = amc.cell(f"checked {MARCH} validate=only", REACH_SQL)

    assert result.success and result.result is None
    assert amc.ns["checked"].ok
    assert "The checks passed. Nothing was submitted." in capsys.readouterr().out
    assert_nothing_submitted(amc)


def test_validate_only_fails_the_cell_after_showing_its_report_when_the_checks_find_an_error(amc: ShellHarness, capsys):
    result = amc.cell(f"checked {MARCH} validate=only", "SELECT * FROM dsp_impressions")

    assert isinstance(result.error_in_exec, SqlCheckError)
    shown = capsys.readouterr()
    text = shown.out + shown.err
    report_at, error_at = text.index("AMC would reject this query: 2 error(s)"), text.index("SqlCheckError: ")
    assert report_at < text.index("rendered SQL:") < error_at  # the report is shown, then the cell fails
    assert "SELECT * is not allowed" in text[error_at:] and "Traceback" not in text
    rejected = amc.ns["checked"]
    assert not rejected.ok and "SELECT * is not allowed" in rejected._repr_html_()
    assert_nothing_submitted(amc)


def test_validate_only_passes_with_warnings_alone(amc: ShellHarness):
    result = amc.cell("start=2024-12-25 end=2025-01-10 validate=only", TOTALS_SQL)

    assert result.success
    assert result.result.ok
    assert "warning: The window starts before the data: this instance holds data from 2025-01-01" in repr(result.result)
    assert_nothing_submitted(amc)


def test_a_window_wholly_outside_the_sandbox_data_is_an_error_naming_its_range(amc: ShellHarness, capsys):
    result = amc.cell("start=2019-01-01 end=2019-01-31", TOTALS_SQL)

    assert isinstance(result.error_in_exec, WindowError)
    lines = error_lines(capsys)
    assert lines[0] == (
        "WindowError: The window 2019-01-01 → 2019-02-01 is wholly outside the data: "
        "this instance holds data from 2025-01-01 to 2025-04-01 (UTC)"
    )
    assert lines[1].startswith("Hint: Choose dates between 2025-01-01 and 2025-04-01")
    assert_nothing_submitted(amc)


def test_a_sql_check_error_blocks_submission(amc: ShellHarness, capsys):
    result = amc.cell(MARCH, "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign LIMIT 5")

    assert isinstance(result.error_in_exec, SqlCheckError)
    lines = error_lines(capsys)
    assert lines[0] == "SqlCheckError: AMC would reject this query:"
    assert "LIMIT (or FETCH FIRST) is not supported in AMC SQL" in lines[1]
    assert lines[-1].startswith("Hint: ")
    assert_nothing_submitted(amc)


def test_validate_false_lets_the_sandbox_decide(amc: ShellHarness, capsys, caplog):
    result = amc.cell(f"{MARCH} validate=false", "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY campaign LIMIT 5")

    assert not result.success
    assert amc.creates == 1  # AMC refused to create it, so it is not in the history of executions
    assert amc.history().empty
    captured = capsys.readouterr()
    status = captured.out.split("\nCompileError: ")[0].splitlines()
    assert status == ["[amc] amcsandbox01 | FAILED after 0s"]  # the reason and hint once, in the error below
    lines = output_error_lines(captured)
    assert lines[0].startswith("CompileError: AMC could not compile the SQL: ")
    assert lines[1].startswith("From line 1, column 79: LIMIT (or FETCH FIRST) is not supported in AMC SQL.")
    assert lines[2].startswith("Hint: ") and len(lines) == 3
    assert not job_reports(caplog)  # the cell raised the error: it is not reported a second time


def test_a_background_failure_is_reported_once(amc: ShellHarness, caplog):
    amc.cell(f"job {MARCH} wait=false validate=false", "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY campaign LIMIT 5")
    job = amc.ns["job"]

    wait_until(job.done, what="the job to end")

    assert job.status == "FAILED"  # an AMC status, not an exception class
    assert [r.split(":")[0] for r in job_reports(caplog)] == ["amc-magic background job on amcsandbox01 ended"]


# --- the cache ------------------------------------------------------------------------------


def test_an_identical_cell_is_answered_from_the_cache(amc: ShellHarness):
    first = amc.cell(MARCH, TOTALS_SQL).result
    again = amc.cell(MARCH, TOTALS_SQL).result

    assert amc.creates == 1
    pd.testing.assert_frame_equal(again, first)
    assert len(amc.history()) == 1  # a cache hit is not an execution

    job_line = amc.cell(f"job {MARCH} wait=false", TOTALS_SQL)
    assert job_line.success
    amc.ns["job"].result(timeout=10)
    assert amc.ns["job"].status == "CACHED" and amc.creates == 1


def test_cache_refresh_runs_again_and_cache_false_neither_reads_nor_reuses(amc: ShellHarness):
    amc.cell(MARCH, TOTALS_SQL)
    amc.cell(f"{MARCH} cache=refresh", TOTALS_SQL)
    assert amc.creates == 2

    amc.cell(f"{MARCH} cache=false", TOTALS_SQL)
    assert amc.creates == 3
    amc.cell(MARCH, TOTALS_SQL)  # the cached result is still there for cache=true
    assert amc.creates == 3

    other = "start=2025-02-01 end=2025-02-28"
    amc.cell(f"{other} cache=false", TOTALS_SQL)
    amc.cell(other, TOTALS_SQL)  # a cache=false result is never reused
    assert amc.creates == 5
    assert len(amc.history()) == 5


# --- background cells -----------------------------------------------------------------------


def test_wait_false_binds_a_job_whose_result_is_the_frame(amc: ShellHarness, data_cache: Path):
    amc.ns["campaigns"] = CAMPAIGNS

    result = amc.cell(f"job {MARCH} wait=false", REACH_SQL)

    assert result.success and result.result is None
    job = amc.ns["job"]
    assert isinstance(job, AmcJob)
    frame = job.result(timeout=20)
    expected = direct_reach(data_cache, CAMPAIGNS, "2025-03-01", "2025-04-01")
    pd.testing.assert_frame_equal(frame.sort_values("campaign").reset_index(drop=True), expected, check_dtype=False)
    assert job.status == "SUCCEEDED" and job.done()
    assert job.execution_id == amc.magics.session.execution(job.local_id).amc_execution_id
    assert repr(job).startswith(f"<AmcJob amcsandbox01 execution={job.execution_id} status=SUCCEEDED")


# --- line commands --------------------------------------------------------------------------


def test_instances_and_schema(amc: ShellHarness, capsys):
    instances = amc.line("instances").result
    tables = amc.line("schema").result
    columns = amc.line("schema dsp_impressions").result
    missing = amc.line("schema dsp_impression")

    assert instances[["instance", "instance_id", "type"]].values.tolist() == [["sandbox", "amcsandbox01", "SANDBOX"]]
    assert "dsp_impressions" in tables["table"].tolist() and "time_column" in tables.columns
    assert {"campaign", "impressions", "user_id"} <= set(columns["column"])
    assert columns.set_index("column").loc["user_id", "threshold"] == "VERY_HIGH"
    assert isinstance(missing.error_in_exec, NotFoundError)
    assert error_lines(capsys)[-2:] == [
        "NotFoundError: No table 'dsp_impression' in the schema of amcsandbox01.",
        "Hint: Did you mean 'dsp_impressions'?",
    ]


def test_history_show_and_result(amc: ShellHarness):
    amc.cell(f"first {MARCH}", TOTALS_SQL)
    amc.cell("second start=2025-02-01 end=2025-02-28", TOTALS_SQL)

    history = amc.line("history").result
    assert history["status"].tolist() == ["SUCCEEDED", "SUCCEEDED"]
    assert history["window"].tolist()[0].startswith("2025-02-01")  # newest first
    assert len(amc.line("history 1").result) == 1

    older = amc.magics.session.execution(history["id"][1])
    by_short_id = amc.line(f"show {history['id'][1]}").result
    by_amc_prefix = amc.line(f"show {older.amc_execution_id[:12]}").result
    assert by_short_id["status"] == "SUCCEEDED" and by_short_id["amc_execution_id"] == older.amc_execution_id
    assert by_amc_prefix.equals(by_short_id)
    assert by_short_id["rows"] == len(amc.ns["first"])

    assert amc.line(f"result {history['id'][1]} stored").success
    pd.testing.assert_frame_equal(amc.ns["stored"], amc.ns["first"])
    pd.testing.assert_frame_equal(amc.line(f"result {older.amc_execution_id}").result, amc.ns["first"])
    assert amc.creates == 2


def test_attach_waits_for_a_running_execution(make_amc, capsys):
    amc = make_amc(run_seconds=1.5)
    amc.cell(f"job {MARCH} wait=false", TOTALS_SQL)
    job = amc.ns["job"]
    wait_until(lambda: job.execution_id is not None, what="the execution to be submitted")

    frame = amc.line(f"attach {job.local_id[:8]}").result
    again = amc.line(f"attach {job.execution_id} again")

    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    pd.testing.assert_frame_equal(job.result(timeout=10), frame)
    assert again.success
    pd.testing.assert_frame_equal(amc.ns["again"], frame)
    assert "already downloaded" in capsys.readouterr().out
    assert amc.creates == 1


def test_attach_wait_false_binds_a_job(make_amc):
    amc = make_amc(run_seconds=1.5)
    amc.cell(f"{MARCH} wait=false", TOTALS_SQL)
    wait_until(lambda: not amc.history().empty, what="the execution to be submitted")
    local_id = amc.history()["id"][0]

    result = amc.line(f"attach {local_id} follower wait=false")

    follower = amc.ns["follower"]
    assert result.success and isinstance(follower, AmcJob)
    assert len(follower.result(timeout=20)) > 0 and follower.status == "SUCCEEDED"
    assert amc.creates == 1


def test_a_timeout_stops_waiting_and_keeps_the_execution(slow_amc: ShellHarness, capsys):
    result = slow_amc.cell(f"{MARCH} timeout=0.5", TOTALS_SQL)

    assert isinstance(result.error_in_exec, ExecutionTimeout)
    assert error_lines(capsys)[0].startswith("ExecutionTimeout: ")
    assert slow_amc.sandbox_statuses() == ["RUNNING"]
    assert slow_amc.history()["status"].tolist() == ["RUNNING"]
    slow_amc.line(f"cancel {slow_amc.history()['id'][0]}")
    assert slow_amc.sandbox_statuses() == ["CANCELLED"]


def test_cancel_stops_a_running_execution(slow_amc: ShellHarness, capsys, caplog):
    slow_amc.cell(f"job {MARCH} wait=false", TOTALS_SQL)
    job = slow_amc.ns["job"]
    wait_until(lambda: job.status == "RUNNING", what="the execution to run")
    capsys.readouterr()

    result = slow_amc.line(f"cancel {job.execution_id}")

    assert result.success
    record = slow_amc.magics.session.execution(job.local_id)
    assert capsys.readouterr().out.splitlines()[-1] == f"Execution {record.short_id} ({job.execution_id}) is CANCELLED."
    assert slow_amc.sandbox_statuses() == ["CANCELLED"]
    assert slow_amc.sandbox.calls["update_execution"] == 1
    with pytest.raises(ExecutionCancelled):
        job.result(timeout=10)
    assert job.status == "CANCELLED"
    assert slow_amc.history()["status"].tolist() == ["CANCELLED"]
    assert not job_reports(caplog)  # a cancel the user asked for is no failure to report


def test_cancel_stops_an_execution_another_kernel_follows(slow_amc: ShellHarness, capsys):
    other_kernel = Session(database_url=slow_amc.magics.database_url, sandbox_app=slow_amc.sandbox.app)
    try:
        job = amc_magic.submit(TOTALS_SQL, start="2025-03-01", end="2025-03-31", session=other_kernel)
        wait_until(lambda: job.status == "RUNNING", what="the execution to run")

        result = slow_amc.line(f"cancel {job.local_id[:8]}")

        assert result.success
        assert capsys.readouterr().out.strip().endswith(f"({job.execution_id}) is CANCELLED.")
        assert slow_amc.sandbox_statuses() == ["CANCELLED"]
        with pytest.raises(ExecutionCancelled):
            job.result(timeout=10)
        assert slow_amc.history()["status"].tolist() == ["CANCELLED"]
    finally:
        other_kernel.close()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "OptionError: %amc needs a command."),
        ("frobnicate", "OptionError: Unknown %amc command 'frobnicate'."),
        ("history foo=1", "OptionError: %amc history does not take foo=."),
        ("history ten", "OptionError: %amc history takes one optional number."),
        ("history 0", "OptionError: %amc history N: N must be at least 1."),
        ("show", "OptionError: %amc show takes ID."),
        ("instances extra", "OptionError: %amc instances takes no arguments."),
        ("result abc 1bad", "OptionError: '1bad' is not a valid Python variable name for the result."),
        ("show nosuchid", None),
    ],
)
def test_bad_line_commands_give_one_clean_message(amc: ShellHarness, capsys, line, message):
    result = amc.line(line)

    assert not result.success
    lines = error_lines(capsys)
    if message is None:
        assert isinstance(result.error_in_exec, NotFoundError)
        assert lines[0].startswith("NotFoundError: ")
    else:
        assert isinstance(result.error_in_exec, OptionError)
        assert lines[0] == message
    assert lines[-1].startswith("Hint: ")


# --- configuration and display --------------------------------------------------------------


def test_default_instance_is_configurable(amc: ShellHarness, capsys):
    amc.config("default_instance = 'amcnosuch01'")

    result = amc.cell(MARCH, TOTALS_SQL)
    schema = amc.line("schema")

    assert isinstance(result.error_in_exec, ConfigurationError)
    assert isinstance(schema.error_in_exec, ConfigurationError)
    assert error_lines(capsys)[0] == "ConfigurationError: Unknown AMC instance 'amcnosuch01'."
    assert_nothing_submitted(amc)

    amc.config("default_instance = 'sandbox'")
    assert amc.cell(MARCH, TOTALS_SQL).success and amc.creates == 1
    assert amc.cell(f"{MARCH} instance=amcnosuch01", TOTALS_SQL).error_in_exec is not None


def test_the_database_url_is_configurable(amc: ShellHarness, tmp_path: Path):
    amc.cell(MARCH, TOTALS_SQL)
    original = amc.magics.database_url

    amc.config(f"database_url = {'sqlite:///' + str(tmp_path / 'other.sqlite')!r}")
    assert amc.line("history").result.empty
    amc.config(f"database_url = {original!r}")

    assert len(amc.line("history").result) == 1
    store = HistoryStore.from_url(original)
    try:
        assert [record.status for record in store.list_executions(10)] == ["SUCCEEDED"]
    finally:
        store.close()


def test_outside_a_kernel_the_panel_falls_back_to_text_lines(amc: ShellHarness, capsys):
    amc.cell(f"totals {MARCH}", TOTALS_SQL)

    lines = capsys.readouterr().out.splitlines()
    execution_id = amc.magics.session.execution(amc.history()["id"][0]).amc_execution_id
    assert lines[0] == f"[amc] amcsandbox01 | {execution_id} | PENDING after 0s"
    assert lines[-1].startswith(f"[amc] amcsandbox01 | {execution_id} | SUCCEEDED after ")
    assert lines[-1].endswith(f"| {len(amc.ns['totals'])} rows x 2 columns")

    amc.cell(f"totals {MARCH}", TOTALS_SQL)
    cached = capsys.readouterr().out.splitlines()
    assert len(cached) == 1 and "CACHED" in cached[0] and "from the cache" in cached[0]


def test_display_none_prints_no_status(amc: ShellHarness, capsys):
    amc.config("display = 'none'")

    result = amc.cell(f"totals {MARCH}", TOTALS_SQL)

    assert result.success and amc.creates == 1
    assert capsys.readouterr().out == ""
