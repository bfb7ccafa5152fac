"""The real sandbox for engine tests: a typed stub database, a token-recording transport, an engine on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
import pyarrow as pa

from amc_magic.client import AmcClient, Credentials, Endpoints, InstanceRef
from amc_magic.engine import Engine, ExecutionRequest, SimulatedClock
from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID
from amc_magic.sandbox.transport import SandboxTransport

SANDBOX_INSTANCE = InstanceRef(INSTANCE_ID, ADVERTISER_ID, MARKETPLACE_ID)
SANDBOX_SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


@dataclass
class TypedOutput:
    columns: list[tuple[str, str]]
    table: pa.Table
    filtered_rows: int = 0


class TypedDatabase:
    """A sandbox database answering every query with the same rows, one column per AMC type."""

    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("campaign", "STRING"),
        ("impressions", "LONG"),
        ("total_cost", "DOUBLE"),
        ("product_sales", "DECIMAL"),
        ("new_to_brand", "BOOLEAN"),
        ("event_date_utc", "DATE"),
        ("first_seen_utc", "TIMESTAMP"),
    ]

    def __init__(self, rows: int = 5) -> None:
        self.rows = rows

    def run(self, sql, *, window_start, window_end, parameters, disable_aggregation_controls) -> TypedOutput:
        n = self.rows
        start = datetime(2025, 11, 1)
        table = pa.table(
            {
                "campaign": pa.array([f"c{i}" if i % 4 else None for i in range(n)], pa.string()),
                "impressions": pa.array([i * 10 if i % 3 else None for i in range(n)], pa.int64()),
                "total_cost": pa.array([i * 1.5 for i in range(n)], pa.float64()),
                "product_sales": pa.array([i * 2.25 for i in range(n)], pa.float64()),
                "new_to_brand": pa.array([i % 2 == 0 for i in range(n)], pa.bool_()),
                "event_date_utc": pa.array([(start + timedelta(days=i)).date() for i in range(n)], pa.date32()),
                "first_seen_utc": pa.array(
                    [start + timedelta(hours=i) for i in range(n)], pa.timestamp("us", tz="UTC")
                ),
            }
        )
        return TypedOutput(self.COLUMNS, table)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and keeps every bearer token and every token response it carried."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "authorization" in request.headers:
            self.seen.add(request.headers["authorization"].removeprefix("Bearer "))
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/auth/o2/token"):
            body = await response.aread()
            self.seen.add(json.loads(body).get("access_token", ""))
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        return response


SANDBOX_CREDENTIALS = Credentials(
    "amzn1.application-oa2-client.sandbox", "sandbox-client-secret-1", "Atzr|sandbox-refresh-1"
)


def sandbox_engine(
    sandbox: Sandbox, clock: SimulatedClock, *, transport: httpx.AsyncBaseTransport | None = None, **client_kwargs: Any
) -> Engine:
    """An engine whose client talks to ``sandbox`` in-process, on ``clock``."""
    client = AmcClient(
        SANDBOX_CREDENTIALS,
        endpoints=Endpoints("http://sandbox.test", "http://sandbox.test/auth/o2/token"),
        transport=transport or SandboxTransport(sandbox.app),
        sleep=clock.sleep,
        clock=clock.monotonic,
        random=lambda: 0.5,
        **client_kwargs,
    )
    return Engine(client, clock=clock.monotonic, now=clock.now, sleep=clock.sleep)


def sandbox_request(
    sql: str = SANDBOX_SQL, instance: InstanceRef = SANDBOX_INSTANCE, **options: Any
) -> ExecutionRequest:
    return ExecutionRequest(
        instance, sql=sql, time_window_type="MOST_RECENT_WEEK", options={"requireSyntheticData": True, **options}
    )
