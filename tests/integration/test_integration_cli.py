"""The ``amc-magic`` command: ``run``, ``history`` and ``sandbox serve`` as processes, and its failures.

Each process imports the whole stack (about two seconds), so the happy paths share few processes;
the failures run ``main()`` in-process, apart from one that proves the point for a real process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from amc_magic.cli import main
from amc_magic.history import HistoryStore
from amc_magic.sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID
from amc_magic.sandbox.data import DataSpec, default_cache_dir, ensure_database

CAMPAIGNS = ["Northwind - Always On Prospecting", "Lumen - Remarketing"]
QUERY = """-- impressions of the chosen campaigns
SELECT campaign, {{label}} AS label, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN ({{campaigns}})
GROUP BY campaign
HAVING SUM(impressions) >= {{floor}}
"""
WINDOW = ["--start", "2025-03-01", "--end", "2025-03-31"]
PARAMS = ["--param", f'campaigns=["{CAMPAIGNS[0]}", "{CAMPAIGNS[1]}"]', "--param", "floor=1", "--param", "label=Mother's Day"]

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def cli_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``XDG_CACHE_HOME`` of the CLI's processes, with the embedded sandbox's default data in it."""
    home = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home))
        ensure_database(DataSpec(today=datetime.now(UTC).date()), default_cache_dir())
    return home


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    monkeypatch.setenv("AMC_MAGIC_DB_URL", url)
    return url


@pytest.fixture
def query_file(tmp_path: Path) -> Path:
    path = tmp_path / "campaigns.sql"
    path.write_text(QUERY, encoding="utf-8")
    return path


@pytest.fixture
def amc_magic(tmp_path: Path, database_url: str, cli_cache_home: Path) -> Cli:
    """Run ``python -m amc_magic.cli ARGS`` with the test's history database and sandbox data cache."""
    environment = {**os.environ, "XDG_CACHE_HOME": str(cli_cache_home)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "amc_magic.cli", *args]
        return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)

    return run


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_run_prints_the_table_with_rendered_parameters_and_history_lists_it(
    amc_magic: Cli, query_file: Path, database_url: str
) -> None:
    ran = amc_magic("run", str(query_file), "--instance", "sandbox", *WINDOW, *PARAMS)
    listed = amc_magic("history")

    assert ran.returncode == 0, ran.stderr
    header, *rows = ran.stdout.splitlines()
    assert header.split() == ["campaign", "label", "impressions"]
    campaigns = [row.strip().partition(" Mother's Day ")[0] for row in rows]
    assert sorted(campaigns) == sorted(CAMPAIGNS)  # each row: campaign, the rendered label, impressions
    store = HistoryStore.from_url(database_url)
    try:
        (record,) = store.list_executions()
    finally:
        store.close()
    assert record.parameter_values == {
        "label": "'Mother''s Day'",
        "campaigns": f"'{CAMPAIGNS[0]}', '{CAMPAIGNS[1]}'",
        "floor": "1",
    }
    assert f"WHERE campaign IN ('{CAMPAIGNS[0]}', '{CAMPAIGNS[1]}')" in record.rendered_sql
    assert "HAVING SUM(impressions) >= 1" in record.rendered_sql
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()[1:]
    assert line.split()[:3] == [record.short_id, record.amc_execution_id[:8], "SUCCEEDED"]
    assert "2025-03-01 → 2025-04-01" in line and "SELECT campaign" in line


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_run_writes_csv_and_parquet_files_the_second_from_the_cache(
    amc_magic: Cli, query_file: Path, tmp_path: Path, database_url: str
) -> None:
    as_csv = amc_magic("run", str(query_file), "--instance", "sandbox", *WINDOW, *PARAMS, "-o", "out.csv", "--quiet")
    as_parquet = amc_magic("run", str(query_file), "--instance", "sandbox", *WINDOW, *PARAMS, "-o", "out.parquet")

    assert as_csv.returncode == 0 and as_csv.stdout == "" and as_csv.stderr == ""
    assert as_parquet.returncode == 0 and as_parquet.stdout == ""
    assert "from the cache" in as_parquet.stderr and "Wrote 2 rows to out.parquet" in as_parquet.stderr
    from_csv, from_parquet = pd.read_csv(tmp_path / "out.csv"), pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=False)
    assert sorted(from_parquet["campaign"]) == sorted(CAMPAIGNS) and set(from_parquet["label"]) == {"Mother's Day"}
    assert str(from_parquet["impressions"].dtype) == "Int64"
    store = HistoryStore.from_url(database_url)
    try:
        (record,) = store.list_executions()
    finally:
        store.close()
    assert record.row_count == 2


