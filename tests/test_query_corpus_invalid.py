"""The invalid-query corpus: each file in ``tests/corpus/invalid/`` breaks exactly one documented AMC rule,
and both the local checks (strict, as for the sandbox) and the embedded sandbox reject it.

A file starts with comment headers, then the query:

- ``-- rule: <code>``: the :class:`~amc_magic.sqlcheck.Problem` code the checks report (and no error of another code);
- ``-- at: <line>:<column>``: where the first of those errors is (1-based, in the file as written);
- ``-- message: <text>``: a fragment its message (and the sandbox's 400 ``details``) contains; any number of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID, ManualClock, SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.sandbox.transport import SandboxTransport
from amc_magic.sqlcheck import check, errors

CORPUS = Path(__file__).parent / "corpus" / "invalid"
DOCUMENTED_RULES = {
    "limit",
    "order_by",
    "select_star",
    "unsupported_function",
    "right_join",
    "no_aggregation",
    "very_high_output",
    "literal_filter",
    "unknown_table",
    "unknown_column",
    "syntax",
    "placeholder",
}
NOT_CHECKED_LOCALLY: dict[str, str] = {}
LOCATED_BY_TEXT_SEARCH = {
    "getdate": "the sandbox locates an unknown function at its first mention, and the headers mention it first",
}
DATA = DataSpec(today=date(2026, 1, 15), scale=0.01)  # only its dates are used: no query runs


@dataclass(frozen=True)
class Case:
    name: str
    sql: str
    rule: str
    at: tuple[int, int]
    fragments: tuple[str, ...]


def _read(path: Path) -> Case:
    headers: dict[str, list[str]] = {}
    sql = path.read_text(encoding="utf-8")
    for line in sql.splitlines():
        if not line.startswith("-- ") or ":" not in line:
            break
        key, value = line[3:].split(":", 1)
        headers.setdefault(key.strip(), []).append(value.strip())
    line_text, column_text = headers["at"][0].split(":")
    return Case(path.stem, sql, headers["rule"][0], (int(line_text), int(column_text)), tuple(headers.get("message", [])))


CASES = [_read(path) for path in sorted(CORPUS.glob("*.sql"))]


def _local(case: Case) -> Any:
    if case.name in NOT_CHECKED_LOCALLY:
        return pytest.param(case, id=case.name, marks=pytest.mark.xfail(strict=True, reason=NOT_CHECKED_LOCALLY[case.name]))
    return pytest.param(case, id=case.name)


def test_the_corpus_has_15_queries_and_every_documented_rule() -> None:
    assert len(CASES) >= 15
    assert DOCUMENTED_RULES <= {case.rule for case in CASES}
    assert all(case.fragments for case in CASES)


@pytest.mark.parametrize("case", [_local(case) for case in CASES])
def test_the_local_checks_report_the_rule(case: Case) -> None:
    problems = errors(check(case.sql))
    assert {p.code for p in problems} == {case.rule}, [p.format() for p in problems]
    first = problems[0]
    assert (first.line, first.column) == case.at, first.format()
    for fragment in case.fragments:
        assert fragment in first.message


class _NoDatabase:
    """The sandbox's database for queries that must never run."""

    def run(self, sql: str, **_: Any) -> Any:
        raise AssertionError(f"the sandbox ran a query it should have rejected: {sql}")


@pytest.fixture
async def sandbox_client(tmp_path: Path):
    """An httpx client to an embedded sandbox (in-process), and AMC headers with a valid token."""
    sandbox = Sandbox(SandboxConfig(clock=ManualClock(), data=DATA, data_cache_dir=tmp_path), database=_NoDatabase())
    try:
        async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app), base_url="http://sandbox.test") as client:
            credentials = {"grant_type": "refresh_token", "refresh_token": "Atzr|t", "client_id": "c", "client_secret": "s"}
            token = (await client.post("/auth/o2/token", data=credentials)).json()["access_token"]
            headers = {
                "Authorization": f"Bearer {token}",
                "Amazon-Advertising-API-ClientId": "c",
                "Amazon-Advertising-API-AdvertiserId": ADVERTISER_ID,
                "Amazon-Advertising-API-MarketplaceId": MARKETPLACE_ID,
            }
            yield client, headers
    finally:
        sandbox.close()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_the_embedded_sandbox_rejects_it(case: Case, sandbox_client) -> None:
    client, headers = sandbox_client
    body = {"workflow": {"sqlQuery": case.sql}, "requireSyntheticData": True}
    response = await client.post(f"/amc/reporting/{INSTANCE_ID}/workflowExecutions", headers=headers, json=body)
    assert response.status_code == 400, response.text
    details = response.json()["details"]
    assert details.startswith("Was unable to compile workflow transient_")
    if case.name not in LOCATED_BY_TEXT_SEARCH:
        assert f"From line {case.at[0]}, column {case.at[1]}: " in details
    for fragment in case.fragments:
        assert fragment in details
