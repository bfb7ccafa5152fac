"""A served sandbox as a connected instance: the real-instance code path end to end, and no secret stored."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import amc_magic
from amc_magic.sandbox.app import create_app
from amc_magic.sandbox.config import INSTANCE_ID, SandboxConfig
from amc_magic.session import Session
from integration_support import (
    CLIENT_SECRET,
    QUERY,
    REFRESH_TOKEN,
    SERVED_DATA,
    WINDOW,
    connect_served,
    file_bytes,
    open_session,
    served_environ,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

SECRETS = (
    CLIENT_SECRET.encode(),
    REFRESH_TOKEN.encode(),
    REFRESH_TOKEN.split("|", 1)[1].encode(),  # also when URL-encoded
    b"Atza|",  # every access token the sandbox issues
    b"Atza%7C",
)


def test_a_connected_served_sandbox_runs_a_query_refreshing_its_token_mid_run(
    tmp_path: Path, serve_sandbox, sandbox_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_sandbox(run_seconds=3, token_lifetime_seconds=2)
    for name, value in served_environ(served.base_url, f"sqlite:///{tmp_path / 'history.sqlite'}").items():
        monkeypatch.setenv(name, value)
    session = Session()
    try:
        connected = connect_served(session)
        job = amc_magic.submit(QUERY, instance=INSTANCE_ID, session=session, **WINDOW)
        wait_until(lambda: job.execution_id, timeout=30)
        tokens_at_create = served.sandbox.calls["token"]
        frame = job.result(timeout=30)
        record = session.execution(job.local_id)
    finally:
        session.close()

    assert connected["instance_type"] == "SANDBOX" and connected["api_url"] == served.base_url
    assert served.sandbox.calls["token"] > tokens_at_create  # the access token was renewed while it ran
    assert served.sandbox.calls["create_execution"] == 1 and served.sandbox.calls["list_data_sources"] == 1
    assert record.status == "SUCCEEDED" and record.instance_id == INSTANCE_ID and record.row_count == len(frame)
    embedded = Session(
        database_url=f"sqlite:///{tmp_path / 'embedded.sqlite'}",
        sandbox_app=create_app(SandboxConfig(data=SERVED_DATA, data_cache_dir=sandbox_cache)),
    )
    try:
        expected = amc_magic.query(QUERY, session=embedded, **WINDOW)
    finally:
        embedded.close()
    pd.testing.assert_frame_equal(frame, expected)


def test_no_secret_or_access_token_reaches_the_history_database(tmp_path: Path, serve_sandbox) -> None:
    served = serve_sandbox(run_seconds=1, token_lifetime_seconds=1)
    database = tmp_path / "history.sqlite"
    session = open_session(served_environ(served.base_url, f"sqlite:///{database}"))
    try:
        connected = connect_served(session)
        assert not _leaks(repr(connected).encode()) and not _leaks(session.instances().to_csv().encode())
        stored = file_bytes(database)
        assert INSTANCE_ID.encode() in stored and not _leaks(stored)  # the instance is stored, its credentials are not
        amc_magic.query(QUERY, instance=INSTANCE_ID, session=session, **WINDOW)
        floored = QUERY + " HAVING SUM(impressions) > {{floor}}"
        amc_magic.query(floored, instance=INSTANCE_ID, params={"floor": 10}, session=session, **WINDOW)
        stored = file_bytes(database)
        assert b"HAVING SUM(impressions) > 10" in stored and not _leaks(stored)
    finally:
        session.close()
    assert served.sandbox.calls["token"] >= 2 and served.sandbox.calls["create_execution"] == 2
    assert not _leaks(file_bytes(database))


def _leaks(data: bytes) -> list[bytes]:
    return [secret for secret in SECRETS if secret in data]


def test_the_embedded_and_a_served_sandbox_are_two_instances_of_one_backfill(
    tmp_path: Path, serve_sandbox, sandbox_cache: Path
) -> None:
    """Both are instance amcsandbox01: the frame names them as the cell did (`sandbox` and the id), once each."""
    served = serve_sandbox(run_seconds=0)
    environ = served_environ(served.base_url, f"sqlite:///{tmp_path / 'history.sqlite'}")
    session = Session(
        database_url=environ["AMC_MAGIC_DB_URL"],
        environ=environ,
        sandbox_app=create_app(SandboxConfig(data=SERVED_DATA, data_cache_dir=sandbox_cache)),
    )
    try:
        connect_served(session)
        session.connect(INSTANCE_ID, advertiser_id="ENTITYSANDBOX", marketplace_id="ATVPDKIKX0DER", name="served")
        frame = amc_magic.query(QUERY, instances=["sandbox", INSTANCE_ID], session=session, **WINDOW)
        alone = amc_magic.query(QUERY, session=session, cache="false", **WINDOW)
        with pytest.raises(amc_magic.errors.OptionError, match="names one instance twice"):
            amc_magic.query(QUERY, instances=["served", INSTANCE_ID], session=session, **WINDOW)
    finally:
        session.close()

    assert frame["instance_id"].tolist() == ["sandbox"] * len(alone) + [INSTANCE_ID] * len(alone)
    assert served.sandbox.calls["create_execution"] == 1
