"""Saved workflows through the magic: versions, runs by any id, sync to AMC, schedules and their runs.

Every test gets an IPython shell with ``amc_magic`` loaded, a history database of its own and an
embedded sandbox on a :class:`~amc_magic.sandbox.config.ManualClock`, so a schedule's days pass
when the test says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell

from amc_magic.errors import AmcMagicError, ConfigurationError, NotFoundError, OptionError
from amc_magic.magics import AMCMagic
from amc_magic.sandbox.app import Sandbox, create_app
from amc_magic.sandbox.config import ManualClock, SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.session import Session

pytestmark = pytest.mark.timeout(90)

DATA = DataSpec(today=date(2026, 1, 15), seed=3, scale=0.01)
"""Small data from 2025-01-01 to 2026-01-13."""
START = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
"""The sandbox clock's start: ten daily periods from here all hold data."""
DAY = 86400
DECEMBER = "start=2025-12-01 end=2025-12-31"
CAMPAIGNS = ["Lumen - Remarketing", "Mother's Day", "Northwind - Spring Collection"]
IMPRESSIONS_SQL = """SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN ({{campaigns}})
GROUP BY campaign"""
REACH_SQL = """SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN ({{campaigns}})
GROUP BY campaign"""


@dataclass
class Harness:
    """The shell, its magic, the sandbox behind it and the sandbox's clock."""

    shell: InteractiveShell
    magics: AMCMagic
    sandbox: Sandbox
    clock: ManualClock

    @property
    def ns(self) -> dict[str, Any]:
        return self.shell.user_ns

    @property
    def store(self) -> Any:
        return self.magics.session.store

    def cell(self, line: str, sql: str) -> ExecutionResult:
        return self.shell.run_cell(f"%%amc {line}\n{sql}", store_history=True)

    def line(self, line: str) -> ExecutionResult:
        return self.shell.run_cell(f"%amc {line}", store_history=True)

    def ok(self, line: str) -> Any:
        """Run ``%amc LINE``, which must succeed, and return its value."""
        result = self.line(line)
        assert result.error_in_exec is None, result.error_in_exec
        return result.result

    def days_pass(self, days: int) -> None:
        """Move the sandbox's clock on and let it run every execution the schedules made."""
        self.clock.advance(days * DAY)
        asyncio.run(self.sandbox.wait_idle())

    def scheduled(self) -> list[Any]:
        return [e for e in self.sandbox.api.executions.all() if e.spec.category == "SCHEDULED"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workflow-commands-data")


@pytest.fixture
def amc(shell: InteractiveShell, data_dir: Path, tmp_path: Path) -> Iterator[Harness]:
    clock = ManualClock(START)
    app = create_app(SandboxConfig(clock=clock, token_lifetime_seconds=10**7, data=DATA, data_cache_dir=data_dir))
    magics = shell.magics_manager.registry["AMCMagic"]
    shell.run_line_magic("config", "AMCMagic.display = 'none'")
    magics.session = Session(database_url=f"sqlite:///{tmp_path / 'history.sqlite'}", sandbox_app=app)
    shell.user_ns["campaigns"] = CAMPAIGNS
    harness = Harness(shell, magics, app.state.sandbox, clock)
    yield harness
    magics.close()
    asyncio.run(harness.sandbox.wait_idle())
    harness.sandbox.close()
    shell.run_line_magic("config", "AMCMagic.display = 'auto'")
    for name in ("campaigns", "reach", "pulled", "again", "first", "loaded"):
        shell.user_ns.pop(name, None)


def error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What the shell printed for a failed cell: the error's lines, with no library traceback."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert 'File "' not in captured.out + captured.err
    return [line for line in captured.out.splitlines() if line.strip()]


def save_and_sync(amc: Harness, sql: str = REACH_SQL) -> None:
    result = amc.cell(f"reach save=reach sync=true {DECEMBER}", sql)
    assert result.error_in_exec is None, result.error_in_exec


# --- saved workflows ----------------------------------------------------------------------------


def test_save_edit_and_resave_make_two_versions_that_every_kind_of_id_runs(amc: Harness) -> None:
    assert amc.cell(f"first save=reach description='Reach by campaign' {DECEMBER}", IMPRESSIONS_SQL).error_in_exec is None
    assert amc.cell(f"reach save=reach {DECEMBER}", REACH_SQL).error_in_exec is None
    assert amc.cell(f"reach save=reach {DECEMBER}", REACH_SQL).error_in_exec is None  # unchanged: no version 3

    listed = amc.ok("workflows")
    assert listed[["name", "versions", "last_status", "description"]].values.tolist() == [
        ["reach", 2, "SUCCEEDED", "Reach by campaign"]
    ]
    workflow = amc.store.find_workflow("reach")
    detail = amc.ok("workflow reach").text()
    assert "version 1" in detail and "version 2" in detail
    assert "-SELECT campaign, SUM(impressions) AS impressions" in detail
    assert "+SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions" in detail

    refs = ["reach", workflow.workflow_id, workflow.id, workflow.workflow_id[:7], workflow.id[:8], workflow.id.upper()]
    for ref in refs:
        assert amc.line(f"run {ref} again").error_in_exec is None, ref
        pd.testing.assert_frame_equal(amc.ns["again"], amc.ns["reach"])
    assert amc.line("run reach again version=1").error_in_exec is None
    pd.testing.assert_frame_equal(amc.ns["again"], amc.ns["first"])

    assert amc.sandbox.calls["create_execution"] == 2  # each version ran once; the runs were cache hits
    linked = {(r.workflow_id, r.workflow_version) for r in amc.store.list_executions()}
    assert linked == {(workflow.id, 1), (workflow.id, 2)}


def test_a_workflow_saved_with_validate_only_runs_when_run(amc: Harness) -> None:
    assert amc.cell(f"reach save=reach validate=only wait=false {DECEMBER}", REACH_SQL).error_in_exec is None
    assert amc.sandbox.calls["create_execution"] == 0  # checked and saved, not run

    assert amc.store.workflows.get_version(amc.store.find_workflow("reach").id).options == {"end": "2025-12-31", "start": "2025-12-01"}
    assert amc.line("run reach again").error_in_exec is None
    assert amc.sandbox.calls["create_execution"] == 1
    assert amc.ns["again"]["campaign"].tolist()


def test_a_window_given_to_a_run_replaces_the_saved_one(amc: Harness) -> None:
    from amc_magic.workflows import save

    save(amc.store, "reach", REACH_SQL, amc.ns, options={"window": "previous_month", "tz": "UTC"})  # not this data's

    assert amc.line("run reach first start=2025-12-01 end=2025-12-14").error_in_exec is None
    latest = amc.store.list_executions()[0]
    assert (latest.window_type, latest.window_start.day, latest.window_end.day) == ("EXPLICIT", 1, 15)


def test_a_run_takes_values_from_the_line_over_the_notebook(amc: Harness) -> None:
    assert amc.cell(f"reach save=reach {DECEMBER}", REACH_SQL).error_in_exec is None
    assert amc.line("run reach again campaigns='Lumen - Remarketing'").error_in_exec is None
    assert amc.ns["again"]["campaign"].tolist() == ["Lumen - Remarketing"]
    latest = amc.store.list_executions()[0]
    assert "IN ('Lumen - Remarketing')" in latest.rendered_sql and latest.workflow_version == 1


# --- sync=true and %amc sync ----------------------------------------------------------------------


def test_sync_true_creates_then_updates_one_amc_workflow_and_runs_it_by_workflow_id(amc: Harness, capsys) -> None:
    save_and_sync(amc, IMPRESSIONS_SQL)
    save_and_sync(amc, REACH_SQL)
    save_and_sync(amc, REACH_SQL)  # nothing changed: nothing sent, the result comes from the cache

    calls = amc.sandbox.calls
    assert (calls["create_workflow"], calls["update_workflow"]) == (1, 1)
    assert calls["create_execution"] == 2
    workflow = amc.store.find_workflow("reach")
    [on_amc] = amc.sandbox.api.workflows.all()
    assert on_amc.workflow_id == workflow.workflow_id
    assert "ARRAY_CONTAINS(CUSTOM_PARAMETER('campaigns'), campaign)" in on_amc.sql_query
    runs = amc.sandbox.api.executions.all()
    assert [e.spec.workflow.workflow_id for e in runs] == [workflow.workflow_id] * 2
    assert runs[-1].spec.parameter_values == {"campaigns": CAMPAIGNS}
    assert "created on amcsandbox01 (version 1)" in capsys.readouterr().err

    by_workflow_id = amc.ns["reach"]
    assert amc.cell(f"reach cache=refresh {DECEMBER}", REACH_SQL).error_in_exec is None  # the same SQL, ad hoc
    pd.testing.assert_frame_equal(amc.ns["reach"], by_workflow_id)
    assert {(r.workflow_id, r.workflow_version) for r in amc.store.list_executions()} == {
        (workflow.id, 1), (workflow.id, 2), (None, None)
    }


def test_sync_command_sends_only_what_changed(amc: Harness, capsys) -> None:
    assert amc.cell(f"save=reach validate=only {DECEMBER}", REACH_SQL).error_in_exec is None
    amc.ok("sync reach")
    amc.ok("sync reach")
    out = capsys.readouterr().out
    workflow = amc.store.find_workflow("reach")
    assert f"AMC workflow {workflow.workflow_id} on amcsandbox01 created: version 1." in out
    assert f"AMC workflow {workflow.workflow_id} on amcsandbox01 is already version 1." in out
    assert (amc.sandbox.calls["create_workflow"], amc.sandbox.calls["update_workflow"]) == (1, 0)
    assert amc.sandbox.calls["create_execution"] == 0


# --- schedules and the runs AMC made ----------------------------------------------------------------


def test_a_daily_schedule_over_ten_days_pulls_ten_runs_into_history_once(amc: Harness, capsys) -> None:
    save_and_sync(amc)
    workflow = amc.store.find_workflow("reach")
    amc.ok("schedule reach every=day hour=0")
    assert f"Schedule {workflow.workflow_id}-schedule runs {workflow.workflow_id} daily at 00:00 UTC" in capsys.readouterr().out
    schedules = amc.ok("schedules")
    assert schedules.to_dict("records") == [
        {
            "schedule_id": f"{workflow.workflow_id}-schedule",
            "workflow": "reach",
            "workflow_id": workflow.workflow_id,
            "period": "Daily",
            "hour_utc": 0,
            "day": None,
            "enabled": True,
        }
    ]
    submitted = amc.sandbox.calls["create_execution"]

    amc.days_pass(10)
    assert len(amc.scheduled()) == 10
    assert amc.line("runs reach pulled").error_in_exec is None
    assert amc.line("runs reach again").error_in_exec is None

    pulled, again = amc.ns["pulled"], amc.ns["again"]
    assert len(pulled) == 10 and again.empty
    assert "Pulled 10 new runs of reach from AMC: 10 with results stored." in capsys.readouterr().out
    assert pulled["status"].tolist() == ["SUCCEEDED"] * 10
    assert pulled["window"].tolist() == [f"2026-01-{d:02d} → 2026-01-{d + 1:02d}" for d in range(1, 11)]
    records = [r for r in amc.store.list_executions(100) if r.amc_execution_id in {e.execution_id for e in amc.scheduled()}]
    assert len(records) == 10 and {(r.workflow_id, r.workflow_version) for r in records} == {(workflow.id, 1)}
    assert {r.options.get("target") for r in records} == {"sandbox"}  # anyone attaching later reaches it
    assert amc.sandbox.calls["create_execution"] == submitted  # pulling submits nothing

    record = records[0]
    assert amc.line(f"result {record.id[:8]} loaded").error_in_exec is None
    loaded = amc.ns["loaded"]
    assert list(loaded.columns) == ["campaign", "reach", "impressions"] and not loaded.empty
    [execution] = [e for e in amc.scheduled() if e.execution_id == record.amc_execution_id]
    expected = execution.output.table.to_pandas().sort_values("campaign", ignore_index=True)
    assert loaded.sort_values("campaign", ignore_index=True)["reach"].tolist() == expected["reach"].tolist()


def test_runs_still_going_when_pulled_are_followed_to_their_results(amc: Harness) -> None:
    save_and_sync(amc)
    amc.ok("schedule reach every=day")
    amc.clock.advance(3 * DAY)  # the sandbox has not run the three executions yet

    pulled = amc.ok("runs reach")

    assert len(pulled) == 3
    local_ids = [r.id for r in amc.store.list_executions(100) if r.short_id in set(pulled["id"])]
    deadline = time.monotonic() + 30
    while any(amc.store.load_result(local_id) is None for local_id in local_ids):
        assert time.monotonic() < deadline, "the pulled runs' results were never stored"
        time.sleep(0.05)
    assert {amc.store.get_execution(local_id).status for local_id in local_ids} == {"SUCCEEDED"}
    assert amc.ok("runs reach").empty


def test_unschedule_stops_new_runs(amc: Harness, capsys) -> None:
    save_and_sync(amc)
    amc.ok("schedule reach every=week day=fri hour=6")
    assert amc.ok("schedules")[["period", "hour_utc", "day"]].values.tolist() == [["Weekly", 6, "Friday"]]
    amc.days_pass(8)  # START is a Thursday: one Friday 06:00 has passed
    amc.ok("unschedule reach")
    assert "is disabled: AMC starts no more runs" in capsys.readouterr().out
    amc.days_pass(21)

    assert len(amc.scheduled()) == 1
    assert len(amc.ok("runs reach")) == 1
    assert amc.ok("schedules")["enabled"].tolist() == [False]
    capsys.readouterr()
    again = amc.line("unschedule reach")
    assert isinstance(again.error_in_exec, NotFoundError)
    assert "has no enabled schedule on amcsandbox01" in error_lines(capsys)[0]

    amc.ok("schedule reach every=day")  # scheduling again changes and enables the same schedule
    amc.days_pass(2)
    assert amc.ok("schedules")[["period", "enabled"]].values.tolist() == [["Daily", True]]
    assert len(amc.scheduled()) == 3


def test_a_schedule_needs_the_workflow_on_amc_and_warns_when_amc_has_an_older_version(amc: Harness, capsys) -> None:
    assert amc.cell(f"reach save=reach {DECEMBER}", IMPRESSIONS_SQL).error_in_exec is None
    capsys.readouterr()
    refused = amc.line("schedule reach every=day")
    assert isinstance(refused.error_in_exec, OptionError)
    lines = error_lines(capsys)
    assert lines[0].startswith("OptionError: Workflow 'reach' (wf_") and "is not on AMC instance amcsandbox01 yet" in lines[0]
    assert lines[1] == "Hint: Run %amc sync reach first, then schedule it."

    amc.ok("sync reach")
    assert amc.cell(f"reach save=reach {DECEMBER}", REACH_SQL).error_in_exec is None
    capsys.readouterr()
    amc.ok("schedule reach every=day")
    assert "Warning: AMC has version 1 of 'reach' and runs that one; the newest is version 2." in capsys.readouterr().err


# --- mistakes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "error", "message"),
    [
        ("sync \"x'; DROP TABLE amc_workflows; --\"", NotFoundError, "No workflow matches"),
        ("runs wf_ZZZZ", NotFoundError, "a wf_ id is wf_ followed by 12 lowercase hex digits"),
        ("schedule 00000000-0000-0000-0000-00000000000g every=day", NotFoundError, "No workflow matches"),
        (f"unschedule {'a' * 5000}", NotFoundError, "(5000 characters)"),
        ("runs reach%", NotFoundError, "No workflow matches 'reach%'"),
        ("schedule reach every=month", OptionError, "every=month is not day or week."),
        ("schedule reach every=day hour=24", OptionError, "hour=24 is not an hour from 0 to 23."),
        ("schedule reach every=day hour=-1", OptionError, "hour=-1 is not an hour from 0 to 23."),
        ("schedule reach every=week day=Funday", OptionError, "day=Funday is not a weekday."),
        ("schedule reach every=day day=Monday", OptionError, "day=Monday only applies to every=week."),
        ("schedule reach", OptionError, "%amc schedule needs every=day or every=week."),
        ("schedule reach every=day cron='0 6 * * *'", OptionError, "%amc schedule does not take cron=."),
        ("unschedule", OptionError, "%amc unschedule takes NAME."),
        ("schedules reach", OptionError, "%amc schedules takes no arguments."),
        ("runs reach 1bad", OptionError, "'1bad' is not a valid Python variable name"),
        ("runs reach instance=amc1nothere", ConfigurationError, "Unknown AMC instance 'amc1nothere'."),
    ],
    ids=lambda value: str(value)[:40],
)
def test_hostile_names_and_bad_arguments_are_one_clean_message(amc: Harness, capsys, line, error, message) -> None:
    assert amc.cell(f"save=reach validate=only {DECEMBER}", REACH_SQL).error_in_exec is None
    amc.ok("sync reach")
    capsys.readouterr()

    result = amc.line(line)

    assert isinstance(result.error_in_exec, error)
    lines = error_lines(capsys)
    assert lines[0].startswith(f"{error.__name__}: ") and message in lines[0]
    assert len(lines) <= 2 and all(line.startswith("Hint: ") for line in lines[1:])
    assert amc.sandbox.calls["create_schedule"] == 0 and amc.sandbox.calls["create_execution"] == 0


