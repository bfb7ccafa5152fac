"""The real-instance code path end to end: the engine over a socket to the sandbox served on loopback."""

import logging

import pytest
from engine_sandbox_support import SANDBOX_CREDENTIALS, TypedDatabase, sandbox_request

from amc_magic.client import AmcClient, Endpoints
from amc_magic.engine import Engine, PollSchedule
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.serve import ServedSandbox


@pytest.fixture(scope="module")
def served():
    config = SandboxConfig(queue_seconds=0.1, run_seconds=0.3, rows_per_file=2, dropped_creates=1)
    with ServedSandbox(config, database=TypedDatabase(5)) as served:
        yield served


@pytest.mark.slow
async def test_a_query_over_loopback_with_a_dropped_connection(served, caplog):
    endpoints = Endpoints(served.base_url, f"{served.base_url}/auth/o2/token")
    client = AmcClient(SANDBOX_CREDENTIALS, endpoints=endpoints)
    engine = Engine(client, schedule=PollSchedule(minimum=0.05, ratio=0.1, ceiling=0.2))
    with caplog.at_level(logging.DEBUG):
        result = await engine.run(sandbox_request(), timeout=30)
    await client.aclose()
    sandbox = served.sandbox
    assert result.files == 3 and len(result.frame) == 5
    assert str(result.frame["impressions"].dtype) == "Int64"
    assert sandbox.calls["create_execution"] == 1 and len(sandbox.api.executions.all()) == 1
    assert "RemoteProtocolError" in caplog.text  # the create's connection really dropped
    for secret in (SANDBOX_CREDENTIALS.client_secret, SANDBOX_CREDENTIALS.refresh_token, "Atza|", "X-Amz-Signature"):
        assert secret not in caplog.text
