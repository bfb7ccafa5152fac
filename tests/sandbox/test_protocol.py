"""AMC's reporting protocol as the sandbox speaks it, through httpx against the in-process app."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx
import pytest

from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import ManualClock
from sandbox_support import (
    AGGREGATE_SQL,
    BASE,
    CREDENTIALS,
    SMALL_DATA,
    access_token,
    ad_hoc,
    amc_headers,
    api_client,
    assert_amc_error,
    build_small_database,
    small_data_config,
)


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory):
    return build_small_database(tmp_path_factory.getbasetemp() / "sandbox-data")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_sandbox(clock: ManualClock, database):
    """Builds sandboxes over the small real database, closing them after the test."""
    sandboxes: list[Sandbox] = []

    def make(**config: object) -> Sandbox:
        sandbox = Sandbox(small_data_config(clock=clock, **config), database=database)
        sandboxes.append(sandbox)
        return sandbox

    yield make
    for sandbox in sandboxes:
        sandbox.close()


@pytest.fixture
async def session(make_sandbox):
    """A default sandbox, a client to it and valid AMC headers."""
    sandbox = make_sandbox()
    async with api_client(sandbox) as client:
        yield sandbox, client, amc_headers(await access_token(client))


async def create(client: httpx.AsyncClient, headers: dict[str, str], body: dict) -> dict:
    response = await client.post(f"{BASE}/workflowExecutions", headers=headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def get(client: httpx.AsyncClient, headers: dict[str, str], execution_id: str, **params: str) -> dict:
    response = await client.get(f"{BASE}/workflowExecutions/{execution_id}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def download(client: httpx.AsyncClient, headers: dict[str, str], execution_id: str) -> tuple[list[dict], dict]:
    """Rows of every result file (no Authorization header on the links) and the metadata."""
    urls = await client.get(f"{BASE}/workflowExecutions/{execution_id}/downloadUrls", headers=headers)
    assert urls.status_code == 200, urls.text
    rows: list[dict] = []
    for url in urls.json()["downloadUrls"]:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        rows += list(csv.DictReader(io.StringIO(response.text)))
    (metadata_url,) = urls.json()["metadataDownloadUrls"]
    return rows, (await client.get(metadata_url)).json()


# --- Login with Amazon -------------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
async def test_token_endpoint_issues_bearer_tokens(make_sandbox, as_json: bool) -> None:
    async with api_client(make_sandbox(token_lifetime_seconds=1800)) as client:
        sent = {"json": CREDENTIALS} if as_json else {"data": CREDENTIALS}
        response = await client.post("/auth/o2/token", **sent)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert body["refresh_token"] == CREDENTIALS["refresh_token"]
    assert body["access_token"].startswith("Atza|")


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"refresh_token": ""}, 400, "invalid_grant"),
        ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"client_secret": ""}, 401, "invalid_client"),
    ],
    ids=["no-refresh-token", "other-grant", "no-grant", "no-secret"],
)
async def test_token_endpoint_errors(make_sandbox, fields: dict, status: int, error: str) -> None:
    async with api_client(make_sandbox()) as client:
        response = await client.post("/auth/o2/token", data={**CREDENTIALS, **fields})
    assert response.status_code == status
    assert response.json()["error"] == error
    assert "error_description" in response.json()


# --- headers, authentication, access --------------------------------------------------------


async def test_missing_or_unknown_token_is_401(session) -> None:
    _, client, headers = session
    no_token = {k: v for k, v in headers.items() if k != "Authorization"}
    assert_amc_error(await client.get(f"{BASE}/workflows", headers=no_token), 401, "Authentication failed")
    bad = {**headers, "Authorization": "Bearer Atza|forged"}
    assert_amc_error(await client.get(f"{BASE}/workflows", headers=bad), 401, "Authentication failed")


async def test_expired_token_is_401_and_a_refresh_fixes_it(make_sandbox, clock: ManualClock) -> None:
    async with api_client(make_sandbox(token_lifetime_seconds=60)) as client:
        headers = amc_headers(await access_token(client))
        assert (await client.get(f"{BASE}/workflows", headers=headers)).status_code == 200
        clock.advance(61)
        assert_amc_error(await client.get(f"{BASE}/workflows", headers=headers), 401)
        headers = amc_headers(await access_token(client))
        assert (await client.get(f"{BASE}/workflows", headers=headers)).status_code == 200


async def test_header_names_are_case_insensitive(session) -> None:
    _, client, headers = session
    lowered = {k.lower(): v for k, v in headers.items()}
    assert (await client.get(f"{BASE}/dataSources", headers=lowered)).status_code == 200


@pytest.mark.parametrize(
    "missing",
    ["Amazon-Advertising-API-ClientId", "Amazon-Advertising-API-AdvertiserId", "Amazon-Advertising-API-MarketplaceId"],
)
async def test_missing_header_is_400(session, missing: str) -> None:
    _, client, headers = session
    response = await client.get(f"{BASE}/workflows", headers=amc_headers(headers["Authorization"][7:], **{missing: ""}))
    assert_amc_error(response, 400, missing)


async def test_wrong_advertiser_or_instance_is_403(session) -> None:
    _, client, headers = session
    wrong_advertiser = {**headers, "Amazon-Advertising-API-AdvertiserId": "1234567890"}
    assert_amc_error(await client.get(f"{BASE}/workflows", headers=wrong_advertiser), 403)
    assert_amc_error(await client.get("/amc/reporting/amc1nstance/workflows", headers=headers), 403)
    assert_amc_error(await client.get("/amc/instances", headers=wrong_advertiser), 403)


async def test_unknown_route_is_404_in_amc_shape(session) -> None:
    _, client, headers = session
    assert_amc_error(await client.get(f"{BASE}/nothingHere", headers=headers), 404)


# --- accounts, instances, data sources -----------------------------------------------------


async def test_accounts_need_only_client_id_and_token(session) -> None:
    _, client, headers = session
    minimal = {k: v for k, v in headers.items() if "Advertiser" not in k and "Marketplace" not in k}
    response = await client.get("/amc/accounts", headers=minimal)
    assert response.json() == {
        "amcAccounts": [
            {"accountId": "ENTITYSANDBOX", "accountName": "amc-magic sandbox", "marketplaceId": "ATVPDKIKX0DER"}
        ]
    }


async def test_instances_list_the_sandbox_instance(session) -> None:
    _, client, headers = session
    (instance,) = (await client.get("/amc/instances", headers=headers)).json()["instances"]
    assert instance["instanceId"] == "amcsandbox01"
    assert instance["instanceType"] == "SANDBOX"
    assert instance["apiEndpoint"] == "http://sandbox.test"


async def test_data_sources_page_and_single(session) -> None:
    _, client, headers = session
    first = (await client.get(f"{BASE}/dataSources", headers=headers, params={"limit": "4"})).json()
    rest = (
        await client.get(f"{BASE}/dataSources", headers=headers, params={"limit": "4", "nextToken": first["nextToken"]})
    ).json()
    names = [s["dataSourceId"] for s in first["dataSources"] + rest["dataSources"]]
    assert "dsp_impressions" in names and "nextToken" not in rest
    single = (await client.get(f"{BASE}/dataSources/dsp_impressions", headers=headers)).json()
    assert single["dataSourceId"] == "dsp_impressions"
    assert {"name": "campaign", "columnType": "DIMENSION", "dataType": "STRING"}.items() <= next(
        c for c in single["columns"] if c["name"] == "campaign"
    ).items()
    assert_amc_error(await client.get(f"{BASE}/dataSources/nope", headers=headers), 400, "does not exist")


# --- executions ------------------------------------------------------------------------------


async def test_ad_hoc_execution_create_poll_download(session) -> None:
    sandbox, client, headers = session
    body = ad_hoc(
        timeWindowType="EXPLICIT",
        timeWindowStart="2026-01-10T00:00:00",
        timeWindowEnd="2026-01-12T00:00:00",
        timeWindowTimeZone="America/New_York",
    )
    created = await create(client, headers, body)
    assert created["status"] == "PENDING"
    assert created["workflowId"].startswith("transient_")
    assert created["executionCategory"] == "AD_HOC"
    assert created["timeWindowStart"] == "2026-01-10T05:00:00Z"
    assert created["timeWindowEnd"] == "2026-01-12T05:00:00Z"
    assert created["timeWindowStartOriginal"] == "2026-01-10T00:00:00"
    assert created["timeWindowTimeZoneOriginal"] == "America/New_York"
    assert created["workflowExecutionTimeoutSeconds"] == 21600
    assert "sqlQuery" not in created

    await sandbox.wait_idle()
    done = await get(client, headers, created["workflowExecutionId"], includeWorkflow="true")
    assert done["status"] == "SUCCEEDED", done
    assert done["sqlQuery"] == AGGREGATE_SQL
    assert done["outputColumns"] == [
        {"name": "campaign", "dataType": "STRING", "columnType": "DIMENSION"},
        {"name": "impressions", "dataType": "LONG", "columnType": "METRIC"},
    ]
    rows, metadata = await download(client, headers, created["workflowExecutionId"])
    assert rows and set(rows[0]) == {"campaign", "impressions"}
    assert all(int(r["impressions"]) > 0 for r in rows)
    assert metadata["rowCount"] == len(rows)
    assert metadata["outputColumns"] == done["outputColumns"]


async def test_states_follow_queue_and_run_times(make_sandbox, clock: ManualClock) -> None:
    sandbox = make_sandbox(queue_seconds=30, run_seconds=120)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        execution_id = (await create(client, headers, ad_hoc()))["workflowExecutionId"]
        assert (await get(client, headers, execution_id))["status"] == "PENDING"
        clock.advance(30)
        running = await get(client, headers, execution_id)
        assert running["status"] == "RUNNING"
        await sandbox.wait_idle()
        clock.advance(119)
        assert (await get(client, headers, execution_id))["status"] == "RUNNING"
        clock.advance(1)
        done = await get(client, headers, execution_id)
    assert done["status"] == "SUCCEEDED"
    assert done["executionTime"] == 120
    assert done["lastUpdatedTime"] == "2026-01-15T12:02:30Z"


async def test_at_most_ten_run_at_once_and_the_rest_queue_in_order(make_sandbox, clock: ManualClock) -> None:
    sandbox = make_sandbox(run_seconds=60)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        ids = [(await create(client, headers, ad_hoc()))["workflowExecutionId"] for _ in range(12)]
        statuses = [(await get(client, headers, i))["status"] for i in ids]
        assert statuses == ["RUNNING"] * 10 + ["PENDING"] * 2
        await sandbox.wait_idle()
        clock.advance(60)
        statuses = [(await get(client, headers, i))["status"] for i in ids]
        assert statuses == ["SUCCEEDED"] * 10 + ["RUNNING"] * 2
        await sandbox.wait_idle()
        clock.advance(60)
        assert [(await get(client, headers, i))["status"] for i in ids[10:]] == ["SUCCEEDED"] * 2


async def test_execution_that_outlives_its_timeout_fails(make_sandbox, clock: ManualClock) -> None:
    sandbox = make_sandbox(run_seconds=600)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        execution_id = (await create(client, headers, ad_hoc(workflowExecutionTimeoutSeconds=300)))[
            "workflowExecutionId"
        ]
        await sandbox.wait_idle()
        clock.advance(300)
        failed = await get(client, headers, execution_id)
    assert failed["status"] == "FAILED"
    assert "timeout of 300 seconds" in failed["statusReason"]


async def test_sandbox_executions_need_synthetic_data_flag(session) -> None:
    sandbox, client, headers = session
    body = {"workflow": {"sqlQuery": AGGREGATE_SQL}}
    execution_id = (await create(client, headers, body))["workflowExecutionId"]
    await sandbox.wait_idle()
    failed = await get(client, headers, execution_id)
    assert failed["status"] == "FAILED"
    assert "requireSyntheticData" in failed["statusReason"]


async def test_cancel_pending_and_running_but_not_finished(make_sandbox, clock: ManualClock) -> None:
    sandbox = make_sandbox(queue_seconds=10, run_seconds=100)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        pending = (await create(client, headers, ad_hoc()))["workflowExecutionId"]
        cancel = {"status": "CANCELLED"}
        response = await client.put(f"{BASE}/workflowExecutions/{pending}", headers=headers, json=cancel)
        assert response.status_code == 200 and response.json() == {}
        assert (await get(client, headers, pending))["status"] == "CANCELLED"

        running = (await create(client, headers, ad_hoc()))["workflowExecutionId"]
        clock.advance(10)
        assert (await get(client, headers, running))["status"] == "RUNNING"
        await client.put(f"{BASE}/workflowExecutions/{running}", headers=headers, json=cancel)
        await sandbox.wait_idle()
        clock.advance(100)
        assert (await get(client, headers, running))["status"] == "CANCELLED"

        again = await client.put(f"{BASE}/workflowExecutions/{running}", headers=headers, json=cancel)
        assert_amc_error(again, 400, "CANCELLED")
        bad_status = await client.put(
            f"{BASE}/workflowExecutions/{running}", headers=headers, json={"status": "RUNNING"}
        )
        assert_amc_error(bad_status, 400, "CANCELLED")
        missing = await client.put(f"{BASE}/workflowExecutions/nope", headers=headers, json=cancel)
        assert_amc_error(missing, 400, "Workflow execution with ID nope does not exist.")


async def test_missing_execution_is_400_does_not_exist(session) -> None:
    _, client, headers = session
    response = await client.get(f"{BASE}/workflowExecutions/0d8f5a9e-0000-4000-8000-000000000000", headers=headers)
    assert_amc_error(response, 400, "Workflow execution with ID 0d8f5a9e-0000-4000-8000-000000000000 does not exist.")


async def test_download_urls_only_when_succeeded(make_sandbox) -> None:
    sandbox = make_sandbox(queue_seconds=10)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        execution_id = (await create(client, headers, ad_hoc()))["workflowExecutionId"]
        response = await client.get(f"{BASE}/workflowExecutions/{execution_id}/downloadUrls", headers=headers)
    assert_amc_error(response, 400, f"Execution with ID {execution_id} is unavailable for download.")


async def test_large_results_are_split_into_files(make_sandbox) -> None:
    sandbox = make_sandbox(rows_per_file=3)
    sql = (
        "SELECT campaign, line_item, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign, line_item"
    )
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        execution_id = (await create(client, headers, ad_hoc(sql, timeWindowType="MOST_RECENT_WEEK")))[
            "workflowExecutionId"
        ]
        await sandbox.wait_idle()
        urls = (await client.get(f"{BASE}/workflowExecutions/{execution_id}/downloadUrls", headers=headers)).json()
        rows, metadata = await download(client, headers, execution_id)
    assert metadata["rowCount"] == len(rows) > 3
    assert len(urls["downloadUrls"]) == metadata["fileCount"] == -(-len(rows) // 3)


async def test_download_links_expire_and_refuse_tampering_and_bearer_tokens(make_sandbox, clock: ManualClock) -> None:
    sandbox = make_sandbox(link_expiry_seconds=600)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        execution_id = (await create(client, headers, ad_hoc()))["workflowExecutionId"]
        await sandbox.wait_idle()
        (url,) = (await client.get(f"{BASE}/workflowExecutions/{execution_id}/downloadUrls", headers=headers)).json()[
            "downloadUrls"
        ]
        with_token = await client.get(url, headers={"Authorization": headers["Authorization"]})
        tampered = await client.get(url.replace("/1.csv", "/2.csv"))
        clock.advance(599)
        still_valid = await client.get(url)
        clock.advance(1)
        expired = await client.get(url)
        fresh = (await client.get(f"{BASE}/workflowExecutions/{execution_id}/downloadUrls", headers=headers)).json()
        renewed = await client.get(fresh["downloadUrls"][0])
    assert with_token.status_code == 400 and "<Code>InvalidArgument</Code>" in with_token.text
    assert tampered.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in tampered.text
    assert still_valid.status_code == 200
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text and "Request has expired" in expired.text
    assert renewed.status_code == 200 and renewed.text == still_valid.text


async def test_relative_windows_end_at_the_last_data_day(session) -> None:
    _, client, headers = session
    last = SMALL_DATA.last_day
    expected = {
        "MOST_RECENT_DAY": (last, last + timedelta(days=1)),
        "MOST_RECENT_WEEK": (last - timedelta(days=6), last + timedelta(days=1)),
        "CURRENT_MONTH": (last.replace(day=1), last + timedelta(days=1)),
        "PREVIOUS_MONTH": ((last.replace(day=1) - timedelta(days=1)).replace(day=1), last.replace(day=1)),
    }
    for window_type, (start, end) in expected.items():
        created = await create(client, headers, ad_hoc(timeWindowType=window_type))
        assert (created["timeWindowStart"], created["timeWindowEnd"]) == (
            f"{start.isoformat()}T00:00:00Z",
            f"{end.isoformat()}T00:00:00Z",
        ), window_type
    default = await create(client, headers, ad_hoc())
    assert default["timeWindowStart"] == f"{last.isoformat()}T00:00:00Z"


async def test_disabled_aggregation_controls_allow_row_level_queries(session) -> None:
    sandbox, client, headers = session
    sql = "SELECT campaign_id, impressions FROM dsp_impressions"
    refused = await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc(sql))
    assert_amc_error(refused, 400, "Was unable to compile workflow transient_")
    created = await create(client, headers, ad_hoc(sql, disableAggregationControls=True))
    await sandbox.wait_idle()
    done = await get(client, headers, created["workflowExecutionId"])
    assert done["status"] == "SUCCEEDED", done
    assert done["disableAggregationControls"] is True


async def test_list_executions_filters_sorts_and_pages(make_sandbox, clock: ManualClock) -> None:
    sandbox = make_sandbox(queue_seconds=3600)  # all stay PENDING, so the cancel below always applies
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        await client.post(
            f"{BASE}/workflows", headers=headers, json={"workflowId": "weekly", "sqlQuery": AGGREGATE_SQL}
        )
        ids = []
        for n in range(4):
            body = {"workflowId": "weekly", "requireSyntheticData": True} if n % 2 else ad_hoc()
            ids.append((await create(client, headers, body))["workflowExecutionId"])
            clock.advance(60)
        cancelled = await client.put(
            f"{BASE}/workflowExecutions/{ids[0]}", headers=headers, json={"status": "CANCELLED"}
        )
        assert cancelled.status_code == 200
        url = f"{BASE}/workflowExecutions"

        newest_first = (await client.get(url, headers=headers)).json()["executions"]
        assert [e["workflowExecutionId"] for e in newest_first] == ids[:0:-1]  # cancelled left out
        with_cancelled = (
            await client.get(url, headers=headers, params={"includeCancelled": "true", "sortAscending": "true"})
        ).json()
        assert [e["workflowExecutionId"] for e in with_cancelled["executions"]] == ids
        by_workflow = (await client.get(url, headers=headers, params={"workflowId": "weekly"})).json()["executions"]
        assert [e["workflowExecutionId"] for e in by_workflow] == [ids[3], ids[1]]
        window = {
            "minCreationTime": "2026-01-15T12:01:00Z",
            "maxCreationTime": "2026-01-15T12:02:00Z",
            "sortAscending": "true",
        }
        assert [
            e["workflowExecutionId"]
            for e in (await client.get(url, headers=headers, params=window)).json()["executions"]
        ] == ids[1:3]
        page = (await client.get(url, headers=headers, params={"limit": "2", "sortAscending": "true"})).json()
        page2 = (
            await client.get(
                url, headers=headers, params={"limit": "2", "sortAscending": "true", "nextToken": page["nextToken"]}
            )
        ).json()
        assert [e["workflowExecutionId"] for e in page["executions"] + page2["executions"]] == ids[1:]
        assert "nextToken" not in page2
        assert_amc_error(await client.get(url, headers=headers, params={"nextToken": "%%%"}), 400, "nextToken")
        assert_amc_error(await client.get(url, headers=headers, params={"minCreationTime": "yesterday"}), 400)


# --- workflows -------------------------------------------------------------------------------


PARAMETER_SQL = (
    "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions "
    "WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('campaigns'), campaign) GROUP BY campaign"
)


async def test_workflow_crud(session) -> None:
    _, client, headers = session
    url = f"{BASE}/workflows"
    definition = {
        "workflowId": "by-campaign",
        "sqlQuery": PARAMETER_SQL,
        "inputParameters": [
            {
                "name": "campaigns",
                "dataType": {"type": "ARRAY", "elementDataType": "STRING"},
                "columnType": "DIMENSION",
                "defaultValue": ["none"],
            }
        ],
    }
    created = await client.post(url, headers=headers, json=definition)
    assert created.status_code == 200 and created.json() == {}
    assert_amc_error(
        await client.post(url, headers=headers, json=definition), 400, "Workflow with ID by-campaign already exists."
    )
    got = (await client.get(f"{url}/by-campaign", headers=headers)).json()
    assert got["sqlQuery"] == PARAMETER_SQL
    assert got["inputParameters"][0]["dataType"] == {
        "type": "ARRAY",
        "elementDataType": "STRING",
        "elementNullable": False,
    }
    assert got["inputParameters"][0]["defaultValue"] == ["none"]

    updated = {**definition, "sqlQuery": AGGREGATE_SQL}
    assert (await client.put(f"{url}/by-campaign", headers=headers, json=updated)).json() == {}
    assert (await client.get(f"{url}/by-campaign", headers=headers)).json()["sqlQuery"] == AGGREGATE_SQL
    listed = (await client.get(url, headers=headers)).json()
    assert [w["workflowId"] for w in listed["workflows"]] == ["by-campaign"]

    assert (await client.delete(f"{url}/by-campaign", headers=headers)).json() == {}
    assert_amc_error(await client.get(f"{url}/by-campaign", headers=headers), 400, "does not exist")
    assert_amc_error(await client.delete(f"{url}/by-campaign", headers=headers), 400, "does not exist")
    assert_amc_error(await client.put(f"{url}/by-campaign", headers=headers, json=updated), 400, "does not exist")


async def test_saved_workflow_runs_with_parameter_values_over_defaults(session) -> None:
    sandbox, client, headers = session
    declaration = {
        "name": "campaigns",
        "dataType": {"type": "ARRAY", "elementDataType": "STRING"},
        "defaultValue": ["none"],
    }
    await client.post(
        f"{BASE}/workflows",
        headers=headers,
        json={"workflowId": "by-campaign", "sqlQuery": PARAMETER_SQL, "inputParameters": [declaration]},
    )
    window = {"timeWindowType": "MOST_RECENT_WEEK", "requireSyntheticData": True}
    with_default = await create(client, headers, {"workflowId": "by-campaign", **window})
    everything = await create(client, headers, ad_hoc(timeWindowType="MOST_RECENT_WEEK"))
    await sandbox.wait_idle()
    all_rows, _ = await download(client, headers, everything["workflowExecutionId"])
    chosen = all_rows[0]["campaign"]
    with_value = await create(
        client, headers, {"workflowId": "by-campaign", "parameterValues": {"campaigns": [chosen]}, **window}
    )
    await sandbox.wait_idle()

    assert with_default["workflowId"] == "by-campaign"
    assert (await download(client, headers, with_default["workflowExecutionId"]))[0] == []
    rows, _ = await download(client, headers, with_value["workflowExecutionId"])
    assert rows == [r for r in all_rows if r["campaign"] == chosen]
    assert (await get(client, headers, with_value["workflowExecutionId"]))["parameterValues"] == {"campaigns": [chosen]}


async def test_missing_parameter_value_and_bad_workflows_are_400(session) -> None:
    _, client, headers = session
    declaration = {"name": "campaigns", "dataType": {"type": "ARRAY", "elementDataType": "STRING"}}
    await client.post(
        f"{BASE}/workflows",
        headers=headers,
        json={"workflowId": "needs-value", "sqlQuery": PARAMETER_SQL, "inputParameters": [declaration]},
    )
    response = await client.post(f"{BASE}/workflowExecutions", headers=headers, json={"workflowId": "needs-value"})
    assert_amc_error(response, 400, "campaigns")
    unknown = await client.post(f"{BASE}/workflowExecutions", headers=headers, json={"workflowId": "nope"})
    assert_amc_error(unknown, 400, "Workflow with ID nope does not exist.")
    bad_id = await client.post(
        f"{BASE}/workflows", headers=headers, json={"workflowId": "has space", "sqlQuery": AGGREGATE_SQL}
    )
    assert_amc_error(bad_id, 400, "workflowId")
    invalid_sql = await client.post(
        f"{BASE}/workflows", headers=headers, json={"workflowId": "limited", "sqlQuery": AGGREGATE_SQL + " LIMIT 5"}
    )
    assert_amc_error(invalid_sql, 400, "Was unable to compile workflow limited.")


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "details_part"),
    [
        (b"{not json", "Malformed request body"),
        (b"[1, 2]", "Malformed request body"),
        (json.dumps(ad_hoc(outputFormat="CSV")).encode(), 'Unrecognized field "outputFormat"'),
        (json.dumps({"workflow": {"sqlQuery": AGGREGATE_SQL, "colour": 1}}).encode(), 'Unrecognized field "colour"'),
        (json.dumps({"requireSyntheticData": True}).encode(), "workflowId"),
        (json.dumps(ad_hoc(timeWindowType="LAST_YEAR")).encode(), "timeWindowType"),
        (
            json.dumps(ad_hoc(timeWindowType="EXPLICIT", timeWindowStart="2026-01-01T00:00:00")).encode(),
            "timeWindowEnd",
        ),
        (
            json.dumps(
                ad_hoc(timeWindowType="EXPLICIT", timeWindowStart="01/02/2026", timeWindowEnd="2026-01-05T00:00:00")
            ).encode(),
            "Invalid time 01/02/2026",
        ),
        (
            json.dumps(
                ad_hoc(
                    timeWindowType="EXPLICIT",
                    timeWindowStart="2026-02-30T00:00:00",
                    timeWindowEnd="2026-03-05T00:00:00",
                )
            ).encode(),
            "Invalid time 2026-02-30T00:00:00",
        ),
        (
            json.dumps(
                ad_hoc(
                    timeWindowType="EXPLICIT",
                    timeWindowStart="2026-01-05T00:00:00",
                    timeWindowEnd="2026-01-01T00:00:00",
                )
            ).encode(),
            "timeWindowEnd must be after timeWindowStart",
        ),
        (
            json.dumps(
                ad_hoc(
                    timeWindowType="EXPLICIT",
                    timeWindowStart="2019-01-01T00:00:00",
                    timeWindowEnd="2019-02-01T00:00:00",
                )
            ).encode(),
            "The time window 2019-01-01T00:00:00Z to 2019-02-01T00:00:00Z is outside this instance's data, "
            "which runs from 2025-01-01 to 2026-01-13 (UTC).",
        ),
        (json.dumps(ad_hoc(timeWindowTimeZone="Mars/Olympus")).encode(), "timeWindowTimeZone"),
        (json.dumps(ad_hoc("SELECT 1 -- " + "x" * 300_000)).encode(), "sqlQuery is too large"),
        (json.dumps(ad_hoc(workflowExecutionTimeoutSeconds="soon")).encode(), "workflowExecutionTimeoutSeconds"),
        (json.dumps(ad_hoc(parameterValues=["a"])).encode(), "parameterValues"),
        (json.dumps(ad_hoc(dryRun="maybe")).encode(), "dryRun"),
    ],
    ids=[
        "malformed-json",
        "not-an-object",
        "unknown-field",
        "unknown-workflow-field",
        "no-query",
        "bad-window-type",
        "missing-end",
        "bad-date-format",
        "impossible-date",
        "end-before-start",
        "window-outside-the-data",
        "bad-zone",
        "oversized-sql",
        "bad-timeout",
        "bad-parameter-values",
        "bad-boolean",
    ],
)
async def test_bad_create_requests_get_amc_errors(session, body: bytes, details_part: str) -> None:
    _, client, headers = session
    response = await client.post(
        f"{BASE}/workflowExecutions", headers={**headers, "Content-Type": "application/json"}, content=body
    )
    assert_amc_error(response, 400, details_part)
    assert (
        await client.get(f"{BASE}/workflowExecutions", headers=headers, params={"includeCancelled": "true"})
    ).json()["executions"] == []


async def test_dry_run_and_skip_publish(session) -> None:
    sandbox, client, headers = session
    dry = await create(client, headers, ad_hoc(dryRun=True))
    assert dry["status"] == "SUCCEEDED"
    published = await create(client, headers, ad_hoc(skipPublish=True))
    await sandbox.wait_idle()
    assert (await get(client, headers, published["workflowExecutionId"]))["status"] == "SUCCEEDED"
    for execution in (dry, published):
        urls = await client.get(
            f"{BASE}/workflowExecutions/{execution['workflowExecutionId']}/downloadUrls", headers=headers
        )
        assert urls.json()["downloadUrls"] == []


async def test_without_an_injected_database_the_sandbox_builds_its_own(tmp_path_factory, database) -> None:
    cache_dir = tmp_path_factory.getbasetemp() / "sandbox-data"  # where the session database cached its data
    sandbox = Sandbox(small_data_config(clock=ManualClock(), data_cache_dir=cache_dir))
    try:
        async with api_client(sandbox) as client:
            headers = amc_headers(await access_token(client))
            execution_id = (await create(client, headers, ad_hoc()))["workflowExecutionId"]
            await sandbox.wait_idle()
            rows, _ = await download(client, headers, execution_id)
    finally:
        sandbox.close()
    assert rows and rows[0].keys() == {"campaign", "impressions"}