@pytest.mark.parametrize(
    "line",
    ["reach sync=true", f"reach save=weekly sync=true every=week {DECEMBER}", "reach save=weekly sync=maybe"],
)
def test_sync_true_needs_save_on_one_instance(amc: Harness, capsys, line) -> None:
    result = amc.cell(line, REACH_SQL)

    assert isinstance(result.error_in_exec, AmcMagicError)
    assert error_lines(capsys)[0].startswith("OptionError: ")
    assert amc.sandbox.calls["create_workflow"] == 0 and amc.sandbox.calls["create_execution"] == 0


def test_a_saved_workflow_runs_as_a_backfill_and_every_period_links_to_its_version(amc: Harness) -> None:
    result = amc.cell("weekly save=weekly_reach every=week start=2025-11-03 end=2025-11-30", REACH_SQL)
    assert result.error_in_exec is None, result.error_in_exec
    assert amc.ns["weekly"]["window_start"].nunique() == 4
    workflow = amc.store.find_workflow("weekly_reach")
    result = amc.line("run weekly_reach again every=week start=2025-11-03 end=2025-12-07")
    assert result.error_in_exec is None, result.error_in_exec
    assert amc.ns["again"]["window_start"].nunique() == 5
    rows = [r for r in amc.store.list_executions(50) if r.backfill_id]
    assert len(rows) == 5  # four weeks answered from the cache, one submitted
    assert {(r.workflow_id, r.workflow_version) for r in rows} == {(workflow.id, 1)}
