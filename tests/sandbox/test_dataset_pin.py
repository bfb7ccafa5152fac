"""The sandbox's default dataset is pinned: what the notebooks, README and users' saved results show.

The synthetic data is day-deterministic, so a few days of the default dataset (seed and scale) have a
fixed content whatever today is. This test holds a digest of those days for every table, and the row
counts of a known month. A change to the generator or the views changes them and fails here, with
what to do: a data change must come with a new ``FORMAT_VERSION`` (so no cached file of the old
format is ever read) and refreshed notebook outputs.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import duckdb
import pytest

from amc_magic import schema
from amc_magic.sandbox.data import DEFAULT_SEED, FORMAT_VERSION, DataSpec, ensure_database

PINNED_FORMAT_VERSION = 3
DIGEST_DAYS = ("2026-03-01", "2026-03-04")  # [start, end) in UTC
MONTH = ("2026-03-01", "2026-04-01")
PINNED_DIGESTS = {
    "amazon_attributed_events_by_conversion_time": "f3868d1e1ff498e7451a2f1b2c2b4e1a",
    "amazon_attributed_events_by_traffic_time": "3aa7d5b596d9efa46e70aaf6fd3b352b",
    "conversions": "83818ab7c71c12ec17dc4c121a310a6f",
    "conversions_with_relevance": "9062ee85f3ee4eb607965b864e50e12d",
    "dsp_clicks": "36c82ce717a29094b46b167f4595a5bf",
    "dsp_impressions": "505ea1be8327a7891296bc65171a35cd",
    "dsp_views": "acc4b143b2b2aa06495e7824c79cf190",
    "sponsored_ads_traffic": "3f490c7f992d6ef410f43dc2bd4ae809",
}
PINNED_MONTH_ROWS = {
    "amazon_attributed_events_by_conversion_time": 1941,
    "amazon_attributed_events_by_traffic_time": 1999,
    "conversions": 14712,
    "conversions_with_relevance": 88272,
    "dsp_clicks": 338,
    "dsp_impressions": 91815,
    "dsp_views": 127036,
    "sponsored_ads_traffic": 45609,
}

WHAT_TO_DO = (
    "If the change is intended: bump FORMAT_VERSION in src/amc_magic/sandbox/data.py, set PINNED_FORMAT_VERSION, "
    "PINNED_DIGESTS and PINNED_MONTH_ROWS here to the values printed above, and refresh the notebooks' outputs "
    "with `python -m pytest tests/test_notebooks.py --write-notebooks`."
)


@pytest.fixture(scope="module")
def default_dataset() -> duckdb.DuckDBPyConnection:
    """The default dataset as a new user gets it (in the run's fresh cache directory)."""
    spec = DataSpec(today=datetime.now(UTC).date())
    assert (spec.seed, spec.scale) == (DEFAULT_SEED, 1.0)
    con = duckdb.connect(str(ensure_database(spec)), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()


def _between(table: str, bounds: tuple[str, str]) -> str:
    column = schema.TABLES[table].time_column
    return f"{column} >= TIMESTAMP '{bounds[0]}' AND {column} < TIMESTAMP '{bounds[1]}'"


def measured(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], dict[str, int]]:
    digests, rows = {}, {}
    for table in sorted(schema.TABLES):
        rows_sql = f"SELECT CAST(t AS VARCHAR) AS r FROM (SELECT * FROM {table} WHERE {_between(table, DIGEST_DAYS)}) t"
        digests[table] = con.execute(f"SELECT md5(coalesce(string_agg(r, chr(10) ORDER BY r), '')) FROM ({rows_sql})").fetchone()[0]
        rows[table] = con.execute(f"SELECT count(*) FROM {table} WHERE {_between(table, MONTH)}").fetchone()[0]
    return digests, rows


def test_the_data_format_version_is_the_pinned_one(default_dataset):
    digests, rows = measured(default_dataset)
    assert FORMAT_VERSION == PINNED_FORMAT_VERSION, (
        f"FORMAT_VERSION is {FORMAT_VERSION} but the dataset was pinned for {PINNED_FORMAT_VERSION}.\n"
        f"PINNED_DIGESTS = {json.dumps(digests, indent=4)}\nPINNED_MONTH_ROWS = {json.dumps(rows, indent=4)}\n{WHAT_TO_DO}"
    )


def test_a_few_days_of_every_table_have_the_pinned_content(default_dataset):
    digests, rows = measured(default_dataset)
    changed = sorted(t for t in digests if PINNED_DIGESTS.get(t) != digests[t])
    assert not changed, (
        f"The sandbox's generated data changed for {', '.join(changed)} "
        f"({DIGEST_DAYS[0]} to {DIGEST_DAYS[1]}, seed {DEFAULT_SEED}).\n"
        f"PINNED_DIGESTS = {json.dumps(digests, indent=4)}\n{WHAT_TO_DO}"
    )


def test_a_known_month_has_the_pinned_row_counts(default_dataset):
    _, rows = measured(default_dataset)
    assert rows == PINNED_MONTH_ROWS, f"Row counts of March 2026 changed.\nPINNED_MONTH_ROWS = {json.dumps(rows, indent=4)}\n{WHAT_TO_DO}"


def test_cached_files_of_another_format_version_are_never_read(tmp_path):
    spec = DataSpec(today=date(2025, 1, 20), scale=0.01)
    stale = [
        tmp_path / spec.file_name.replace(f"-v{FORMAT_VERSION}-", f"-v{version}-").replace("20250118", "20250110")
        for version in (FORMAT_VERSION - 1, FORMAT_VERSION + 1)
    ]
    for path in stale:  # earlier last days: a generator ignoring the version would extend them
        path.write_bytes(b"not a database of this format")

    path = ensure_database(spec, tmp_path)

    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT min(impression_date_utc) FROM dsp_impressions").fetchone()[0] == date(2025, 1, 1)
    finally:
        con.close()
    assert all(p.read_bytes() == b"not a database of this format" for p in stale)
