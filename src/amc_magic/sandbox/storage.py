"""How the synthetic data is laid out in DuckDB.

Events are stored compactly: one fact table per kind of event (times, small integer codes, user hashes,
amounts) and small dimension tables built from ``catalog``. The six AMC tables of
:data:`amc_magic.schema.TABLES` are views over them that join the names back in and cast every column
to the DuckDB type of its AMC type (:func:`duckdb_type`), in the schema's order. Both attributed tables
are views of the same stored pairs. Fact and dimension tables start with ``_``; queries reach only the
views (the SQL translation knows no other table).
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pyarrow as pa

from .. import schema
from . import catalog as cat
from .generate import ASINS_PER_ADVERTISER, CAMPAIGNS, SA_FIRST, Columns, DayBatch, sa_targets

_FACTS: dict[str, str] = {
    "_dsp_impression_events": "ts TIMESTAMP, campaign INTEGER, line_item INTEGER, creative INTEGER, supply INTEGER, "
    "app BOOLEAN, device INTEGER, postal INTEGER, user_hash UBIGINT, cost BIGINT, bid BIGINT",
    "_dsp_click_events": "ts TIMESTAMP, impression_ts TIMESTAMP, campaign INTEGER, line_item INTEGER, "
    "creative INTEGER, supply INTEGER, app BOOLEAN, device INTEGER, postal INTEGER, user_hash UBIGINT",
    "_sa_events": "ts TIMESTAMP, campaign INTEGER, target INTEGER, term INTEGER, placement INTEGER, asin INTEGER, "
    "device INTEGER, user_hash UBIGINT, spend BIGINT, is_click BOOLEAN, key UBIGINT",
    "_conversion_events": "ts TIMESTAMP, asin INTEGER, subtype INTEGER, units BIGINT, new_to_brand BOOLEAN, "
    "user_hash UBIGINT, key UBIGINT",
    "_attributed_events": "conversion_ts TIMESTAMP, traffic_ts TIMESTAMP, campaign INTEGER, asin INTEGER, "
    "subtype INTEGER, units BIGINT, new_to_brand BOOLEAN, is_click BOOLEAN, user_hash UBIGINT",
}


def _hex(column: str) -> str:
    """SQL for a 64-bit hash as 16 hex digits (how user, event and conversion ids look)."""
    return f"format('{{:016x}}', {column})"


_DSP_JOINS = """
    JOIN _campaigns c ON c.campaign = e.campaign
    JOIN _line_items li ON li.campaign = e.campaign AND li.line_item = e.line_item
    JOIN _creatives cr ON cr.campaign = e.campaign AND cr.creative = e.creative
    JOIN _supply s ON s.supply = e.supply
    JOIN _devices d ON d.device = e.device
    JOIN _postal_codes p ON p.postal = e.postal"""
_LOCAL = "timezone(c.time_zone, timezone('UTC', e.ts))"
_DSP_COLUMNS = {
    "advertiser": "c.advertiser",
    "advertiser_id": "c.advertiser_id",
    "campaign": "c.name",
    "campaign_id": "c.campaign_id",
    "line_item": "li.name",
    "line_item_id": "li.line_item_id",
    "creative": "cr.name",
    "creative_id": "cr.creative_id",
    "creative_type": "cr.creative_type",
    "creative_size": "cr.creative_size",
    "device_type": "d.device_type",
    "supply_source": "s.name",
    "environment_type": "CASE WHEN e.app THEN 'App' ELSE 'Web' END",
    "os_name": "d.os_name",
    "iso_country_code": "p.iso_country_code",
    "iso_state_province_code": "p.iso_state_province_code",
    "dma_code": "p.dma_code",
    "city_name": "p.city_name",
    "postal_code": "p.postal_code",
    "currency_name": f"'{cat.CURRENCY_NAME}'",
    "currency_iso_code": f"'{cat.CURRENCY_CODE}'",
    "entity_id": f"'{cat.ENTITY_ID}'",
    "user_id": _hex("e.user_hash"),
    "user_id_type": f"'{cat.USER_ID_TYPE}'",
}
_VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "dsp_impressions": (
        "_dsp_impression_events e" + _DSP_JOINS,
        {
            **_DSP_COLUMNS,
            "impression_dt_utc": "e.ts",
            "impression_dt": _LOCAL,
            "impression_date_utc": "CAST(e.ts AS DATE)",
            "impression_date": f"CAST({_LOCAL} AS DATE)",
            "impressions": "1",
            "impression_cost": "e.cost",
            "total_cost": "e.cost * 1.15",
            "bid_price": "e.bid",
        },
    ),
    "dsp_clicks": (
        "_dsp_click_events e" + _DSP_JOINS,
        {
            **_DSP_COLUMNS,
            "click_dt_utc": "e.ts",
            "click_dt": _LOCAL,
            "click_date_utc": "CAST(e.ts AS DATE)",
            "impression_dt_utc": "e.impression_ts",
            "clicks": "1",
            "click_cost": "0",
        },
    ),
    "sponsored_ads_traffic": (
        """_sa_events e
    JOIN _campaigns c ON c.campaign = e.campaign
    JOIN _targets t ON t.target = e.target AND t.term = e.term
    JOIN _placements p ON p.campaign = e.campaign AND p.placement = e.placement
    JOIN _asins a ON a.asin = e.asin
    JOIN _devices d ON d.device = e.device""",
        {
            "entity_id": f"'{cat.ENTITY_ID}'",
            "ad_product_type": "c.ad_product_type",
            "campaign": "c.name",
            "campaign_id": "c.campaign_id",
            "ad_group": "t.ad_group",
            "ad_group_id": "t.ad_group_id",
            "targeting": "t.targeting",
            "match_type": "t.match_type",
            "customer_search_term": "t.customer_search_term",
            "placement_type": "p.name",
            "creative_asin": "a.name",
            "marketplace_name": f"'{cat.MARKETPLACE}'",
            "device_type": "d.device_type",
            "event_dt_utc": "e.ts",
            "event_date_utc": "CAST(e.ts AS DATE)",
            "impressions": "CASE WHEN e.is_click THEN 0 ELSE 1 END",
            "clicks": "CASE WHEN e.is_click THEN 1 ELSE 0 END",
            "spend": "e.spend",
            "user_id": _hex("e.user_hash"),
            "event_id": _hex("e.key"),
        },
    ),
    "conversions": (
        """_conversion_events e
    JOIN _asins a ON a.asin = e.asin
    JOIN _subtypes st ON st.subtype = e.subtype""",
        {
            "event_dt_utc": "e.ts",
            "event_date_utc": "CAST(e.ts AS DATE)",
            "event_type": "'CONVERSION'",
            "event_subtype": "st.name",
            "event_category": "st.category",
            "tracked_asin": "a.name",
            "marketplace_name": f"'{cat.MARKETPLACE}'",
            "conversions": "1",
            "total_product_sales": "e.units * a.price",
            "total_units_sold": "e.units",
            "new_to_brand": "e.new_to_brand",
            "conversion_id": _hex("e.key"),
            "user_id": _hex("e.user_hash"),
        },
    ),
}
_ATTRIBUTED = (
    """_attributed_events e
    JOIN _campaigns c ON c.campaign = e.campaign
    JOIN _asins a ON a.asin = e.asin
    JOIN _subtypes st ON st.subtype = e.subtype
    LEFT JOIN _promoted pr ON pr.campaign = e.campaign AND pr.asin = e.asin""",
    {
        "advertiser": "c.advertiser",
        "advertiser_id": "c.advertiser_id",
        "ad_product_type": "c.ad_product_type",
        "campaign": "c.name",
        "campaign_id": "c.campaign_id",
        "tracked_asin": "a.name",
        "tracked_item": "a.name",
        "conversion_event_subtype": "st.name",
        "traffic_event_type": "CASE WHEN e.is_click THEN 'CLICK' ELSE 'IMPRESSION' END",
        "marketplace_name": f"'{cat.MARKETPLACE}'",
        "traffic_event_dt_utc": "e.traffic_ts",
        "conversion_event_dt_utc": "e.conversion_ts",
        "conversion_event_date_utc": "CAST(e.conversion_ts AS DATE)",
        "conversions": "1",
        "purchases": "CASE WHEN st.is_order AND pr.asin IS NOT NULL THEN 1 ELSE 0 END",
        "total_purchases": "CASE WHEN st.is_order THEN 1 ELSE 0 END",
        "units_sold": "CASE WHEN pr.asin IS NOT NULL THEN e.units ELSE 0 END",
        "total_units_sold": "e.units",
        "product_sales": "CASE WHEN pr.asin IS NOT NULL THEN e.units * a.price ELSE 0 END",
        "total_product_sales": "e.units * a.price",
        "new_to_brand": "e.new_to_brand",
        "impressions": "CASE WHEN e.is_click THEN 0 ELSE 1 END",
        "clicks": "CASE WHEN e.is_click THEN 1 ELSE 0 END",
        "user_id": _hex("e.user_hash"),
    },
)
_VIEWS["amazon_attributed_events_by_conversion_time"] = _ATTRIBUTED
_VIEWS["amazon_attributed_events_by_traffic_time"] = _ATTRIBUTED

# Credit each conversion, per campaign of the product's advertiser, to the campaign's last click in the
# 14 days before it, else its last impression (ties broken by the traffic event's hash).
_ATTRIBUTE = """
INSERT INTO _attributed_events BY NAME
SELECT e.ts AS conversion_ts, t.ts AS traffic_ts, t.campaign, e.asin, e.subtype, e.units, e.new_to_brand,
    t.is_click, e.user_hash
