"""The session service against the in-process sandbox: cache, dedupe, failures, windows."""

from __future__ import annotations

import concurrent.futures
import threading
from datetime import UTC, date, datetime

import pytest

from amc_magic.errors import (
    CompileError,
    ConfigurationError,
    ExecutionCancelled,
    ExecutionFailed,
    NextStep,
    NotFoundError,
    Remedy,
    SqlCheckError,
)
from amc_magic.history import HistoryStore
from amc_magic.sandbox.app import create_app
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.session import Session

SPEC = DataSpec(today=date(2025, 3, 3), seed=5, scale=0.05)
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
REACH = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("session-sandbox-data")


def make_session(tmp_path, data_dir, **config):
    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=data_dir, **config))
    store = HistoryStore.from_url(f"sqlite:///{tmp_path / 'history.sqlite'}")
    return Session(store=store, sandbox_app=app, now=lambda: NOW), app.state.sandbox


@pytest.fixture
def session(tmp_path, data_dir):
    session, sandbox = make_session(tmp_path, data_dir)
    yield session
    session.close()


def started_on_amc(session, prepared):
    """Start ``prepared`` and return its job once AMC has its execution (within 5 s)."""
    job = session.start(prepared)
    for _ in range(500):
        if job.execution_id:
            break
        threading.Event().wait(0.01)
    return job


def creates(sandbox) -> int:
    return sandbox.calls["create_execution"]


def test_a_query_runs_and_its_rerun_comes_from_the_cache(session):
    prepared = session.prepare(REACH, start="2025-02-01", end="2025-02-28")
    first = session.run(prepared)
    sandbox = session.connector.sandbox_app().state.sandbox
    assert creates(sandbox) == 1
    assert list(first.columns) == ["campaign", "reach"]
    assert str(first["reach"].dtype) == "Int64"
    job = session.start(session.prepare(REACH, start="2025-02-01", end="2025-02-28"))
    again = job.result(30)
    assert job.from_cache and job.status == "CACHED"
    assert creates(sandbox) == 1
    assert again.equals(first)
    assert len(session.history()) == 1  # a cache hit adds no row


def test_whitespace_and_comments_do_not_defeat_the_cache(session):
    session.run(session.prepare(REACH, start="2025-02-01", end="2025-02-28"))
    reformatted = "-- same query\nSELECT campaign,\n  COUNT(DISTINCT user_id) AS reach\nFROM dsp_impressions GROUP BY campaign"
    job = session.start(session.prepare(reformatted, start="2025-02-01", end="2025-02-28"))
    job.result(30)
    assert job.from_cache


def test_refresh_and_false_run_again(session):
    prepared = session.prepare(REACH, start="2025-02-01", end="2025-02-28")
    session.run(prepared)
    session.run(prepared, cache="refresh")
    session.run(prepared, cache="false")
    assert creates(session.connector.sandbox_app().state.sandbox) == 3


def test_identical_queries_started_together_share_one_execution(tmp_path, data_dir):
    session, sandbox = make_session(tmp_path, data_dir, run_seconds=1.0)
    try:
        prepared = session.prepare(REACH, start="2025-02-01", end="2025-02-14")
        jobs = [session.start(prepared) for _ in range(3)]
        frames = [job.result(60) for job in jobs]
        assert creates(sandbox) == 1
        assert sandbox.calls["download_urls"] == 1  # the followers shared the leader's result
        assert all(frame.equals(frames[0]) for frame in frames)
        assert len({job.local_id for job in jobs}) == 1
        assert {job.status for job in jobs} == {"SUCCEEDED"}
    finally:
        session.close()


def test_a_rejected_query_never_reaches_amc(session):
    with pytest.raises(SqlCheckError, match="LIMIT"):
        session.prepare(REACH + " LIMIT 5", start="2025-02-01", end="2025-02-28")
    assert len(session.store.list_executions(live_only=False)) == 0


def test_amc_compile_error_is_raised_and_recorded(session):
    prepared = session.prepare(REACH + " LIMIT 5", start="2025-02-01", end="2025-02-28", validate="false")
    with pytest.raises(CompileError, match="LIMIT"):
        session.run(prepared)
    with session.store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT status, status_reason FROM amc_executions").all()
    assert len(rows) == 1
    assert rows[0][0] == "FAILED"
    assert "LIMIT" in rows[0][1]


