"""The full AMC schema: every documented column exists, casts, is filled, and hangs together.

Column counts are those of Amazon's data-source pages (``en-us/guides/amazon-marketing-cloud/datasources/``
of the Amazon Ads documentation); a few columns the sandbox had before are kept on top of them.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from amc_magic import schema
from amc_magic.sandbox.problems import CompileProblem
from amc_magic.sandbox.storage import duckdb_type
from amc_magic.sqlcheck import check

ALL_TABLES = sorted(schema.TABLES)
ATTRIBUTED = ["amazon_attributed_events_by_conversion_time", "amazon_attributed_events_by_traffic_time"]
DOCUMENTED = {
    "dsp_impressions": 98,
    "dsp_clicks": 97,
    "dsp_views": 66,
    "sponsored_ads_traffic": 73,  # the page also has 4 rows without a name
    "amazon_attributed_events_by_conversion_time": 217,
    "amazon_attributed_events_by_traffic_time": 217,
    "conversions": 29,
    "conversions_with_relevance": 52,
}
KEPT = {  # columns of the sandbox's earlier schema that Amazon's pages do not list
    "dsp_impressions": {"os_name"},
    "dsp_clicks": {"os_name"},
    "sponsored_ads_traffic": {"ad_group_id", "device_type"},
    "amazon_attributed_events_by_conversion_time": {"marketplace_name"},
    "amazon_attributed_events_by_traffic_time": {"marketplace_name"},
}
OFF_AMAZON_ONLY = {"conversion_event_name", "conversion_event_source_name"}  # NULL for on-Amazon conversions
MARCH = {"window_start": datetime(2025, 3, 1), "window_end": datetime(2025, 4, 1)}


def test_every_table_has_the_documented_columns():
    assert set(schema.TABLES) == set(DOCUMENTED)
    for name, table in schema.TABLES.items():
        assert len(table.columns) == DOCUMENTED[name] + len(KEPT.get(name, ())), name
        assert len({c.name for c in table.columns}) == len(table.columns), name
        assert all(c.description and c.data_type for c in table.columns), name


def test_types_kinds_and_thresholds_follow_the_documentation():
    impressions = schema.TABLES["dsp_impressions"]
    assert impressions.column("impression_id") is None
    facts = {c.name: (c.data_type, c.kind.name, c.threshold.name) for c in impressions}
    assert facts["total_cost"] == ("DOUBLE", "METRIC", "NONE")
    assert facts["bid_price"] == ("LONG", "METRIC", "MEDIUM")
    assert facts["postal_code"] == ("STRING", "DIMENSION", "HIGH")
    assert facts["request_tag"] == ("STRING", "DIMENSION", "VERY_HIGH")
    assert facts["user_behavior_segment_ids"] == ("ARRAY<INTEGER>", "DIMENSION", "LOW")
    assert facts["placement_view_rate"][0] == "DECIMAL"
    views = schema.TABLES["dsp_views"]
    assert views.time_column == "event_dt_utc"
    assert views.column("impression_id").threshold is schema.Threshold.VERY_HIGH
    assert schema.TABLES["sponsored_ads_traffic"].column("campaign_start_date").data_type == "DATE"
    assert schema.TABLES["dsp_clicks"].column("click_cost").threshold is schema.Threshold.MEDIUM
    attributed = schema.TABLES[ATTRIBUTED[0]]
    assert attributed.column("deal_name").kind is schema.Kind.METRIC  # as Amazon documents it
    assert attributed.column("brand_halo_product_sales_views").data_type == "DECIMAL"
    relevance = schema.TABLES["conversions_with_relevance"]
    assert {"engagement_scope", "halo_code", "campaign", "campaign_id", "combined_sales"} <= {c.name for c in relevance}


def test_data_sources_lists_the_new_tables():
    sources = {s["dataSourceId"]: s for s in schema.data_sources()}
    assert {"dsp_views", "conversions_with_relevance"} <= set(sources)
    for name, table in schema.TABLES.items():
        assert len(sources[name]["columns"]) == len(table.columns)
    rebuilt = schema.tables_from_data_sources(list(sources.values()))
    assert rebuilt["dsp_views"] == schema.TABLES["dsp_views"]


@pytest.mark.parametrize("table", ALL_TABLES)
def test_every_column_casts_and_is_filled(raw_db, table):
    spec = schema.TABLES[table]
    described = dict((name, kind) for name, kind, *_ in raw_db.execute(f"DESCRIBE {table}").fetchall())
    assert described == {c.name: duckdb_type(c.data_type) for c in spec.columns}
    counts = ", ".join(f'count("{c.name}")' for c in spec.columns)
    rows, *filled = raw_db.execute(f"SELECT count(*), {counts} FROM {table}").fetchone()
    assert rows > 0
    empty = {c.name for c, n in zip(spec.columns, filled, strict=True) if n == 0}
    assert empty <= OFF_AMAZON_ONLY, empty


@pytest.mark.parametrize("table", ALL_TABLES)
def test_every_column_can_be_selected_through_the_sandbox(sandbox_db, table):
    spec = schema.TABLES[table]
    query = "SELECT " + ", ".join(f"MIN({c.name}) AS {c.name}" for c in spec.columns) + f" FROM {table}"
    output = sandbox_db.run(query, **MARCH, disable_aggregation_controls=True)
    expected = [(c.name, "STRING" if c.data_type.startswith("ARRAY") else c.data_type) for c in spec.columns]
    assert output.columns == expected
    assert output.table.num_rows == 1


def test_unknown_columns_and_new_thresholds_are_enforced(sandbox_db):
    with pytest.raises(CompileProblem, match="nope"):
        sandbox_db.run("SELECT nope FROM dsp_views", **MARCH)
    problems = check("SELECT impression_id, SUM(events) AS n FROM dsp_views GROUP BY 1")
    assert any("VERY_HIGH" in p.format() for p in problems)
    assert check("SELECT halo_code, SUM(conversions) AS n FROM conversions_with_relevance GROUP BY 1") == []
    query = "SELECT campaign, MIN(event_dt) AS first FROM dsp_views GROUP BY campaign"  # event_dt is MEDIUM
    kept = set(sandbox_db.run(query, **MARCH).table.column("campaign").to_pylist())
    uncontrolled = sandbox_db.run(query, **MARCH, disable_aggregation_controls=True)
    everything = set(uncontrolled.table.column("campaign").to_pylist())
    assert "Lumen - Loyalty Pilot" in everything - kept


# --- consistency ------------------------------------------------------------------------------


def test_dsp_costs_add_up(raw_db):
    bad, days, cheaper = raw_db.execute("""
        SELECT count(*) FILTER (WHERE abs(total_cost * 1000 - (supply_cost + audience_fee + platform_fee
                   + managed_service_fee + ocm_fee + third_party_fees)) > 0.01
                   OR supply_cost <> impression_cost * 1000 OR platform_fee <> impression_cost * 100),
               count(DISTINCT impression_date_utc),
               count(*) FILTER (WHERE bid_price < supply_cost)
        FROM dsp_impressions
    """).fetchone()
    assert bad == 0 and cheaper == 0
    per_day = raw_db.execute("""
        SELECT count(*) FROM (SELECT impression_date_utc, SUM(total_cost) AS total, SUM(impression_cost) AS media
                              FROM dsp_impressions GROUP BY 1) WHERE total < media
    """).fetchone()[0]
    assert days > 80 and per_day == 0


def test_search_terms_only_on_sponsored_products(raw_db):
    by_product = dict(
        raw_db.execute(
            "SELECT ad_product_type, count(customer_search_term) FROM sponsored_ads_traffic GROUP BY 1"
        ).fetchall()
    )
    assert by_product.pop("sponsored_products") > 0
    assert set(by_product.values()) == {0}
    assert raw_db.execute(
        f"SELECT count(*) FROM {ATTRIBUTED[0]} WHERE customer_search_term IS NOT NULL "
        "AND ad_product_type IS DISTINCT FROM 'sponsored_products'"
    ).fetchone()[0] == 0


def test_view_events_belong_to_impressions(raw_db):
    events, orphans, measurable, viewable, unmatched_views = raw_db.execute("""
        SELECT count(*),
               count(*) FILTER (WHERE i.request_tag IS NULL),
               sum(v.measurable_impressions), sum(v.viewable_impressions),
               count(*) FILTER (WHERE v.event_type = 'VIEW' AND NOT EXISTS (SELECT 1 FROM dsp_views m
                   WHERE m.impression_id = v.impression_id AND m.event_type = 'MEASURABLE_IMP'))
        FROM dsp_views v
        LEFT JOIN dsp_impressions i ON i.request_tag = v.impression_id AND i.user_id = v.user_id
            AND i.campaign_id = v.campaign_id AND i.impression_dt_utc = v.event_dt_utc AND i.site = v.site
    """).fetchone()
    impressions = raw_db.execute("SELECT count(*) FROM dsp_impressions").fetchone()[0]
    assert events > impressions // 2 and orphans == 0 and unmatched_views == 0
    assert 0 < viewable < measurable <= impressions
    most = raw_db.execute("""
        SELECT max(n) FROM (SELECT impression_id, event_type, count(*) AS n FROM dsp_views GROUP BY 1, 2)
    """).fetchone()[0]
    assert most == 1


def test_clicks_share_their_impressions_request_tag(raw_db):
    clicks, orphans = raw_db.execute("""
        SELECT count(*), count(*) FILTER (WHERE i.request_tag IS NULL)
        FROM dsp_clicks c LEFT JOIN dsp_impressions i
          ON i.request_tag = c.request_tag AND i.impression_dt_utc = c.impression_dt_utc AND i.site = c.site
    """).fetchone()
    assert clicks > 50 and orphans == 0


def _families(table: str) -> list[str]:
    names = {c.name for c in schema.TABLES[table]}
    return sorted(n for n in names if f"{n}_clicks" in names and f"{n}_views" in names)


@pytest.mark.parametrize("table", ATTRIBUTED)
def test_attributed_click_and_view_splits_add_up(raw_db, table):
    families = _families(table)
    assert len(families) == 30
    broken = " OR ".join(
        f"{f} <> {f}_clicks + {f}_views OR ({f}_clicks <> 0 AND clicks = 0) OR ({f}_views <> 0 AND impressions = 0)"
        for f in families
    )
    halo = " OR ".join(
        f"{prefix}total_{base} <> {prefix}{base} + {prefix}brand_halo_{base}"
        for prefix in ("", "new_to_brand_")
        for base in ("purchases", "units_sold", "product_sales")
    )
    rows, bad, bad_halo, credited = raw_db.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE {broken}), count(*) FILTER (WHERE {halo}),
               count(*) FILTER (WHERE impressions + clicks <> 1 OR (clicks = 1) <> (click_dt_utc IS NOT NULL)
                                   OR (impressions = 1) <> (impression_dt_utc IS NOT NULL))
        FROM {table}
    """).fetchone()
    assert rows > 100 and (bad, bad_halo, credited) == (0, 0, 0)
    both = raw_db.execute(f"SELECT sum(purchases_clicks), sum(purchases_views), sum(brand_halo_purchases) FROM {table}")
    assert all(total > 0 for total in both.fetchone())


