"""Every endpoint: method, path, headers, query and body, and how answers are read."""

import io
from datetime import UTC, datetime

import httpx
import pytest
from client_support import (
    CLIENT_ID,
    INSTANCE,
    REPORTING,
    Router,
    body_of,
    execution_json,
    make_client,
)

from amc_magic.client import AmcExecution

CREATED = execution_json("e-1", "PENDING", createTime="2026-01-15T12:00:00Z")


def answer(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    if path.endswith("/downloadUrls"):
        return httpx.Response(
            200, json={"downloadUrls": ["https://s3.test/r/1.csv?X-Amz-Signature=abc"], "metadataDownloadUrls": []}
        )
    if path.endswith("/workflowExecutions") and method == "POST":
        return httpx.Response(200, json=CREATED)
    if path.endswith("/workflowExecutions/e-1") and method == "GET":
        return httpx.Response(
            200, json={**CREATED, "status": "SUCCEEDED", "outputColumns": [{"name": "n", "dataType": "LONG"}]}
        )
    if path == "/amc/accounts":
        return httpx.Response(200, json={"amcAccounts": [{"accountId": "ENTITYTEST1"}]})
    if path == "/amc/instances":
        return httpx.Response(200, json={"instances": [{"instanceId": "amc1test01"}]})
    if path.endswith("/dataSources"):
        return httpx.Response(200, json={"dataSources": [{"dataSourceId": "dsp_impressions"}]})
    if path.endswith("/dataSources/dsp_clicks"):
        return httpx.Response(200, json={"dataSourceId": "dsp_clicks"})
    if path.endswith("/workflows/wf-1") and method == "GET":
        return httpx.Response(200, json={"workflowId": "wf-1", "sqlQuery": "SELECT 1"})
    return httpx.Response(200, json={})


@pytest.fixture
def router():
    return Router(answer)


@pytest.fixture
async def client(router):
    async with make_client(router) as client:
        yield client


async def test_amc_calls_carry_amc_headers(client, router):
    await client.get_execution(INSTANCE, "e-1")
    headers = router.requests[-1].headers
    assert headers["Authorization"] == "Bearer Atza|access-1-tokenvalue"
    assert headers["Amazon-Advertising-API-ClientId"] == CLIENT_ID
    assert headers["Amazon-Advertising-API-AdvertiserId"] == "ENTITYTEST1"
    assert headers["Amazon-Advertising-API-MarketplaceId"] == "ATVPDKIKX0DER"
    assert headers["Content-Type"] == "application/json"


async def test_create_and_get_execution(client, router):
    body = {"workflow": {"sqlQuery": "SELECT 1"}, "timeWindowType": "MOST_RECENT_DAY"}
    created = await client.create_execution(INSTANCE, body)
    request = router.requests[-1]
    assert (request.method, request.url.path) == ("POST", f"{REPORTING}/workflowExecutions")
    assert body_of(request) == body
    assert created == AmcExecution(
        "e-1", "PENDING", workflow_id="transient_x", create_time=datetime(2026, 1, 15, 12, tzinfo=UTC)
    )
    fetched = await client.get_execution(INSTANCE, "e-1", include_workflow=True)
    assert router.requests[-1].url.params["includeWorkflow"] == "true"
    assert fetched.is_terminal and fetched.output_columns[0].data_type == "LONG"


async def test_list_executions_sends_filters_and_follows_pages():
    pages = iter(
        [
            {"executions": [execution_json("e-1")], "nextToken": "page2"},
            {"executions": [execution_json("e-2")]},
        ]
    )
    router = Router(lambda request: httpx.Response(200, json=next(pages)))
    async with make_client(router) as client:
        found = await client.list_executions(
            INSTANCE,
            min_creation_time=datetime(2026, 1, 15, 11, 55, tzinfo=UTC),
            include_workflow=True,
            workflow_id="wf-1",
        )
    assert [e.execution_id for e in found] == ["e-1", "e-2"]
    first, second = router.requests
    assert first.url.params["minCreationTime"] == "2026-01-15T11:55:00Z"
    assert first.url.params["includeWorkflow"] == "true"
    assert first.url.params["workflowId"] == "wf-1"
    assert "nextToken" not in first.url.params
    assert second.url.params["nextToken"] == "page2"


async def test_cancel_puts_status_cancelled(client, router):
    await client.cancel_execution(INSTANCE, "e-1")
    request = router.requests[-1]
    assert (request.method, request.url.path, body_of(request)) == (
        "PUT",
        f"{REPORTING}/workflowExecutions/e-1",
        {"status": "CANCELLED"},
    )


async def test_download_urls_and_download_without_any_amc_header():
    seen = []

    def handler(request):
        if request.url.host == "s3.test":
            seen.append(request)
            return httpx.Response(200, content=b"n\n1\n2\n")
        return answer(request)

    async with make_client(Router(handler)) as client:
        [url] = await client.download_urls(INSTANCE, "e-1")
        sink = io.BytesIO()
        size = await client.download(url, sink)
    assert (size, sink.getvalue()) == (6, b"n\n1\n2\n")
    headers = {name.lower() for name in seen[0].headers}
    assert not {"authorization", "amazon-advertising-api-clientid", "amazon-advertising-api-advertiserid"} & headers
    assert seen[0].url.params["X-Amz-Signature"] == "abc"


async def test_relative_download_links_resolve_against_the_api_url():
    router = Router(lambda request: httpx.Response(200, content=b"a\n"))
    async with make_client(router) as client:
        await client.download("/results/t/1.csv?sig=1", io.BytesIO())
    assert str(router.requests[0].url) == "https://amc.test/results/t/1.csv?sig=1"


async def test_workflow_crud(client, router):
    await client.create_workflow(INSTANCE, {"workflowId": "wf-1", "sqlQuery": "SELECT 1"})
    assert await client.get_workflow(INSTANCE, "wf-1") == {"workflowId": "wf-1", "sqlQuery": "SELECT 1"}
    await client.update_workflow(INSTANCE, "wf-1", {"sqlQuery": "SELECT 2"})
    await client.delete_workflow(INSTANCE, "wf-1")
    await client.list_workflows(INSTANCE)
    calls = [(r.method, r.url.path.removeprefix(REPORTING)) for r in router.requests]
    assert calls == [
        ("POST", "/workflows"),
        ("GET", "/workflows/wf-1"),
        ("PUT", "/workflows/wf-1"),
        ("DELETE", "/workflows/wf-1"),
        ("GET", "/workflows"),
    ]
    assert body_of(router.requests[2]) == {"sqlQuery": "SELECT 2", "workflowId": "wf-1"}


async def test_data_sources_accounts_and_instances(client, router):
    assert await client.list_data_sources(INSTANCE) == [{"dataSourceId": "dsp_impressions"}]
    assert (await client.get_data_source(INSTANCE, "dsp_clicks"))["dataSourceId"] == "dsp_clicks"
    assert await client.list_accounts() == [{"accountId": "ENTITYTEST1"}]
    accounts_request = router.requests[-1]
    assert "Amazon-Advertising-API-AdvertiserId" not in accounts_request.headers
    assert accounts_request.headers["Amazon-Advertising-API-ClientId"] == CLIENT_ID
    assert await client.list_instances("ENTITYTEST1") == [{"instanceId": "amc1test01"}]
    assert router.requests[-1].headers["Amazon-Advertising-API-AdvertiserId"] == "ENTITYTEST1"


def test_execution_objects_wrapped_or_not_read_the_same():
    flat = {"workflowExecutionId": "e", "status": "running", "statusReason": "", "sqlQuery": "SELECT 1"}
    assert AmcExecution.from_json({"workflowExecution": flat}) == AmcExecution.from_json(flat)
    parsed = AmcExecution.from_json(flat)
    assert (parsed.status, parsed.status_reason, parsed.sql_query) == ("RUNNING", None, "SELECT 1")