FROM _batch_conversions e
JOIN _batch_traffic t ON t.user = e.user AND t.advertiser = e.advertiser
    AND t.ts <= e.ts AND t.ts > e.ts - INTERVAL 14 DAY
QUALIFY row_number() OVER (PARTITION BY e.key, t.campaign ORDER BY t.is_click DESC, t.ts DESC, t.key DESC) = 1
ORDER BY e.ts, e.key, t.campaign"""


def duckdb_type(amc_type: str) -> str:
    """The DuckDB type of an AMC column type."""
    return {"LONG": "BIGINT", "DECIMAL": "DECIMAL(38,4)", "STRING": "VARCHAR"}.get(amc_type, amc_type)


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the dimension tables, the empty fact tables and the six AMC views."""
    for name, table in _dimensions().items():
        con.register("_dimension", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _dimension")
        con.unregister("_dimension")
    for name, columns in _FACTS.items():
        con.execute(f"CREATE TABLE {name} ({columns})")
    for table in schema.TABLES.values():
        source, expressions = _VIEWS[table.name]
        select = ",\n    ".join(
            f'CAST({expressions[c.name]} AS {duckdb_type(c.data_type)}) AS "{c.name}"' for c in table.columns
        )
        con.execute(f'CREATE VIEW "{table.name}" AS\nSELECT\n    {select}\nFROM {source}')


def append(con: duckdb.DuckDBPyConnection, batch: DayBatch) -> None:
    """Insert a batch of days' events and credit its conversions to earlier traffic."""
    inputs = {
        "_dsp_impression_events": batch.dsp_impressions,
        "_dsp_click_events": batch.dsp_clicks,
        "_sa_events": batch.sa_events,
        "_conversion_events": batch.conversions,
    }
    for name, columns in inputs.items():
        _insert(con, name, columns)
    con.register("_batch_conversions", _arrow(batch.conversions))
    con.register("_batch_traffic", _arrow(batch.traffic))
    try:
        con.execute(_ATTRIBUTE)
    finally:
        con.unregister("_batch_conversions")
        con.unregister("_batch_traffic")


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: Columns) -> None:
    names = [spec.split()[0] for spec in _FACTS[table].split(", ")]
    con.register("_batch", _arrow({name: columns[name] for name in names}))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _batch")
    finally:
        con.unregister("_batch")


