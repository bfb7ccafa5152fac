"""The sandbox over a real loopback socket (uvicorn in a background thread)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from amc_magic.sandbox.serve import ServedSandbox
from sandbox_support import BASE, CREDENTIALS, ad_hoc, amc_headers, build_small_database, small_data_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory):
    return build_small_database(tmp_path_factory.getbasetemp() / "sandbox-data")


async def test_create_poll_download_over_loopback(database) -> None:
    with ServedSandbox(small_data_config(), database=database) as served:
        assert served.base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
            token = (await client.post("/auth/o2/token", data=CREDENTIALS)).json()["access_token"]
            headers = amc_headers(token)
            created = await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc())
            assert created.status_code == 200, created.text
            execution_id = created.json()["workflowExecutionId"]
            await served.sandbox.wait_idle()
            for _ in range(3):  # bounded poll: the query has finished, so this ends at once
                status = (await client.get(f"{BASE}/workflowExecutions/{execution_id}", headers=headers)).json()[
                    "status"
                ]
                if status == "SUCCEEDED":
                    break
            assert status == "SUCCEEDED"
            urls = (await client.get(f"{BASE}/workflowExecutions/{execution_id}/downloadUrls", headers=headers)).json()
            assert all(url.startswith(served.base_url) for url in urls["downloadUrls"])
            async with httpx.AsyncClient(timeout=30) as plain:  # links carry no Authorization header
                files = [await plain.get(url) for url in urls["downloadUrls"]]
    rows = [row for f in files for row in csv.DictReader(io.StringIO(f.text))]
    assert rows and set(rows[0]) == {"campaign", "impressions"}


async def test_dropped_create_aborts_the_connection(database) -> None:
    with ServedSandbox(small_data_config(dropped_creates=1, queue_seconds=3600), database=database) as served:
        async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
            token = (await client.post("/auth/o2/token", data=CREDENTIALS)).json()["access_token"]
            headers = amc_headers(token)
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc())
            listed = (await client.get(f"{BASE}/workflowExecutions", headers=headers)).json()["executions"]
    assert [e["status"] for e in listed] == ["PENDING"]
