"""The REST API on a real Jupyter server: listing, filters, detail, downloads, cancel, changes.

Every test runs on SQLite and on PostgreSQL, with credentials in the environment that no
response may contain.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pandas as pd
import pytest
from tornado.httpclient import HTTPClientError

from amc_magic.history import HistoryStore, utc_now
from server_support import HOSTILE_IDS, REACH_FRAME, as_json, assert_no_secret, body_text, seed

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def history(db_url: str):
    store = HistoryStore.from_url(db_url)
    yield store, seed(store)
    store.close()


async def fetch_error(jp_fetch, *parts, **kwargs) -> HTTPClientError:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(*parts, **kwargs)
    return caught.value


async def test_the_extension_is_loaded_and_reports_its_database(jp_fetch, jp_serverapp, db_url) -> None:
    assert "amc_magic" in jp_serverapp.extension_manager.extensions
    status = as_json(await jp_fetch("amc-magic", "api", "status"))
    assert status["database"] == db_url.split(":")[0] and status["poller"] is None
    assert db_url not in json.dumps(status)


async def test_executions_are_listed_newest_first_with_amc_status_names(jp_fetch, history) -> None:
    _, made = history
    listed = as_json(await jp_fetch("amc-magic", "api", "executions"))
    by_id = {row["id"]: row for row in listed["executions"]}
    assert listed["count"] == 4 and set(by_id) == {record.id for record in made.values()}
    assert [row["id"] for row in listed["executions"]][0] == made["succeeded"].id
    done = by_id[made["succeeded"].id]
    assert done["status"] == "SUCCEEDED" and done["row_count"] == 3 and done["column_count"] == 3 and done["has_result"]
    assert done["sql_summary"].startswith("SELECT 'succeeded' AS kind") and done["window"] == "2026-03-01 → 2026-04-01"
    assert done["window_start"] == "2026-03-01T00:00:00Z" and done["duration_seconds"] >= 0
    assert by_id[made["running"].id]["live"] and by_id[made["creating"].id]["status"] == "CREATING"
    assert by_id[made["failed"].id]["status_reason"] == "Query timed out after 6 h."


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "RUNNING"}, {"running"}),
        ({"status": "running,failed"}, {"running", "failed"}),
        ({"instance": "amcinstance02"}, {"failed"}),
        ({"instance": "amcinstance01", "status": "SUCCEEDED"}, {"succeeded"}),
        ({"since": "2020-01-01"}, {"creating", "running", "failed", "succeeded"}),
        ({"since": "2099-01-01T00:00:00Z"}, set()),
        ({"workflow": "no-such-workflow"}, set()),
        ({"limit": "1"}, {"succeeded"}),
        ({"unknown": "ignored", "_": "1"}, {"creating", "running", "failed", "succeeded"}),
    ],
    ids=["status", "statuses", "instance", "instance-and-status", "since", "future", "workflow", "limit", "others"],
)
async def test_filters_select_executions(jp_fetch, history, params, expected) -> None:
    _, made = history
    listed = as_json(await jp_fetch("amc-magic", "api", "executions", params=params))
    names = {name for name, record in made.items() if record.id in {row["id"] for row in listed["executions"]}}
    assert names == expected


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"status": "DONE"}, "Unknown status"),
        ({"status": "RUNNING'; DROP TABLE amc_executions; --"}, "Unknown status"),
        ({"instance": "amc instance"}, "instance must be"),
        ({"instance": "x" * 300}, "instance must be"),
        ({"instance": "a\x00b"}, "instance must be"),  # Tornado turns control characters into spaces
        ({"workflow": "w" * 300}, "workflow must be"),
        ({"since": "yesterday"}, "since must be an ISO 8601"),
        ({"since": "2026-13-45"}, "since must be an ISO 8601"),
        ({"since": "9" * 5000}, "since must be an ISO 8601"),
        ({"limit": "0"}, "limit must be"),
        ({"limit": "-5"}, "limit must be"),
        ({"limit": "ten"}, "limit must be"),
        ({"limit": "1000000"}, "limit must be"),
        ({"limit": "١٢"}, "limit must be"),
    ],
)
async def test_bad_filters_are_a_400_with_a_clear_message(jp_fetch, history, params, says) -> None:
    error = await fetch_error(jp_fetch, "amc-magic", "api", "executions", params=params)
    assert error.code == 400
    assert says in as_json(error.response)["message"]
    assert "sqlalchemy" not in body_text(error.response).lower()


async def test_a_repeated_single_valued_filter_is_refused(jp_fetch, history) -> None:
    error = await fetch_error(jp_fetch, "amc-magic", "api", "executions", params=[("instance", "a"), ("instance", "b")])
    assert error.code == 400 and "at most once" in as_json(error.response)["message"]


async def test_one_execution_by_local_id_amc_id_or_prefix(jp_fetch, history) -> None:
    _, made = history
    failed = made["failed"]
    for ref in (failed.id, failed.amc_execution_id, failed.id[:8], failed.amc_execution_id[:12].upper()):
        detail = as_json(await jp_fetch("amc-magic", "api", "executions", ref))
        assert detail["id"] == failed.id, ref
    assert detail["sql"].startswith("-- failed") and detail["status_reason"] == "Query timed out after 6 h."
    assert detail["submitted_at"] and detail["finished_at"] and detail["window_end"] == "2026-04-01T00:00:00Z"
    done = as_json(await jp_fetch("amc-magic", "api", "executions", made["succeeded"].id))
    assert done["row_count"] == 3 and [c["name"] for c in done["output_columns"]] == ["campaign", "reach", "day"]


@pytest.mark.parametrize("ref", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
@pytest.mark.parametrize("tail", ["", "result", "preview", "cancel"])
async def test_hostile_ids_are_a_400_or_404(jp_fetch, history, ref, tail) -> None:
    method = {"method": "POST", "body": b""} if tail == "cancel" else {}
    parts = ["amc-magic", "api", "executions", ref] + ([tail] if tail else [])
    error = await fetch_error(jp_fetch, *parts, **method)
    assert error.code in (400, 404), (error.code, body_text(error.response)[:200])
    if error.code == 400 or "amc-magic" in body_text(error.response):
        assert set(as_json(error.response)) == {"message", "hint"}


async def test_an_ambiguous_prefix_is_a_404_that_says_so(jp_fetch, history) -> None:
    error = await fetch_error(jp_fetch, "amc-magic", "api", "executions", "amc-")
    assert error.code == 404 and "several executions" in as_json(error.response)["message"]


async def test_results_download_as_csv_and_parquet(jp_fetch, history) -> None:
    _, made = history
    done = made["succeeded"]
    csv = await jp_fetch("amc-magic", "api", "executions", done.id, "result", params={"format": "csv"})
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.headers["Content-Disposition"] == f'attachment; filename="amc-{done.short_id}.csv"'
    assert pd.read_csv(io.BytesIO(csv.body))["reach"].tolist()[:2] == [1200, 34]
    default = await jp_fetch("amc-magic", "api", "executions", done.amc_execution_id, "result")
    assert default.body == csv.body

    parquet = await jp_fetch("amc-magic", "api", "executions", done.short_id, "result", params={"format": "parquet"})
    assert parquet.headers["Content-Disposition"].endswith('.parquet"')
    frame = pd.read_parquet(io.BytesIO(parquet.body))
    pd.testing.assert_series_equal(frame["reach"], REACH_FRAME["reach"])

    error = await fetch_error(jp_fetch, "amc-magic", "api", "executions", done.id, "result", params={"format": "xlsx"})
    assert error.code == 400 and "csv or parquet" in as_json(error.response)["message"]
    missing = await fetch_error(jp_fetch, "amc-magic", "api", "executions", made["running"].id, "result")
    assert missing.code == 404 and "still RUNNING" in as_json(missing.response)["message"]


async def test_a_preview_has_the_first_rows_as_json(jp_fetch, history) -> None:
    _, made = history
    preview = as_json(await jp_fetch("amc-magic", "api", "executions", made["succeeded"].id, "preview", params={"limit": "2"}))
    assert preview["columns"] == ["campaign", "reach", "day"] and preview["row_count"] == 3 and preview["truncated"]
    assert preview["rows"] == [["Spring Sale", 1200, "2026-03-01"], ["Mother's Day", 34, "2026-03-02"]]
    whole = as_json(await jp_fetch("amc-magic", "api", "executions", made["succeeded"].id, "preview"))
    assert whole["rows"][2][:2] == [None, None] and not whole["truncated"]
    for bad in ("0", "501", "x"):
        error = await fetch_error(jp_fetch, "amc-magic", "api", "executions", made["succeeded"].id, "preview", params={"limit": bad})
        assert error.code == 400


async def test_cancelling_a_live_execution_and_refusing_an_ended_one(jp_fetch, history) -> None:
    store, made = history
    cancelled = as_json(await jp_fetch("amc-magic", "api", "executions", made["creating"].id, "cancel", method="POST", body=b""))
    assert cancelled["status"] == "CANCELLED" and cancelled["status_reason"] == "Cancelled before it reached AMC."
    assert store.get_execution(made["creating"].id).status == "CANCELLED"
    error = await fetch_error(jp_fetch, "amc-magic", "api", "executions", made["succeeded"].id, "cancel", method="POST", body=b"")
    assert error.code == 409 and "already ended SUCCEEDED" in as_json(error.response)["message"]


async def test_the_change_feed_reports_what_changed_since_its_cursor(jp_fetch, history) -> None:
    store, made = history
    first = as_json(await jp_fetch("amc-magic", "api", "changes"))
    assert first["executions"] == [] and first["cursor"].endswith("Z")
    everything = as_json(await jp_fetch("amc-magic", "api", "changes", params={"since": "2020-01-01"}))
    assert len(everything["executions"]) == 4
    cursor = (utc_now() + timedelta(seconds=1)).isoformat()
    assert as_json(await jp_fetch("amc-magic", "api", "changes", params={"since": cursor}))["executions"] == []
    error = await fetch_error(jp_fetch, "amc-magic", "api", "changes", params={"since": "soon"})
    assert error.code == 400


async def test_no_response_contains_a_secret_or_the_token(jp_fetch, jp_serverapp, history) -> None:
    _, made = history
    texts = []
    for parts, params in (
        (("status",), None),
        (("executions",), None),
        (("changes",), {"since": "2020-01-01"}),
        (("executions", made["succeeded"].id), None),
        (("executions", made["succeeded"].id, "result"), None),
        (("executions", made["succeeded"].id, "preview"), None),
    ):
        texts.append(body_text(await jp_fetch("amc-magic", "api", *parts, params=params)))
    # The running execution's instance was never connected: the cancel fails, and says so without secrets.
    refused = await fetch_error(jp_fetch, "amc-magic", "api", "executions", made["running"].id, "cancel", method="POST", body=b"")
    assert refused.code == 503 and "Unknown AMC instance" in as_json(refused.response)["message"]
    texts.append(body_text(refused.response))
    texts.append(body_text((await fetch_error(jp_fetch, "amc-magic", "api", "executions", "nope")).response))
    page = await jp_fetch("amc-magic/")
    texts.append(body_text(page))
    assert_no_secret(texts, extra=[jp_serverapp.identity_provider.token])