def test_attributed_rows_carry_their_traffic_events_attributes(raw_db):
    dsp, dsp_without, sa_with_dsp, sa_ids = raw_db.execute(f"""
        SELECT count(*) FILTER (WHERE ad_product_type IS NULL),
               count(*) FILTER (WHERE ad_product_type IS NULL
                                  AND (line_item IS NULL OR request_tag IS NULL OR supply_source IS NULL)),
               count(*) FILTER (WHERE ad_product_type IS NOT NULL
                                  AND (request_tag IS NOT NULL OR postal_code IS NOT NULL)),
               count(*) FILTER (WHERE ad_product_type IS NOT NULL AND traffic_event_id IS NULL)
        FROM {ATTRIBUTED[0]}
    """).fetchone()
    assert dsp > 0 and (dsp_without, sa_with_dsp, sa_ids) == (0, 0, 0)
    unmatched = raw_db.execute(f"""
        SELECT count(*) FROM {ATTRIBUTED[0]} p WHERE p.traffic_event_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sponsored_ads_traffic s WHERE s.event_id = p.traffic_event_id AND s.user_id = p.user_id)
    """).fetchone()[0]
    assert unmatched == 0


def test_sponsored_video_funnel_narrows(raw_db):
    funnel = raw_db.execute("""
        SELECT sum(impressions), sum(five_sec_views), sum(video_first_quartile_views), sum(video_midpoint_views),
               sum(video_third_quartile_views), sum(video_complete_views), sum(viewable_impressions)
        FROM sponsored_ads_traffic WHERE creative_type = 'video'
    """).fetchone()
    assert list(funnel[:6]) == sorted(funnel[:6], reverse=True) and funnel[5] > 0
    assert raw_db.execute(
        "SELECT count(*) FROM sponsored_ads_traffic WHERE creative_type <> 'video' AND five_sec_views > 0"
    ).fetchone()[0] == 0