def _arrow(columns: Columns) -> pa.Table:
    return pa.table(
        {
            name: pa.array(values, type=pa.timestamp("us"))
            if name == "ts" or name.endswith("_ts")
            else pa.array(values)
            for name, values in columns.items()
        }
    )


def _dimensions() -> dict[str, pa.Table]:
    """The catalog's entities as tables keyed by the codes events use."""
    advertisers = {a.advertiser_id: a for a in cat.ADVERTISERS}
    advertiser_index = {a.advertiser_id: k for k, a in enumerate(cat.ADVERTISERS)}
    dsp = list(enumerate(cat.DSP_CAMPAIGNS))
    sizes = cat.CREATIVE_SIZES
    sa = list(enumerate(cat.SA_CAMPAIGNS, start=SA_FIRST))
    targets = [
        (t, k, group_name, CAMPAIGNS[k].campaign_id * 100 + g + 1, target, term_k, term)
        for t, (k, group_name, g, target) in enumerate(sa_targets())
        for term_k, term in (list(enumerate(target.search_terms)) or [(-1, None)])
    ]
    subtypes = [s[0] for s in cat.CONVERSION_SUBTYPES]
    tables: dict[str, dict[str, list]] = {
        "_campaigns": {
            "campaign": list(range(len(CAMPAIGNS))),
            "campaign_id": [c.campaign_id for c in CAMPAIGNS],
            "name": [c.name for c in CAMPAIGNS],
            "ad_product_type": [getattr(c, "ad_product_type", None) for c in CAMPAIGNS],
            "advertiser_id": [c.advertiser_id for c in CAMPAIGNS],
            "advertiser": [advertisers[c.advertiser_id].name for c in CAMPAIGNS],
            "time_zone": [advertisers[c.advertiser_id].time_zone for c in CAMPAIGNS],
        },
        "_line_items": {
            "campaign": [k for k, c in dsp for _ in c.line_items],
            "line_item": [j for _, c in dsp for j in range(len(c.line_items))],
            "name": [f"{c.name.split(' - ')[-1]} | {li}" for _, c in dsp for li in c.line_items],
            "line_item_id": [c.campaign_id * 10 + j + 1 for _, c in dsp for j in range(len(c.line_items))],
        },
        "_creatives": {
            "campaign": [k for k, c in dsp for _ in sizes[c.creative_type]],
            "creative": [j for _, c in dsp for j in range(len(sizes[c.creative_type]))],
            "name": [
                f"{c.name.split(' - ')[0]} {c.creative_type.title()} {size}"
                for _, c in dsp
                for size in sizes[c.creative_type]
            ],
            "creative_id": [c.campaign_id * 100 + j + 1 for _, c in dsp for j in range(len(sizes[c.creative_type]))],
            "creative_type": [c.creative_type for _, c in dsp for _ in sizes[c.creative_type]],
            "creative_size": [s for _, c in dsp for s in sizes[c.creative_type]],
        },
        "_supply": {"supply": list(range(len(cat.SUPPLY_SOURCES))), "name": [s[0] for s in cat.SUPPLY_SOURCES]},
        "_devices": {
            "device": list(range(len(cat.DEVICES))),
            "device_type": [d[0] for d in cat.DEVICES],
            "os_name": [d[1] for d in cat.DEVICES],
        },
        "_postal_codes": {
            "postal": list(range(sum(len(p[4]) for p in cat.PLACES))),
            "iso_country_code": [p[0] for p in cat.PLACES for _ in p[4]],
            "iso_state_province_code": [p[1] for p in cat.PLACES for _ in p[4]],
            "dma_code": [p[2] for p in cat.PLACES for _ in p[4]],
            "city_name": [p[3] for p in cat.PLACES for _ in p[4]],
            "postal_code": [code for p in cat.PLACES for code in p[4]],
        },
        "_targets": {
            "target": [r[0] for r in targets],
            "term": [r[5] for r in targets],
            "ad_group": [r[2] for r in targets],
            "ad_group_id": [r[3] for r in targets],
            "targeting": [r[4].targeting for r in targets],
            "match_type": [r[4].match_type for r in targets],
            "customer_search_term": [r[6] for r in targets],
        },
        "_placements": {
            "campaign": [k for k, c in sa for _ in cat.PLACEMENTS[c.ad_product_type]],
            "placement": [j for _, c in sa for j in range(len(cat.PLACEMENTS[c.ad_product_type]))],
            "name": [p[0] for _, c in sa for p in cat.PLACEMENTS[c.ad_product_type]],
        },
        "_asins": {
            "asin": list(range(ASINS_PER_ADVERTISER * len(cat.ADVERTISERS))),
            "name": [asin for a in cat.ADVERTISERS for asin in a.asins],
            "price": [Decimal(str(p)) for a in cat.ADVERTISERS for p in a.prices],
        },
        "_promoted": {
            "campaign": [k for k, c in enumerate(CAMPAIGNS) for _ in c.promoted],
            "asin": [
                advertiser_index[c.advertiser_id] * ASINS_PER_ADVERTISER + p for c in CAMPAIGNS for p in c.promoted
            ],
        },
        "_subtypes": {
            "subtype": list(range(len(subtypes))),
            "name": subtypes,
            "category": ["purchase" if s == "order" else "website" for s in subtypes],
            "is_order": [s == "order" for s in subtypes],
        },
    }
    return {name: pa.table(columns) for name, columns in tables.items()}