RUN_ON_SANDBOX = ["run", "{sql}", "--instance", "sandbox"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["run", "missing.sql", "--instance", "sandbox"], "Cannot read 'missing.sql'", id="missing-file"),
        pytest.param(["run", "{bad_sql}", "--instance", "sandbox", *WINDOW], "AMC would reject this query", id="bad-sql"),
        pytest.param([*RUN_ON_SANDBOX, "--window", "fortnightly", *PARAMS], "fortnightly", id="bad-window"),
        pytest.param([*RUN_ON_SANDBOX, *WINDOW, *PARAMS, "-o", "out.xlsx"], ".csv or .parquet", id="bad-output"),
        pytest.param([*RUN_ON_SANDBOX, *WINDOW, *PARAMS, "--param", "floor=NaN"], "floor", id="bad-param"),
        pytest.param([*RUN_ON_SANDBOX, *WINDOW, "--param", "floor"], "NAME=VALUE", id="bad-param-pair"),
        pytest.param([*RUN_ON_SANDBOX, "--bogus"], "unrecognized arguments: --bogus", id="unknown-flag"),
        pytest.param(["run", "{sql}", "--instance", "amcnotconnected", *WINDOW, *PARAMS], "Unknown AMC instance", id="unknown-instance"),
        pytest.param(["history", "--limit", "0"], "--limit must be at least 1", id="bad-limit"),
    ],
)
def test_a_failure_exits_non_zero_with_one_line(
    arguments: list[str],
    message: str,
    query_file: Path,
    tmp_path: Path,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad_sql = tmp_path / "bad.sql"
    bad_sql.write_text("SELECT campaign, SUM(impressions) AS impressions\nFROM dsp_impresions\nGROUP BY campaign\n")
    argv = [argument.format(sql=query_file, bad_sql=bad_sql) for argument in arguments]

    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own exit, for usage mistakes
        code = exit.code

    out, err = capsys.readouterr()
    assert code not in (0, None) and out == ""
    assert err.count("\n") == 1 and err.endswith("\n") and err.startswith("amc-magic"), err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_missing_credentials_for_a_connected_instance_exit_with_one_line(
    amc_magic: Cli, query_file: Path, database_url: str
) -> None:
    store = HistoryStore.from_url(database_url)
    try:
        store.save_instance(
            "amcrealinst1", entity_id="ENTITY1A2B3C", marketplace_id=MARKETPLACE_ID, api_url="https://advertising-api.amazon.com"
        )
    finally:
        store.close()

    ran = amc_magic("run", str(query_file), "--instance", "amcrealinst1", *WINDOW, *PARAMS)

    assert ran.returncode == 1 and ran.stdout == ""
    assert ran.stderr.startswith("amc-magic: AMC credentials are missing: AMC_CLIENT_ID, AMC_CLIENT_SECRET, AMC_REFRESH_TOKEN")
    assert ran.stderr.count("\n") == 1 and ran.stderr.endswith("\n")


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_sandbox_serve_answers_the_token_endpoint_and_lists_its_instance(tmp_path: Path) -> None:
    port = _free_port()
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}  # it runs no query: no data needed
    command = [sys.executable, "-m", "amc_magic.cli", "sandbox", "serve", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        token = _wait_for_token(server, f"{base_url}/auth/o2/token")
        headers = {
            "Authorization": f"Bearer {token}",
            "Amazon-Advertising-API-ClientId": "amzn1.application-oa2-client.cli",
            "Amazon-Advertising-API-AdvertiserId": ADVERTISER_ID,
            "Amazon-Advertising-API-MarketplaceId": MARKETPLACE_ID,
        }
        listed = httpx.get(f"{base_url}/amc/instances", headers=headers, timeout=10)
        forged = {**headers, "Authorization": "Bearer Atza|forged"}
        refused = httpx.get(f"{base_url}/amc/instances", headers=forged, timeout=10)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=15)

    assert listed.status_code == 200 and refused.status_code == 401
    (instance,) = listed.json()["instances"]
    assert instance["instanceId"] == INSTANCE_ID and instance["instanceType"] == "SANDBOX"
    assert server.returncode in (0, -signal.SIGTERM), stderr  # uvicorn shuts down, then re-raises the signal
    assert f"AMC_API_URL={base_url}" in stderr and "Finished server process" in stderr
    assert "Traceback" not in stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_token(server: subprocess.Popen[str], token_url: str, timeout: float = 30) -> str:
    """Ask the served token endpoint for an access token until the server is up."""
    form = {"grant_type": "refresh_token", "refresh_token": "Atzr|cli", "client_id": "cli", "client_secret": "cli"}
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = httpx.post(token_url, data=form, timeout=5)
            answer.raise_for_status()
            return str(answer.json()["access_token"])
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"amc-magic sandbox serve did not come up: {server.communicate()[1]}") from None
            time.sleep(0.1)


def test_run_workflow_uses_the_saved_template_and_values_and_links_the_execution(
    database_url: str, cli_cache_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from amc_magic.workflows import save

    monkeypatch.setenv("XDG_CACHE_HOME", str(cli_cache_home))
    store = HistoryStore.from_url(database_url)
    try:
        saved = save(store, "march_impressions", QUERY, {"campaigns": CAMPAIGNS, "floor": 1, "label": "saved"},
                     options={"start": "2025-03-01", "end": "2025-03-31"})
    finally:
        store.close()
    assert main(["run", "--workflow", "march_impressions", "--quiet", "--param", "label=from cron"]) == 0
    out = capsys.readouterr().out
    assert "from cron" in out and CAMPAIGNS[1] in out
    store = HistoryStore.from_url(database_url)
    try:
        [record] = store.list_executions()
    finally:
        store.close()
    assert (record.workflow_id, record.workflow_version) == (saved.workflow.id, 1)
    assert record.window_start is not None and record.window_start.date().isoformat() == "2025-03-01"
    assert main(["run", "--workflow", "wf_000000000000", "--quiet"]) == 1
    assert "No workflow matches" in capsys.readouterr().err