def test_cancel_a_running_job_cancels_on_amc(tmp_path, data_dir):
    session, sandbox = make_session(tmp_path, data_dir, run_seconds=30.0)
    try:
        job = session.start(session.prepare(REACH, start="2025-02-01", end="2025-02-14"))
        running = threading.Event()
        for _ in range(200):
            if job.execution_id:
                running.set()
                break
            threading.Event().wait(0.05)
        assert running.is_set()
        job.cancel()
        with pytest.raises(ExecutionCancelled):
            job.result(30)
        assert sandbox.calls["update_execution"] == 1
        record = session.execution(job.local_id)
        assert record.status == "CANCELLED"
    finally:
        session.close()


def test_relative_windows_are_cached_per_day(tmp_path, data_dir):
    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=data_dir))  # its data is never read here
    day_one = Session(store=HistoryStore.from_url("sqlite://"), sandbox_app=app, now=lambda: NOW)
    day_two = Session(store=HistoryStore.from_url("sqlite://"), sandbox_app=app, now=lambda: NOW.replace(day=4))
    assert day_one.prepare(REACH, window="previous_month").cache_key == day_one.prepare(REACH, window="previous_month").cache_key
    assert day_one.prepare(REACH, window="most_recent_day").cache_key != day_two.prepare(REACH, window="most_recent_day").cache_key


def test_an_unknown_instance_says_how_to_connect(session):
    with pytest.raises(ConfigurationError) as info:
        session.prepare(REACH, instance="amc1abcd2ef")
    assert NextStep(Remedy.CONNECT, instance_id="amc1abcd2ef") in info.value.next_steps
    assert "%amc connect amc1abcd2ef" in str(info.value)


def test_result_of_a_failed_execution_explains(session):
    prepared = session.prepare(REACH + " LIMIT 5", start="2025-02-01", end="2025-02-28", validate="false")
    job = session.start(prepared)
    with pytest.raises(CompileError):
        job.result(30)
    with pytest.raises(NotFoundError) as info:
        session.result(job.local_id)
    assert "ended FAILED" in info.value.hint
    assert session.history().empty  # it never reached AMC: not in the history of submitted executions


def test_closing_the_session_stops_following_without_cancelling_on_amc(tmp_path, data_dir):
    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=data_dir, run_seconds=2.0))
    database = f"sqlite:///{tmp_path / 'history.sqlite'}"
    first = Session(store=HistoryStore.from_url(database), sandbox_app=app, now=lambda: NOW)
    job = first.start(first.prepare(REACH, start="2025-02-01", end="2025-02-10"))
    for _ in range(200):
        if job.execution_id:
            break
        threading.Event().wait(0.05)
    first.close()
    sandbox = app.state.sandbox
    assert sandbox.calls["update_execution"] == 0  # nothing was cancelled on AMC
    second = Session(store=HistoryStore.from_url(database), sandbox_app=app, now=lambda: NOW)
    try:
        record = second.execution(job.local_id)
        assert record.is_live
        frame = second.wait(second.attach(record.short_id))
        assert not frame.empty
        assert creates(sandbox) == 1
        assert second.execution(job.local_id).status == "SUCCEEDED"
    finally:
        second.close()


def test_the_create_request_carries_the_window_in_its_zone(session):
    session.run(session.prepare(REACH, start="2025-02-01", end="2025-02-10", tz="America/New_York"))
    [execution] = session.connector.sandbox_app().state.sandbox.api.executions.all()
    sent = execution.to_json()
    assert sent["timeWindowStartOriginal"] == "2025-02-01T00:00:00"  # a date-only end is inclusive
    assert sent["timeWindowEndOriginal"] == "2025-02-11T00:00:00"
    assert sent["timeWindowTimeZoneOriginal"] == "America/New_York"
    assert sent["timeWindowStart"] == "2025-02-01T05:00:00Z"  # converted to UTC by AMC


def test_attaching_to_a_failed_execution_repeats_amcs_reason(tmp_path, data_dir):
    session, _ = make_session(tmp_path, data_dir, failure_reason="Query exceeded the resources of the instance.")
    try:
        job = session.start(session.prepare(REACH, start="2025-02-01", end="2025-02-10"))
        with pytest.raises(ExecutionFailed, match="exceeded the resources"):
            job.result(30)
        with pytest.raises(ExecutionFailed, match="exceeded the resources"):
            session.wait(session.attach(job.local_id, waited=True))
        assert "exceeded the resources" in session.execution(job.local_id).status_reason
    finally:
        session.close()


