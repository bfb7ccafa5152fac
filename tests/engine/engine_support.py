"""A scripted AMC for engine tests: executions that move with a simulated clock, served by MockTransport."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from amc_magic.client import AmcClient, Credentials, Endpoints, InstanceRef
from amc_magic.client.models import format_amc_time
from amc_magic.engine import Engine, ExecutionEvent, SimulatedClock

INSTANCE = InstanceRef("amc1test01", "ENTITYTEST1", "ATVPDKIKX0DER")
API_URL = "https://amc.test"
TOKEN_URL = "https://lwa.test/auth/o2/token"
COLUMNS = [{"name": "campaign", "dataType": "STRING"}, {"name": "impressions", "dataType": "LONG"}]
CSV = b"campaign,impressions\nSpring,10\nSummer,20\n"

Fault = Callable[[httpx.Request], "httpx.Response | Exception | None"]


@dataclass
class FakeExecution:
    """One execution on the fake AMC and the script it follows."""

    execution_id: str
    body: dict[str, Any]
    created: float
    run_seconds: float
    outcome: str = "SUCCEEDED"
    reason: str | None = None
    files: list[bytes] = field(default_factory=lambda: [CSV])
    columns: list[dict[str, str]] = field(default_factory=lambda: list(COLUMNS))
    cancelled_at: float | None = None

    def status(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "CANCELLED"
        if now < self.created + 1:
            return "PENDING"
        return "RUNNING" if now < self.created + self.run_seconds else self.outcome


class FakeAmc:
    """An AMC whose executions take ``run_seconds`` of simulated time, then end with ``outcome``.

    ``faults`` are consulted first for each AMC request: a fault returns a response or an exception
    to answer with, or ``None`` to let the request through. Downloads are served from
    ``https://s3.test/...`` and refuse requests carrying an ``Authorization`` header; each takes
    ``download_pause`` seconds of real time, and ``peak_downloads`` counts how many overlapped.
    """

    def __init__(self, clock: SimulatedClock, *, run_seconds: float = 30.0, **script: Any) -> None:
        self.clock = clock
        self.run_seconds = run_seconds
        self.script = script
        self.executions: dict[str, FakeExecution] = {}
        self.requests: list[httpx.Request] = []
        self.faults: list[Fault] = []
        self.expired_links = 0
        self.download_pause = 0.0
        self.downloads_in_flight = 0
        self.peak_downloads = 0

    def status_calls(self) -> int:
        return sum(1 for r in self.requests if r.method == "GET" and r.url.path.count("/") == 5)

    def running(self) -> int:
        now = self.clock.monotonic()
        return sum(1 for e in self.executions.values() if e.status(now) in ("PENDING", "RUNNING"))

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return httpx.Response(200, json={"access_token": "Atza|t", "expires_in": 3600})
        self.requests.append(request)
        if request.url.host == "s3.test":
            self.downloads_in_flight += 1
            self.peak_downloads = max(self.peak_downloads, self.downloads_in_flight)
            try:
                await asyncio.sleep(self.download_pause)  # real time: lets downloads overlap
                return self._download(request)
            finally:
                self.downloads_in_flight -= 1
        for fault in self.faults:
            answer = fault(request)
            if isinstance(answer, Exception):
                raise answer
            if answer is not None:
                return answer
        return self._api(request)

    def add(self, body: dict[str, Any], **overrides: Any) -> FakeExecution:
        """Create an execution directly (as if created earlier or by a lost request)."""
        settings = {"run_seconds": self.run_seconds, **self.script, **overrides}
        execution = FakeExecution(str(uuid.uuid4()), body, self.clock.monotonic(), **settings)
        self.executions[execution.execution_id] = execution
        return execution

    def _api(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")[4:]  # after /amc/reporting/{instance}
        method = request.method
        if parts == ["workflowExecutions"] and method == "POST":
            return httpx.Response(200, json=self._json(self.add(json.loads(request.content))))
        if parts == ["workflowExecutions"]:
            return self._list(request)
        execution = self.executions.get(parts[1]) if len(parts) > 1 else None
        if execution is None:
            return _error(400, f"Workflow execution with ID {parts[-1]} does not exist.")
        status = execution.status(self.clock.monotonic())
        if len(parts) == 3:
            if status != "SUCCEEDED":
                return _error(400, f"Execution with ID {execution.execution_id} is unavailable for download.")
            urls = [self._link(execution, n) for n in range(len(execution.files))]
            return httpx.Response(200, json={"downloadUrls": urls})
        if method == "PUT":
            if status not in ("PENDING", "RUNNING"):
                return _error(400, f"Workflow execution with ID {execution.execution_id} cannot be cancelled.")
            execution.cancelled_at = self.clock.monotonic()
            return httpx.Response(200, json={})
        return httpx.Response(200, json=self._json(execution, request.url.params.get("includeWorkflow") == "true"))

    def _list(self, request: httpx.Request) -> httpx.Response:
        since = datetime.fromisoformat(request.url.params["minCreationTime"].replace("Z", "+00:00"))
        include = request.url.params.get("includeWorkflow") == "true"
        found = [self._json(e, include) for e in self.executions.values() if self._created_at(e) >= since]
        return httpx.Response(200, json={"executions": found})

    def _json(self, execution: FakeExecution, include_workflow: bool = False) -> dict[str, Any]:
        status = execution.status(self.clock.monotonic())
        body: dict[str, Any] = {
            "workflowExecutionId": execution.execution_id,
            "workflowId": execution.body.get("workflowId", "transient_1"),
            "status": status,
            "createTime": format_amc_time(self._created_at(execution)),
            "timeWindowEnd": "2025-12-01T00:00:00Z",
            "parameterValues": execution.body.get("parameterValues", {}),
        }
        for key in ("timeWindowStart", "timeWindowEnd"):
            if key in execution.body:
                body[f"{key}Original"] = execution.body[key]
        if status == execution.outcome and execution.reason:
            body["statusReason"] = execution.reason
        if status == "SUCCEEDED":
            body["outputColumns"] = execution.columns
        if include_workflow and "workflow" in execution.body:
            body["sqlQuery"] = execution.body["workflow"]["sqlQuery"]
        return body

    def _created_at(self, execution: FakeExecution) -> datetime:
        return self.clock.now() - timedelta(seconds=self.clock.monotonic() - execution.created)

    def _link(self, execution: FakeExecution, number: int) -> str:
        return f"https://s3.test/{execution.execution_id}/{number}.csv?X-Amz-Signature=sig{self.expired_links}"

    def _download(self, request: httpx.Request) -> httpx.Response:
        if "authorization" in request.headers:
            return httpx.Response(400, content=b"<Error><Code>InvalidArgument</Code></Error>")
        if request.url.params["X-Amz-Signature"] != f"sig{self.expired_links}":
            return httpx.Response(
                403, content=b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
            )
        execution_id, name = request.url.path.strip("/").split("/")
        return httpx.Response(200, content=self.executions[execution_id].files[int(name.removesuffix(".csv"))])


def _error(status: int, details: str) -> httpx.Response:
    return httpx.Response(status, json={"code": str(status), "details": details})


class Events(list[ExecutionEvent]):
    """A subscriber that keeps every event, and lets a test wait for one."""

    def __init__(self) -> None:
        super().__init__()
        self._arrived = asyncio.Event()

    def __call__(self, event: ExecutionEvent) -> None:
        self.append(event)
        self._arrived.set()

    async def wait_for(self, predicate: Callable[[ExecutionEvent], bool]) -> ExecutionEvent:
        """The first event (past or future) matching ``predicate``."""
        while True:
            for event in self:
                if predicate(event):
                    return event
            self._arrived.clear()
            await self._arrived.wait()

    def kinds(self) -> list[str]:
        return [e.kind.value for e in self]


class RecordingRecorder:
    """A recorder that logs every call as a tuple."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def on_submitting(self, body, mark):
        self.calls.append(("submitting", body, mark))

    def on_submitted(self, amc_id):
        self.calls.append(("submitted", amc_id))

    def on_status(self, status, reason):
        self.calls.append(("status", status, reason))

    def on_poll(self):
        self.calls.append(("poll",))

    def on_result(self, frame, output_columns, size_bytes):
        self.calls.append(("result", frame.shape, tuple(c.name for c in output_columns), size_bytes))

    def names(self) -> list[str]:
        return [call[0] for call in self.calls if call[0] != "poll"]


def make_engine(amc: FakeAmc, **kwargs: Any) -> Engine:
    """An engine over ``amc`` on its simulated clock."""
    clock = amc.clock
    client = AmcClient(
        Credentials("client", "secret", "refresh"),
        endpoints=Endpoints(API_URL, TOKEN_URL),
        transport=httpx.MockTransport(amc),
        sleep=clock.sleep,
        clock=clock.monotonic,
        random=lambda: 0.5,
    )
    return Engine(client, clock=clock.monotonic, now=clock.now, sleep=clock.sleep, **kwargs)
