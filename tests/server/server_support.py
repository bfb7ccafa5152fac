"""Helpers of the server-extension tests: secrets to look for, and history rows to serve.

Spawned processes may import this module by name, so it holds no test functions and no fixtures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from amc_magic.history import ExecutionRecord, HistoryStore
from history_support import claim_args

SECRETS = {
    "AMC_CLIENT_ID": "amzn1.application-oa2-client.server-tests-7c1d",
    "AMC_CLIENT_SECRET": "amzn1.oa2-cs.v1.SERVER-SECRET-93b2f0aa41",
    "AMC_REFRESH_TOKEN": "Atzr|SERVER-REFRESH-TOKEN-5e7d21c0",
}
"""Credentials set in every server test's environment."""

HOSTILE_IDS = [
    "'; DROP TABLE amc_executions; --",
    "x" * 10_000,
    "\x00",
    "abc\x00def",
    "%",
    "_",
    "..",
    "😀",
    "\\",
    "\u202e",
    " ",
]
"""Execution ids nobody should be able to break the server with (answered 400 or 404)."""

REACH_FRAME = pd.DataFrame(
    {
        "campaign": pd.array(["Spring Sale", "Mother's Day", None], dtype="string"),
        "reach": pd.array([1200, 34, None], dtype="Int64"),
        "day": pd.to_datetime(["2026-03-01", "2026-03-02", "2026-03-03"]).date,
    }
)


def seed(store: HistoryStore) -> dict[str, ExecutionRecord]:
    """A small history: one execution of each interesting kind, by name."""
    made: dict[str, ExecutionRecord] = {}

    def execution(name: str, instance: str, status: str | None, *, reason: str | None = None) -> ExecutionRecord:
        sql = f"-- {name}\nSELECT '{name}' AS kind, campaign, COUNT(DISTINCT user_id) AS reach\nFROM dsp_impressions GROUP BY campaign"
        record, _ = store.claim_execution(
            **claim_args(sql, instance_id=instance, window_start=datetime(2026, 3, 1, tzinfo=UTC))
        )
        if status is not None:
            store.set_amc_id(record.id, f"amc-{name}-{record.id[:6]}")
            store.record_status(record.id, status, status_reason=reason)
        return store.get_execution(record.id)

    made["creating"] = execution("creating", "amcinstance01", None)
    made["running"] = execution("running", "amcinstance01", "RUNNING")
    made["failed"] = execution("failed", "amcinstance02", "FAILED", reason="Query timed out after 6 h.")
    made["succeeded"] = execution("succeeded", "amcinstance01", "SUCCEEDED")
    columns = [{"name": "campaign", "dataType": "STRING"}, {"name": "reach", "dataType": "LONG"}, {"name": "day", "dataType": "DATE"}]
    store.store_result(made["succeeded"].id, REACH_FRAME, output_columns=columns, bytes_downloaded=321)
    made["succeeded"] = store.get_execution(made["succeeded"].id)
    return made


def body_text(response: Any) -> str:
    """A response's body as text (bytes decoded leniently)."""
    return response.body.decode("utf-8", errors="replace") if response.body else ""


def assert_no_secret(texts: Iterable[str], extra: Iterable[str] = ()) -> None:
    """None of the credentials (nor ``extra`` strings, e.g. Jupyter's token) appears in ``texts``."""
    wanted = [*SECRETS.values(), *extra]
    for text in texts:
        for secret in wanted:
            assert secret not in text, f"a secret leaked into a response: {text[:200]!r}"


def as_json(response: Any) -> Any:
    return json.loads(response.body)


class StubOutput:
    """What :class:`StubDatabase` answers: two typed columns, a few rows."""

    columns = [("campaign", "STRING"), ("impressions", "LONG")]

    def __init__(self, rows: int) -> None:
        import pyarrow as pa

        self.table = pa.table(
            {
                "campaign": pa.array([f"campaign {i}" for i in range(rows)], pa.string()),
                "impressions": pa.array([i * 100 for i in range(rows)], pa.int64()),
            }
        )
        self.filtered_rows = 0


class StubDatabase:
    """A sandbox database answering every query with the same rows (no synthetic data to build)."""

    def __init__(self, rows: int = 4) -> None:
        self.rows = rows

    def run(self, sql: str, *, window_start: Any, window_end: Any, parameters: Any, disable_aggregation_controls: bool) -> StubOutput:
        return StubOutput(self.rows)
