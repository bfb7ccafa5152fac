"""Helpers of the integration tests, and the bodies of the processes they spawn.

Spawned processes import this module by name, so it holds no test functions and no fixtures. A
child process configures itself the way a user's process is configured: through the environment
(``AMC_API_URL``, ``AMC_TOKEN_URL``, the ``AMC_CLIENT_*`` credentials and ``AMC_MAGIC_DB_URL``).
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from amc_magic.sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID
from amc_magic.sandbox.data import DataSpec
from amc_magic.session import Session

SERVED_DATA = DataSpec(today=date(2025, 4, 3), scale=0.05)
"""The served sandboxes' data: 2025-01-01 to 2025-04-01, small enough to generate in a second."""

QUERY = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
WINDOW = {"start": "2025-03-01", "end": "2025-03-31"}

CLIENT_ID = "amzn1.application-oa2-client.integration"
CLIENT_SECRET = "amzn1.oa2-cs.v1.SECRET-integration-4f1c9a7e2b"
REFRESH_TOKEN = "Atzr|REFRESH-integration-8d2e6b0c51"

T = TypeVar("T")


def served_environ(base_url: str, database_url: str, **credentials: str) -> dict[str, str]:
    """The environment of a process using the sandbox served at ``base_url`` as a real instance.

    Args:
        base_url: the served sandbox's ``http://host:port``.
        database_url: the shared history database.
        credentials: overrides of ``AMC_CLIENT_ID`` / ``AMC_CLIENT_SECRET`` / ``AMC_REFRESH_TOKEN``.
    """
    return {
        "AMC_API_URL": base_url,
        "AMC_TOKEN_URL": f"{base_url}/auth/o2/token",
        "AMC_CLIENT_ID": CLIENT_ID,
        "AMC_CLIENT_SECRET": CLIENT_SECRET,
        "AMC_REFRESH_TOKEN": REFRESH_TOKEN,
        "AMC_MAGIC_DB_URL": database_url,
        **credentials,
    }


def open_session(environ: Mapping[str, str]) -> Session:
    """A session on ``environ``'s history database, reading endpoints and credentials from it."""
    return Session(database_url=environ["AMC_MAGIC_DB_URL"], environ=environ)


def connect_served(session: Session) -> dict[str, Any]:
    """Connect the served sandbox's instance, as ``%amc connect`` does."""
    return session.connect(INSTANCE_ID, advertiser_id=ADVERTISER_ID, marketplace_id=MARKETPLACE_ID)


def connect_once(environ: Mapping[str, str]) -> None:
    """Record the served instance in the shared history (what an analyst does once)."""
    session = open_session(environ)
    try:
        connect_served(session)
    finally:
        session.close()


def wait_until(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.05) -> T:
    """Call ``probe`` until it returns something other than None; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (value := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {probe.__name__}")
        time.sleep(interval)
    return value


def file_bytes(database_file: Path) -> bytes:
    """The bytes of a SQLite database file and of its WAL and shared-memory files, if any."""
    paths = [database_file, *(database_file.with_name(database_file.name + suffix) for suffix in ("-wal", "-shm"))]
    return b"".join(path.read_bytes() for path in paths if path.exists())


# --- bodies of spawned processes ----------------------------------------------------------------


def query_in_step(environ: dict[str, str], barrier: Any, results: Any) -> None:
    """Prepare :data:`QUERY`, wait for the other processes, run it; report what happened.

    Reports ``("ok", {local_id, execution_id, from_cache, frame})`` or ``("error", traceback)``.
    """
    try:
        os.environ.update(environ)
        session = Session()
        try:
            prepared = session.prepare(QUERY, instance=INSTANCE_ID, **WINDOW)
            barrier.wait(timeout=30)
            job = session.start(prepared)
            frame = job.result(timeout=60)
            outcome = {
                "local_id": job.local_id,
                "execution_id": job.execution_id,
                "from_cache": job.from_cache,
                "frame": frame,
            }
        finally:
            session.close()
        results.put(("ok", outcome))
    except Exception:
        results.put(("error", traceback.format_exc()))


def query_until_killed(environ: dict[str, str]) -> None:
    """Run :data:`QUERY` on the served instance; the test kills this process while it polls."""
    os.environ.update(environ)
    session = Session()
    session.run(session.prepare(QUERY, instance=INSTANCE_ID, **WINDOW))


WEEKS = {"start": "2025-01-06", "end": "2025-03-30"}
"""Twelve Monday-to-Monday weeks of :data:`SERVED_DATA`."""


def backfill_request(sql: str = QUERY, *, concurrency: int = 3, **window: str) -> Any:
    """A weekly backfill of ``sql`` on the served instance (over :data:`WEEKS` unless ``window`` says)."""
    from amc_magic.backfill import BackfillRequest

    return BackfillRequest(sql, {}, instances=(INSTANCE_ID,), every="week", concurrency=concurrency, **(window or WEEKS))


def backfill_in_process(environ: dict[str, str], sql: str, barrier: Any, results: Any) -> None:
    """Run a weekly backfill of ``sql`` once every process is ready; report ``("ok", rows)`` or the error."""
    try:
        os.environ.update(environ)
        session = Session()
        try:
            plan = session.plan_backfill(backfill_request(sql))
            barrier.wait(timeout=30)
            frame = session.wait(session.start_backfill(plan, recheck=0.1))
        finally:
            session.close()
        results.put(("ok", len(frame)))
    except Exception:
        results.put(("error", traceback.format_exc()))


def backfill_until_killed(environ: dict[str, str]) -> None:
    """Run the weekly backfill of :data:`QUERY`; the test kills this process halfway."""
    os.environ.update(environ)
    session = Session()
    session.wait(session.start_backfill(session.plan_backfill(backfill_request())))
