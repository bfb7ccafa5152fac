"""The synthetic data: schema, consistency, skew, determinism, and the on-disk cache."""

from __future__ import annotations

import shutil
import threading
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from amc_magic import schema
from amc_magic.errors import OptionError
from amc_magic.sandbox.data import FIRST_DAY, FORMAT_VERSION, DataSpec, ensure_database
from amc_magic.sandbox.rng import KeyedRandom, uniform
from amc_magic.sandbox.storage import USER_KEY, duckdb_type, keyed_view

ALL_TABLES = sorted(schema.TABLES)


def _fingerprint(path: Path, table: str, where: str = "TRUE") -> tuple[int, int]:
    """Row count and sum of row hashes of ``table``: equal for equal multisets of rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT count(*), sum(CAST(hash(t) AS HUGEINT)) FROM {table} AS t WHERE {where}").fetchone()
    finally:
        con.close()


@pytest.mark.parametrize("table", ALL_TABLES)
def test_tables_have_exactly_the_schema_columns_and_types(raw_db, table):
    described = raw_db.execute(f"DESCRIBE {table}").fetchall()
    expected = [(c.name, duckdb_type(c.data_type)) for c in schema.TABLES[table].columns]
    assert [(name, kind) for name, kind, *_ in described] == expected


@pytest.mark.parametrize("table", ALL_TABLES)
def test_each_table_is_its_keyed_view_whose_user_keys_are_its_users(raw_db, table):
    keyed = keyed_view(table)
    described = [name for name, *_ in raw_db.execute(f"DESCRIBE {keyed}").fetchall()]
    assert described == [c.name for c in schema.TABLES[table].columns] + [USER_KEY]
    mismatched, keys, users = raw_db.execute(f"""
        SELECT count(*) FILTER (WHERE user_id IS DISTINCT FROM format('{{:016x}}', {USER_KEY})),
               count(DISTINCT {USER_KEY}), count(DISTINCT user_id)
        FROM {keyed}""").fetchone()
    assert mismatched == 0 and keys == users > 0


def test_data_runs_from_the_first_day_to_two_days_before_today(raw_db, sandbox_spec):
    days = "SELECT min(impression_date_utc), max(impression_date_utc) FROM dsp_impressions"
    first, last = raw_db.execute(days).fetchone()
    assert (first, last) == (FIRST_DAY, sandbox_spec.today - timedelta(days=2))
    assert (first, last) == (sandbox_spec.first_day, sandbox_spec.last_day)
    for table in ALL_TABLES:
        time_column = schema.TABLES[table].time_column
        latest = raw_db.execute(f"SELECT max({time_column}) FROM {table}").fetchone()[0]
        assert latest.date() <= sandbox_spec.last_day


def test_every_click_follows_an_impression_of_the_same_user_and_campaign(raw_db):
    clicks, orphans, not_after = raw_db.execute("""
        SELECT count(*),
               count(*) FILTER (WHERE i.user_id IS NULL),
               count(*) FILTER (WHERE c.click_dt_utc <= c.impression_dt_utc)
        FROM dsp_clicks c
        LEFT JOIN dsp_impressions i
          ON i.user_id = c.user_id AND i.campaign_id = c.campaign_id AND i.impression_dt_utc = c.impression_dt_utc
    """).fetchone()
    assert clicks > 50
    assert orphans == 0 and not_after == 0


ATTRIBUTED = ["amazon_attributed_events_by_conversion_time", "amazon_attributed_events_by_traffic_time"]


@pytest.mark.parametrize("table", ATTRIBUTED)
def test_attributed_conversions_follow_traffic_within_14_days(raw_db, table):
    pairs, too_late, early, missing_conversion, missing_traffic = raw_db.execute(f"""
        SELECT count(*),
               count(*) FILTER (WHERE conversion_event_dt_utc - traffic_event_dt_utc >= INTERVAL 14 DAY),
               count(*) FILTER (WHERE conversion_event_dt_utc < traffic_event_dt_utc),
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM conversions c WHERE c.user_id = p.user_id
                   AND c.event_dt_utc = p.conversion_event_dt_utc AND c.tracked_asin = p.tracked_asin)),
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM dsp_impressions i WHERE i.user_id = p.user_id AND i.campaign_id = p.campaign_id
                   AND i.impression_dt_utc = p.traffic_event_dt_utc)
                 AND NOT EXISTS (
                   SELECT 1 FROM dsp_clicks k WHERE k.user_id = p.user_id AND k.campaign_id = p.campaign_id
                   AND k.click_dt_utc = p.traffic_event_dt_utc)
                 AND NOT EXISTS (
                   SELECT 1 FROM sponsored_ads_traffic s WHERE s.user_id = p.user_id AND s.campaign_id = p.campaign_id
                   AND s.event_dt_utc = p.traffic_event_dt_utc))
        FROM {table} p
    """).fetchone()
    assert pairs > 100
    assert (too_late, early, missing_conversion, missing_traffic) == (0, 0, 0, 0)


def test_both_attributed_tables_hold_the_same_pairs(sandbox_file):
    con = duckdb.connect(str(sandbox_file), read_only=True)
    try:
        differing = con.execute("""
            SELECT count(*) FROM (
                (SELECT * FROM amazon_attributed_events_by_conversion_time
                 EXCEPT ALL SELECT * FROM amazon_attributed_events_by_traffic_time)
                UNION ALL
                (SELECT * FROM amazon_attributed_events_by_traffic_time
                 EXCEPT ALL SELECT * FROM amazon_attributed_events_by_conversion_time))
        """).fetchone()[0]
    finally:
        con.close()
    assert differing == 0


def test_attributed_purchases_are_orders_of_the_campaign_advertisers_products(raw_db):
    bad = raw_db.execute("""
        SELECT count(*) FROM amazon_attributed_events_by_conversion_time
        WHERE purchases > total_purchases OR units_sold > total_units_sold OR product_sales > total_product_sales
           OR (total_purchases = 1) <> (conversion_event_subtype = 'order')
    """).fetchone()[0]
    assert bad == 0
    advertisers_per_asin = raw_db.execute("""
        SELECT max(n) FROM (SELECT tracked_asin, count(DISTINCT advertiser_id) AS n
                            FROM amazon_attributed_events_by_conversion_time GROUP BY 1)
    """).fetchone()[0]
    assert advertisers_per_asin == 1


def test_campaigns_belong_to_one_advertiser(raw_db):
    for table in ("dsp_impressions", "dsp_clicks", "amazon_attributed_events_by_traffic_time"):
        per_campaign = f"SELECT campaign_id, count(DISTINCT advertiser_id) AS n FROM {table} GROUP BY 1"
        assert raw_db.execute(f"SELECT max(n) FROM ({per_campaign})").fetchone()[0] == 1


def test_traffic_is_skewed_with_small_campaigns_under_100_users(raw_db):
    reach = dict(raw_db.execute("SELECT campaign, count(DISTINCT user_id) FROM dsp_impressions GROUP BY 1").fetchall())
    small = [name for name, users in reach.items() if users < 100]
    big = sorted(reach.values(), reverse=True)[:3]
    assert len(small) >= 3
    assert min(big) > 10 * max(reach[name] for name in small)
    small_sa = "SELECT campaign FROM sponsored_ads_traffic GROUP BY 1 HAVING count(DISTINCT user_id) < 100"
    assert raw_db.execute(f"SELECT count(*) FROM ({small_sa})").fetchone()[0] >= 1


@pytest.mark.parametrize(
    ("table", "column", "at_least"),
    [
        ("dsp_impressions", "device_type", 5),
        ("dsp_impressions", "supply_source", 5),
        ("dsp_impressions", "iso_country_code", 4),
        ("dsp_impressions", "creative_type", 3),
        ("sponsored_ads_traffic", "ad_product_type", 4),
        ("sponsored_ads_traffic", "match_type", 4),
        ("conversions", "event_subtype", 3),
    ],
)
def test_dimensions_have_several_values(raw_db, table, column, at_least):
    assert raw_db.execute(f"SELECT count(DISTINCT {column}) FROM {table}").fetchone()[0] >= at_least


def test_local_times_follow_the_advertiser_time_zone(raw_db):
    wrong = raw_db.execute("""
        SELECT count(*) FROM dsp_impressions WHERE advertiser = 'Lumen Home'
        AND impression_dt <> timezone('America/New_York', timezone('UTC', impression_dt_utc))
    """).fetchone()[0]
    assert wrong == 0


def test_two_independent_generations_are_identical(sandbox_file, independent_file):
    assert sandbox_file != independent_file
    for table in ALL_TABLES:
        assert _fingerprint(sandbox_file, table) == _fingerprint(independent_file, table), table


def test_a_later_today_extends_the_data_and_keeps_earlier_days(tmp_path, sandbox_file, sandbox_spec):
    earlier = DataSpec(today=sandbox_spec.today - timedelta(days=20), seed=sandbox_spec.seed, scale=sandbox_spec.scale)
    old_path = ensure_database(earlier, tmp_path)
    snapshot = shutil.copyfile(old_path, tmp_path.parent / f"{tmp_path.name}-snapshot.duckdb")

    new_path = ensure_database(sandbox_spec, tmp_path)  # extends the earlier file

    assert not old_path.exists()  # replaced by the extended file
    cutoff = f"'{earlier.last_day + timedelta(days=1)}'"
    for table in ALL_TABLES:
        # The extended file equals a fresh generation ...
        assert _fingerprint(new_path, table) == _fingerprint(sandbox_file, table), table
        # ... and holds the earlier file's rows unchanged: everything that happened by its last day.
        time_column = "conversion_event_dt_utc" if table in ATTRIBUTED else schema.TABLES[table].time_column
        past = f"{time_column} < {cutoff}"
        assert _fingerprint(new_path, table, past) == _fingerprint(snapshot, table, past), table


def test_a_cached_file_is_reused(tmp_path):
    spec = DataSpec(today=date(2025, 1, 20), seed=3, scale=0.05)
    first = ensure_database(spec, tmp_path)
    modified = first.stat().st_mtime_ns
    assert ensure_database(spec, tmp_path) == first
    assert first.stat().st_mtime_ns == modified
    assert first.name == f"amc-sandbox-v{FORMAT_VERSION}-seed3-scale0.05-20250118.duckdb"


def test_concurrent_generators_leave_one_complete_file(tmp_path):
    spec = DataSpec(today=date(2025, 1, 20), seed=5, scale=0.05)
    paths, errors = [], []

    def generate() -> None:
        try:
            paths.append(ensure_database(spec, tmp_path))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=generate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(paths)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [spec.file_name]
    con = duckdb.connect(str(paths[0]), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM dsp_impressions").fetchone()[0] > 0
    finally:
        con.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"scale": 0}, "must be positive"), ({"today": date(2025, 1, 2)}, "too early")],
)
def test_invalid_specs_are_refused(fields, message):
    with pytest.raises(OptionError, match=message):
        DataSpec(**{"today": date(2025, 4, 3), **fields})


def test_keyed_random_values_are_fixed_for_a_seed():
    # Pinned values: the data of a seed must not change with NumPy or the machine.
    rows = KeyedRandom(7).row(1, np.array([0, 1, 2]), 5)
    assert rows.tolist() == [12330307603827073796, 8650940309832813009, 17064196944651538483]
    assert np.allclose(uniform(rows, 3), [0.22969235991833636, 0.9489891274923047, 0.9955906645950435])
    assert KeyedRandom(7).row(1, np.array([2]), 5).tolist() == rows[2:].tolist()


def test_extending_reuses_the_earlier_file(tmp_path):
    earlier = DataSpec(today=date(2025, 1, 20), seed=5, scale=0.05)
    old_path = ensure_database(earlier, tmp_path)
    con = duckdb.connect(str(old_path))
    try:  # a marker only the earlier file has
        con.execute(
            "INSERT INTO _conversion_events (ts, asin, subtype, units, new_to_brand, user_hash, key) "
            "VALUES (TIMESTAMP '2025-01-05 10:00:00', 0, 0, 0, false, 1, 42)"
        )
    finally:
        con.close()
    new_path = ensure_database(DataSpec(today=date(2025, 1, 25), seed=5, scale=0.05), tmp_path)
    con = duckdb.connect(str(new_path), read_only=True)
    try:
        marker = "SELECT count(*) FROM conversions WHERE conversion_id = '000000000000002a'"
        assert con.execute(marker).fetchone()[0] == 1
        assert con.execute("SELECT max(event_date_utc) FROM conversions").fetchone()[0] == date(2025, 1, 23)
    finally:
        con.close()


def test_an_unwritable_cache_directory_is_a_clear_configuration_error(tmp_path):
    from amc_magic.errors import ConfigurationError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigurationError, match="XDG_CACHE_HOME"):
        ensure_database(DataSpec(today=date(2025, 2, 3), scale=0.01), blocker / "cache")