def test_local_times_follow_the_advertiser_time_zone(raw_db):
    checks = {
        "sponsored_ads_traffic": ("event_dt", "event_dt_utc"),
        "dsp_views": ("event_dt", "event_dt_utc"),
        "conversions_with_relevance": ("event_dt", "event_dt_utc"),
        ATTRIBUTED[0]: ("conversion_event_dt", "conversion_event_dt_utc"),
        "dsp_clicks": ("click_dt", "click_dt_utc"),
    }
    for table, (local, utc) in checks.items():
        wrong = raw_db.execute(f"""
            SELECT count(*) FROM {table}
            WHERE {local} <> timezone(advertiser_timezone, timezone('UTC', {utc})) OR advertiser_timezone IS NULL
        """).fetchone()[0]
        assert wrong == 0, table


def test_relevance_pairs_each_conversion_with_its_advertisers_campaigns(raw_db):
    conversions, pairs, promoted, halo, mismatched = raw_db.execute("""
        SELECT count(DISTINCT conversion_id), count(*),
               count(*) FILTER (WHERE engagement_scope = 'PROMOTED'),
               count(*) FILTER (WHERE engagement_scope = 'BRAND_HALO'),
               count(*) FILTER (WHERE (engagement_scope = 'PROMOTED') <> (halo_code = 'TRACKED_ASIN'))
        FROM conversions_with_relevance
    """).fetchone()
    assert conversions == raw_db.execute("SELECT count(*) FROM conversions").fetchone()[0]
    assert pairs == 6 * conversions  # every advertiser runs six campaigns
    assert promoted > 0 and halo > 0 and mismatched == 0
    sa_ids = raw_db.execute(
        "SELECT count(*) FROM conversions_with_relevance WHERE campaign_id IS NULL AND campaign_id_string IS NOT NULL"
    ).fetchone()[0]
    assert sa_ids > 0  # AMC: campaign_id is for DSP campaigns only