def test_losing_touch_after_submission_says_the_execution_keeps_running(tmp_path, data_dir):
    from amc_magic.errors import AccessDeniedError

    session, sandbox = make_session(
        tmp_path,
        data_dir,
        run_seconds=1.0,
        scripted_statuses=(None, 403),
        fault_endpoints=frozenset({"create_execution", "get_execution"}),
    )
    try:
        job = session.start(session.prepare(REACH, start="2025-02-01", end="2025-02-10"))
        with pytest.raises(AccessDeniedError) as info:
            job.result(30)
        assert NextStep(Remedy.ATTACH, job.execution_id) in info.value.next_steps
        assert f"`%amc attach {job.execution_id}` follows it to its result" in str(info.value)
        assert session.execution(job.local_id).is_live  # nothing lost: attach can finish it
        frame = session.wait(session.attach(job.local_id, waited=True))
        assert not frame.empty and creates(sandbox) == 1
    finally:
        session.close()


def test_cancelling_a_follower_leaves_the_leaders_execution_running(tmp_path, data_dir):
    session, sandbox = make_session(tmp_path, data_dir, run_seconds=1.5)
    try:
        prepared = session.prepare(REACH, start="2025-02-01", end="2025-02-12")
        leader = started_on_amc(session, prepared)
        follower = session.start(prepared)
        for _ in range(500):  # until the follower waits on the leader's job (and not on AMC)
            if follower.shared_with is leader:
                break
            threading.Event().wait(0.01)
        assert follower.shared_with is leader
        follower.cancel()
        with pytest.raises(concurrent.futures.CancelledError):
            follower.result(30)
        assert follower.status == "CANCELLED"
        assert not leader.result(30).empty
        assert sandbox.calls["update_execution"] == 0
        assert creates(sandbox) == 1
    finally:
        session.close()


def test_an_eta_is_predicted_from_earlier_runs_of_the_same_query(tmp_path, data_dir):
    session, _ = make_session(tmp_path, data_dir, run_seconds=0.3)

    def started(prepared):
        job = session.start(prepared)
        for _ in range(500):
            if job.handle is not None:
                break
            threading.Event().wait(0.01)
        return job

    try:
        first = started(session.prepare(REACH, start="2025-02-01", end="2025-02-07"))
        assert first.eta is None  # nothing to predict from yet
        first.result(30)
        for start, end in [("2025-02-08", "2025-02-14"), ("2025-02-15", "2025-02-21")]:
            session.run(session.prepare(REACH, start=start, end=end))
        job = started(session.prepare(REACH, start="2025-02-22", end="2025-02-28"))
        assert job.eta is not None and job.eta.runs == 3 and job.eta.low <= job.eta.expected <= job.eta.high
        assert not job.result(30).empty
        unrelated = started(session.prepare(REACH.replace("COUNT(DISTINCT user_id)", "COUNT(*)"), start="2025-02-01", end="2025-02-07"))
        assert unrelated.eta is None  # another template has its own history
        unrelated.result(30)
    finally:
        session.close()


