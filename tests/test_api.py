"""amc_magic.query and amc_magic.submit: the Python API over the session."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

import amc_magic
from amc_magic.errors import OptionError, ParameterError
from amc_magic.history import HistoryStore
from amc_magic.sandbox.app import create_app
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.session import Session

SPEC = DataSpec(today=date(2025, 3, 3), seed=5, scale=0.05)
SQL = """
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN ({{campaigns}})
GROUP BY campaign
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("api-sandbox-data")


@pytest.fixture
def session(tmp_path, data_dir):
    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=data_dir))
    session = Session(
        store=HistoryStore.from_url(f"sqlite:///{tmp_path / 'h.sqlite'}"),
        sandbox_app=app,
        now=lambda: datetime(2025, 3, 3, 12, tzinfo=UTC),
    )
    yield session
    session.close()


def campaigns_of(session):
    frame = amc_magic.query(
        "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign",
        start="2025-02-01",
        end="2025-02-28",
        session=session,
    )
    return frame.sort_values("impressions", ascending=False)["campaign"].tolist()


def test_query_renders_params_and_returns_the_filtered_frame(session):
    two = campaigns_of(session)[:2]
    frame = amc_magic.query(SQL, start="2025-02-01", end="2025-02-28", params={"campaigns": two}, session=session)
    assert sorted(frame["campaign"]) == sorted(two)


def test_submit_returns_a_job_that_can_be_awaited(session):
    one = campaigns_of(session)[:1]
    job = amc_magic.submit(SQL, start="2025-02-01", end="2025-02-28", params={"campaigns": one}, session=session)

    async def wait():
        return await job

    frame = asyncio.run(wait())
    assert frame["campaign"].tolist() == one
    assert job.done() and job.status == "SUCCEEDED"
    assert "SUCCEEDED" in repr(job)


def test_query_accepts_booleans_for_cache_and_validate(session):
    campaigns_of(session)
    frame = amc_magic.query(SQL, start="2025-02-01", end="2025-02-28", params={"campaigns": ["x"]}, cache=False, validate=False, session=session)
    assert frame.empty


def test_bad_input_raises_before_anything_is_submitted(session):
    with pytest.raises(ParameterError, match="campaigns"):
        amc_magic.query(SQL, start="2025-02-01", end="2025-02-28", session=session)
    with pytest.raises(OptionError, match="cache"):
        amc_magic.query(SQL, params={"campaigns": ["x"]}, cache="sometimes", session=session)
    assert session.history().empty


def test_public_names():
    assert set(amc_magic.__all__) == {"__version__", "backfill", "load_ipython_extension", "query", "submit", "unload_ipython_extension"}
    assert all(hasattr(amc_magic, name) for name in amc_magic.__all__)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "soon"])
def test_a_bad_timeout_is_refused_before_submitting(session, timeout):
    with pytest.raises(OptionError, match="timeout"):
        amc_magic.submit(SQL, params={"campaigns": ["x"]}, timeout=timeout, session=session)
    assert session.history().empty


def test_validate_only_is_for_the_magic(session):
    with pytest.raises(OptionError) as info:
        amc_magic.query(SQL, params={"campaigns": ["x"]}, validate="only", session=session)
    assert "sqlcheck.check" in info.value.hint
