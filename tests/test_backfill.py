"""Backfills on the embedded sandbox: periods × instances, partial failure, re-runs, the shared cap."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from amc_magic.backfill import BackfillRequest, plan_backfill
from amc_magic.backfill_job import combine
from amc_magic.errors import BackfillError, OptionError
from amc_magic.history import HistoryStore
from amc_magic.sandbox.app import create_app
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.session import Session

SPEC = DataSpec(today=date(2026, 1, 8), seed=5, scale=0.02)
NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
REACH = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"
YEAR = {"start": "2025-01-06", "end": "2026-01-04"}  # 52 Monday-to-Monday weeks
FAILING = frozenset({"2025-05-12T00:00:00", "2025-09-01T00:00:00", "2025-11-17T00:00:00"})


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("backfill-sandbox-data")


def make_session(database: str, data_dir, **config) -> tuple[Session, object]:
    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=data_dir, **config))
    return Session(store=HistoryStore.from_url(database), sandbox_app=app, now=lambda: NOW), app.state.sandbox


def creates(sandbox) -> int:
    return sandbox.calls["create_execution"]


def weekly(**extra) -> BackfillRequest:
    return BackfillRequest(REACH, {}, instances=("sandbox",), every="week", **YEAR, **extra)


def test_a_year_of_weeks_with_failures_reruns_exactly_the_failed_periods(tmp_path, data_dir):
    database = f"sqlite:///{tmp_path / 'history.sqlite'}"
    session, sandbox = make_session(database, data_dir, failing_window_starts=FAILING)
    try:
        plan = session.plan_backfill(weekly())
        assert len(plan.cells) == 52 and not any(p.partial for p in plan.periods)
        with pytest.raises(BackfillError) as info:
            session.wait(session.start_backfill(plan))
        failed = {f.window_start.date().isoformat() for f in info.value.failures}
        assert failed == {"2025-05-12", "2025-09-01", "2025-11-17"}
        assert all("Injected failure" in f.reason for f in info.value.failures)
        assert "3 of 52 periods" in str(info.value) and creates(sandbox) == 52
    finally:
        session.close()

    # The same backfill again, now that AMC would succeed: only the three failed periods are submitted.
    session, sandbox = make_session(database, data_dir)
    try:
        job = session.start_backfill(session.plan_backfill(weekly()))
        frame = session.wait(job)
        assert creates(sandbox) == 3
        assert job.status == "52/52 done · 0 running · 0 queued · 0 failed"
        assert list(frame.columns[:2]) == ["window_start", "window_end"]
        assert str(frame["window_start"].dtype) == "datetime64[ns, UTC]"
        starts = frame["window_start"].drop_duplicates()
        assert starts.is_monotonic_increasing and len(starts) == 52  # period order
        assert frame["reach"].dtype == "Int64" and frame["campaign"].dtype == "string"
        history = session.history(100)
        assert history["id"].tolist() == [job.backfill_id]  # one line for the whole backfill
        assert history["status"][0] == "3 failed · 52 succeeded" and history["amc_id"][0] == "55 runs"
        periods = session.backfill_frame(job.backfill_id[:7])
        assert len(periods) == 55 and (periods["status"] == "FAILED").sum() == 3
    finally:
        session.close()


def test_two_sessions_sharing_a_database_never_exceed_the_cap(tmp_path, data_dir):
    """Two kernels backfilling one instance: the live executions are counted in the database."""
    database = f"sqlite:///{tmp_path / 'history.sqlite'}"
    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=data_dir, run_seconds=0.3))
    sandbox = app.state.sandbox
    sessions = [Session(store=HistoryStore.from_url(database), sandbox_app=app, now=lambda: NOW) for _ in range(2)]
    peak, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            live = sum(1 for e in sandbox.api.executions.all() if e.status.value in ("PENDING", "RUNNING"))
            peak[0] = max(peak[0], live)
            stop.wait(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        requests = [
            BackfillRequest(REACH, {}, instances=("sandbox",), every="week", start="2025-06-02", end="2025-08-24", concurrency=3),
            BackfillRequest(REACH + " ", {}, instances=("sandbox",), every="week", start="2025-09-01", end="2025-11-23", concurrency=3),
        ]
        jobs = [s.start_backfill(s.plan_backfill(r), recheck=0.05) for s, r in zip(sessions, requests)]
        frames = [s.wait(j) for s, j in zip(sessions, jobs)]
    finally:
        stop.set()
        watcher.join()
        for s in sessions:
            s.close()
    assert all(not f.empty for f in frames)
    assert creates(sandbox) == 24
    assert 3 <= peak[0] <= 3  # both backfills ran, and together they never had more than 3 in flight


def test_several_instances_make_an_instance_column_and_a_cancelled_backfill_stops(tmp_path, data_dir):
    session, sandbox = make_session(f"sqlite:///{tmp_path / 'h.sqlite'}", data_dir)
    try:
        with pytest.raises(OptionError, match="names an instance twice"):
            BackfillRequest(REACH, {}, instances=("sandbox", "sandbox"), every="month", start="2025-10-15", end="2025-12-31")
        job = session.start_backfill(session.plan_backfill(weekly()))
        job.cancel()
        with pytest.raises(BackfillError) as info:
            job.result(60)
        assert job.done() and info.value.total == 52
        assert all(f.reason == "cancelled" or "ancel" in f.reason for f in info.value.failures)
        assert len(info.value.failures) + job.counts()["done"] == 52
    finally:
        session.close()


def test_a_plan_splits_in_the_cells_zone_and_marks_partial_periods(tmp_path, data_dir):
    session, _ = make_session("sqlite://", data_dir)
    try:
        plan = plan_backfill(session, BackfillRequest(REACH, {}, instances=("sandbox",), every="month", start="2025-10-15", end="2025-12-31", tz="America/New_York"))
        assert [(p.start.date().isoformat(), p.partial) for p in plan.periods] == [
            ("2025-10-15", True), ("2025-11-01", False), ("2025-12-01", False)
        ]
        assert plan.cells[1].prepared.window.start == datetime(2025, 11, 1)
        empty = [pd.DataFrame({"reach": pd.array([], dtype="Int64")}) for _ in plan.cells]
        combined = combine(plan, empty)
        assert list(combined.columns) == ["window_start", "window_end", "reach"]
        assert str(combined["window_start"].dtype) == "datetime64[ns, America/New_York]" and combined["reach"].dtype == "Int64"
        with pytest.raises(OptionError, match="needs a window with known bounds"):
            plan_backfill(session, BackfillRequest(REACH, {}, instances=("sandbox",), every="week", window="most_recent_week"))
    finally:
        session.close()