class ClaimsSeen(HistoryStore):
    """A history store that keeps the arguments of every claim (the session's store is injected)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.claims = []

    def claim_execution(self, **kwargs):
        self.claims.append(kwargs)
        return super().claim_execution(**kwargs)


def test_a_claim_holds_its_lease_from_the_moment_the_row_exists(tmp_path, data_dir):
    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=data_dir))
    store = ClaimsSeen.from_url(f"sqlite:///{tmp_path / 'history.sqlite'}")
    session = Session(store=store, sandbox_app=app, now=lambda: NOW)
    try:
        session.run(session.prepare(REACH, start="2025-02-01", end="2025-02-28"))
    finally:
        session.close()
    (claim,) = store.claims
    assert claim["lease_owner"] == session.executions.lease.owner
    assert claim["lease_expires_at"] > datetime.now(UTC)


def exited_process_id() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_claim_whose_process_died_before_submitting_is_taken_back_at_once(session):
    import socket

    from amc_magic.history import ExecutionStatus

    prepared = session.prepare(REACH, start="2025-02-01", end="2025-02-28")
    target = prepared.target
    dead = f"kernel@{socket.gethostname()}:{exited_process_id()}:0123456789ab"
    orphan, created = session.store.claim_execution(
        instance_id=target.instance_id,
        sql_template=prepared.sql_template,
        rendered_sql=prepared.sql,
        cache_key=prepared.cache_key,
        parameter_values={},
        window_start=prepared.window.start,
        window_end=prepared.window.end,
        time_zone=prepared.window.time_zone,
        window_type=str(prepared.window.window_type),
        options={"target": target.name},
        lease_owner=dead,  # a claimant that died before it could record a mark or an AMC id
        lease_expires_at=datetime(2999, 1, 1, tzinfo=UTC),
    )
    assert created
    job = session.start(prepared)
    frame = job.result(timeout=30)  # not the ten minutes a claim nobody holds takes to go stale
    assert len(frame)
    abandoned = session.store.get_execution(orphan.id)
    assert abandoned.status == ExecutionStatus.ABANDONED.value
    assert abandoned.status_reason == "Its process ended before AMC accepted it."
    assert creates(session.connector.sandbox_app().state.sandbox) == 1


def test_a_query_another_process_runs_on_its_own_sandbox_is_taken_from_the_history(tmp_path, data_dir):
    """Two kernels on one history, each with its in-process sandbox: the second waits for the first's result.

    The first stores the result and lets the lease go while the second waits between two looks; taking
    the lease then must not attach to the execution, which the second's sandbox has never heard of.
    """
    first, first_sandbox = make_session(tmp_path, data_dir, run_seconds=1.0)
    second, second_sandbox = make_session(tmp_path, data_dir)
    try:
        leader = started_on_amc(first, first.prepare(REACH, start="2025-02-01", end="2025-02-12"))
        waiting = second.start(second.prepare(REACH, start="2025-02-01", end="2025-02-12"))

        frame = waiting.result(30)

        assert frame.equals(leader.result(30)) and not frame.empty
        assert waiting.local_id == leader.local_id and waiting.execution_id == leader.execution_id
        assert creates(first_sandbox) == 1 and creates(second_sandbox) == 0
        assert second_sandbox.calls["get_execution"] == 0  # it never asked its own sandbox about it
        assert first.execution(leader.local_id).status == "SUCCEEDED"
    finally:
        second.close()
        first.close()


class MarkGate(HistoryStore):
    """A history whose ``note_mark`` (between the claim and the create) waits until the test lets it go."""

    entered: threading.Event
    release: threading.Event

    def note_mark(self, local_id, mark):
        self.entered.set()
        self.release.wait(10)
        return super().note_mark(local_id, mark)


def test_a_job_cancelled_before_its_create_gives_its_claim_back_for_the_next_run(tmp_path, data_dir):
    from amc_magic.history import ExecutionStatus

    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=data_dir))
    store = MarkGate.from_url(f"sqlite:///{tmp_path / 'history.sqlite'}")
    store.entered, store.release = threading.Event(), threading.Event()
    session = Session(store=store, sandbox_app=app, now=lambda: NOW)
    try:
        prepared = session.prepare(REACH, start="2025-02-01", end="2025-02-28")
        job = session.start(prepared)
        assert store.entered.wait(10)  # claimed (CREATING), nothing sent to AMC yet
        job.cancel()
        store.release.set()
        with pytest.raises((ExecutionCancelled, concurrent.futures.CancelledError)):
            job.result(30)
        claim = session.store.get_execution(job.local_id)
        assert claim.status == ExecutionStatus.ABANDONED.value and claim.status_reason == "Cancelled before it was submitted to AMC."
        assert creates(app.state.sandbox) == 0
        again = session.start(prepared)
        assert len(again.result(timeout=30))  # not ten minutes behind a claim nobody will submit
        assert creates(app.state.sandbox) == 1
    finally:
        session.close()


EXITING_SCRIPT = """
import sys, threading
from datetime import date
from amc_magic.sandbox.app import create_app
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.session import Session

app = create_app(SandboxConfig(data=DataSpec(today=date(2025, 3, 3), seed=5, scale=0.05), data_cache_dir=sys.argv[2], run_seconds=60.0))
session = Session(database_url=sys.argv[1], sandbox_app=app)
job = session.start(session.prepare(sys.argv[3], start="2025-02-01", end="2025-02-28"))
while not job.execution_id:
    threading.Event().wait(0.01)
print(job.execution_id, flush=True)
"""


@pytest.mark.timeout(60)
def test_exiting_with_a_job_still_running_stops_following_it_and_says_where_it_went(tmp_path, data_dir):
    import subprocess
    import sys
    import time

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", EXITING_SCRIPT, f"sqlite:///{tmp_path / 'history.sqlite'}", str(data_dir), REACH],
        capture_output=True,
        text=True,
        timeout=50,
    )
    amc_id = done.stdout.strip()
    assert done.returncode == 0 and amc_id, done.stderr
    assert time.monotonic() - started < 45  # not the 60 s the execution runs for
    assert "cannot schedule new futures" not in done.stderr
    assert f"amc-magic: stopped following 1 execution still running at exit ({amc_id}). AMC keeps running it" in done.stderr
    record = HistoryStore.from_url(f"sqlite:///{tmp_path / 'history.sqlite'}").get_execution(amc_id)
    assert record.is_live  # left for `%amc attach`, not cancelled
