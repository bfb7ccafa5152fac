"""Helpers shared by the sandbox API tests: clients, headers, a tiny fake database, the real one."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.sandbox.database import SandboxDatabase
from amc_magic.sandbox.transport import SandboxTransport

BASE = "/amc/reporting/amcsandbox01"
CREDENTIALS = {
    "grant_type": "refresh_token",
    "refresh_token": "Atzr|test-refresh",
    "client_id": "amzn1.application-oa2-client.test",
    "client_secret": "test-secret",
}
SMALL_DATA = DataSpec(today=date(2026, 1, 15), scale=0.01)
"""A small real dataset whose last day (2026-01-13) is two days before ``ManualClock()``'s start."""
AGGREGATE_SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


@dataclass
class FakeOutput:
    columns: list[tuple[str, str]]
    table: pa.Table
    filtered_rows: int = 0


@dataclass
class FakeDatabase:
    """Answers every query with ``rows`` rows of (campaign, impressions) and records the calls."""

    rows: int = 3
    calls: list[dict[str, Any]] = field(default_factory=list)

    def run(
        self,
        sql: str,
        *,
        window_start: datetime,
        window_end: datetime,
        parameters: Mapping[str, Any],
        disable_aggregation_controls: bool,
    ) -> FakeOutput:
        self.calls.append(
            {
                "sql": sql,
                "window_start": window_start,
                "window_end": window_end,
                "parameters": dict(parameters),
                "disable_aggregation_controls": disable_aggregation_controls,
            }
        )
        table = pa.table({"campaign": [f"c{i}" for i in range(self.rows)], "impressions": list(range(self.rows))})
        return FakeOutput([("campaign", "STRING"), ("impressions", "LONG")], table)


def small_data_config(**config: Any) -> SandboxConfig:
    """A sandbox configuration over :data:`SMALL_DATA` (pair it with :func:`build_small_database`)."""
    return SandboxConfig(data=SMALL_DATA, **config)


def build_small_database(cache_dir: Path) -> SandboxDatabase:
    """The real sandbox database over :data:`SMALL_DATA`, its file cached in ``cache_dir``."""
    return SandboxDatabase(SMALL_DATA, cache_dir=cache_dir)


@contextlib.asynccontextmanager
async def api_client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to ``sandbox`` in-process."""
    async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app), base_url="http://sandbox.test") as client:
        yield client


async def access_token(client: httpx.AsyncClient) -> str:
    response = await client.post("/auth/o2/token", data=CREDENTIALS)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def amc_headers(token: str, **overrides: str) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Amazon-Advertising-API-ClientId": CREDENTIALS["client_id"],
        "Amazon-Advertising-API-AdvertiserId": "ENTITYSANDBOX",
        "Amazon-Advertising-API-MarketplaceId": "ATVPDKIKX0DER",
    }
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v}


def ad_hoc(sql: str = AGGREGATE_SQL, **fields: Any) -> dict[str, Any]:
    """A create-execution body for ``sql`` (synthetic data required, as sandbox instances need)."""
    return {"workflow": {"sqlQuery": sql}, "requireSyntheticData": True, **fields}


def assert_amc_error(response: httpx.Response, status: int, details_part: str = "") -> dict[str, Any]:
    """The response is AMC's error shape with ``status`` and ``details`` containing ``details_part``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "details", "requestId"}
    assert body["code"] == str(status)
    assert details_part in body["details"]
    assert body["requestId"]
    return body
