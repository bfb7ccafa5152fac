"""How the synthetic data is laid out in DuckDB.

Events are stored compactly: one fact table per kind of event (times, small integer codes, hash keys,
user hashes, amounts) and small dimension tables built from ``catalog``. Each AMC table of
:data:`amc_magic.schema.TABLES` is a view over them (its SQL is in ``views``) that joins the names back
in, derives the other columns and casts every column to the DuckDB type of its AMC type
(:func:`duckdb_type`), in the schema's order. Both attributed tables are views of the same stored pairs,
``dsp_views`` expands each DSP impression into its view events (``_view_rows``), and
``conversions_with_relevance`` pairs each conversion with every campaign of its advertiser. Fact and
dimension tables start with ``_``; queries name only the AMC tables (the SQL translation knows no other).

Each AMC view is its keyed view (:func:`keyed_view`) without the last column, :data:`USER_KEY`: the
user's 64-bit hash, whose 16 hex digits are ``user_id`` (one hash, one user). The SQL translation reads
the keyed views, so that the aggregation thresholds count each row's users on the hashes, a few times
cheaper than formatting every ``user_id`` and hashing the strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from .. import schema
from . import catalog as cat
from .generate import ASINS_PER_ADVERTISER, CAMPAIGNS, SA_FIRST, Columns, DayBatch, sa_targets
from .view_columns import USER_KEY
from .views import VIEWS

_FACTS: dict[str, str] = {
    "_dsp_impression_events": "ts TIMESTAMP, campaign INTEGER, line_item INTEGER, creative INTEGER, supply INTEGER, "
    "app BOOLEAN, device INTEGER, postal INTEGER, user_hash UBIGINT, cost BIGINT, bid BIGINT, key UBIGINT, "
    "view_code TINYINT",
    "_dsp_click_events": "ts TIMESTAMP, impression_ts TIMESTAMP, campaign INTEGER, line_item INTEGER, "
    "creative INTEGER, supply INTEGER, app BOOLEAN, device INTEGER, postal INTEGER, user_hash UBIGINT, bid BIGINT, "
    "impression_key UBIGINT",
    "_sa_events": "ts TIMESTAMP, campaign INTEGER, target INTEGER, term INTEGER, placement INTEGER, asin INTEGER, "
    "device INTEGER, user_hash UBIGINT, spend BIGINT, is_click BOOLEAN, key UBIGINT",
    "_conversion_events": "ts TIMESTAMP, asin INTEGER, subtype INTEGER, units BIGINT, new_to_brand BOOLEAN, "
    "user_hash UBIGINT, key UBIGINT",
    "_attributed_events": "conversion_ts TIMESTAMP, traffic_ts TIMESTAMP, campaign INTEGER, asin INTEGER, "
    "subtype INTEGER, units BIGINT, new_to_brand BOOLEAN, is_click BOOLEAN, user_hash UBIGINT, traffic_key UBIGINT, "
    "tag UBIGINT, line_item INTEGER, creative INTEGER, supply INTEGER, app BOOLEAN, cost BIGINT, bid BIGINT, "
    "target INTEGER, term INTEGER, placement INTEGER, ad_asin INTEGER, device INTEGER, postal INTEGER",
}

# Credit each conversion, per campaign of the product's advertiser, to the campaign's last click in the
# 14 days before it, else its last impression (ties broken by the traffic event's hash). The pair keeps
# the traffic event's codes (DSP line item to sponsored ads target) and the user's device and place.
_ATTRIBUTE = """
INSERT INTO _attributed_events BY NAME
SELECT e.ts AS conversion_ts, t.ts AS traffic_ts, t.campaign, e.asin, e.subtype, e.units, e.new_to_brand,
    t.is_click, e.user_hash, t.key AS traffic_key, t.tag, t.line_item, t.creative, t.supply, t.app, t.cost, t.bid,
    t.target, t.term, t.placement, t.ad_asin, e.device, e.postal
FROM _batch_conversions e
JOIN _batch_traffic t ON t.user = e.user AND t.advertiser = e.advertiser
    AND t.ts <= e.ts AND t.ts > e.ts - INTERVAL 14 DAY
QUALIFY row_number() OVER (PARTITION BY e.key, t.campaign ORDER BY t.is_click DESC, t.ts DESC, t.key DESC) = 1
ORDER BY e.ts, e.key, t.campaign"""


def duckdb_type(amc_type: str) -> str:
    """The DuckDB type of an AMC column type (``ARRAY<LONG>`` is ``BIGINT[]``)."""
    if amc_type.startswith("ARRAY<") and amc_type.endswith(">"):
        return duckdb_type(amc_type[6:-1]) + "[]"
    return {"LONG": "BIGINT", "DECIMAL": "DECIMAL(38,4)", "STRING": "VARCHAR"}.get(amc_type, amc_type)


def keyed_view(table: str) -> str:
    """The name of AMC table ``table``'s view with :data:`USER_KEY` as a last column."""
    return f"_keyed_{table}"


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the dimension tables, the empty fact tables and, per AMC table, its keyed view and view."""
    for name, table in _dimensions().items():
        con.register("_dimension", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _dimension")
        con.unregister("_dimension")
    for name, columns in _FACTS.items():
        con.execute(f"CREATE TABLE {name} ({columns})")
    for table in schema.TABLES.values():
        source, expressions = VIEWS[table.name]
        columns = [f'CAST({expressions[c.name]} AS {duckdb_type(c.data_type)}) AS "{c.name}"' for c in table.columns]
        select = ",\n    ".join([*columns, f'{expressions[USER_KEY]} AS "{USER_KEY}"'])
        keyed = keyed_view(table.name)
        con.execute(f'CREATE VIEW "{keyed}" AS\nSELECT\n    {select}\nFROM {source}')
        names = ", ".join(f'"{c.name}"' for c in table.columns)
        con.execute(f'CREATE VIEW "{table.name}" AS SELECT {names} FROM "{keyed}"')


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


def _utc(local: datetime, time_zone: str) -> datetime:
    """A naive local time of ``time_zone`` as naive UTC."""
    return local.replace(tzinfo=ZoneInfo(time_zone)).astimezone(UTC).replace(tzinfo=None)


def _campaign_table() -> dict[str, list]:
    """Every campaign with its advertiser, flight, budget, settings and (DSP) fee rates."""
    advertisers = {a.advertiser_id: (k, a) for k, a in enumerate(cat.ADVERTISERS)}
    rows = []
    for k, c in enumerate(CAMPAIGNS):
        index, advertiser = advertisers[c.advertiser_id]
        dsp = isinstance(c, cat.DspCampaign)
        if dsp:
            budget_dollars = c.daily * c.cpm / 1000 * 400
            creative_type, price_type = c.creative_type, "CPM"
        else:
            per_event = c.price / 1000 if not c.pays_per_click else c.price * max(c.ctr, 0.01)
            budget_dollars = c.daily * per_event * 400
            video = c.ad_product_type == "sponsored_tv" or "Video" in c.name
            creative_type, price_type = ("video" if video else "static_image"), ("CPC" if c.pays_per_click else "CPM")
        zone = advertiser.time_zone
        rows.append({
            "campaign": k,
            "campaign_id": c.campaign_id,
            "name": c.name,
            "ad_product_type": None if dsp else c.ad_product_type,
            "is_dsp": dsp,
            "advertiser_id": c.advertiser_id,
            "advertiser": advertiser.name,
            "advertiser_index": index,
            "time_zone": zone,
            "merchant_id": c.advertiser_id * 1000 + 7,
            "budget": round(budget_dollars) * 100_000,  # millicents
            "budget_type": "LIFETIME_BUDGET" if c.small else "DAILY_BUDGET",
            "flight_id": c.campaign_id * 10 + 1 if dsp else None,
            "insertion_order_id": f"IO-{c.advertiser_id}-{c.campaign_id}" if dsp else None,
            "primary_goal": c.goal if dsp else None,
            "sales_type": "BONUS" if c.daily < 3 else "BILLABLE",
            "source": "AMAZON_DSP" if dsp else "SPONSORED_ADS",
            "status": "RUNNING" if dsp else "ENABLED",
            "portfolio_id": None if dsp else c.advertiser_id * 100 + (2 if c.small else 1),
            "portfolio_name": None if dsp else f"{advertiser.name} - {'Tests' if c.small else 'Always On'}",
            "product_line": ("Managed service" if c.managed else "Self service") if dsp else None,
            "creative_type": creative_type,
            "price_type": price_type,
            "audience_fee": round(c.audience_cpm * 100_000) if dsp else None,  # microcents per impression
            "platform_rate": cat.PLATFORM_FEE_RATE if dsp else None,
            "managed_rate": (cat.MANAGED_SERVICE_FEE_RATE if c.managed else 0.0) if dsp else None,
            "ocm_rate": (cat.OCM_FEE_RATE if c.omnichannel else 0.0) if dsp else None,
            "frequency_group_ids": ([] if c.small else [c.advertiser_id * 100 + 11]) if dsp else None,
            "manager_frequency_group_ids": [990001] if dsp else None,
            "start_local": cat.FLIGHT_START,
            "start_utc": _utc(cat.FLIGHT_START, zone),
            "end_local": cat.FLIGHT_END,
            "end_utc": _utc(cat.FLIGHT_END, zone),
        })
    return {name: [row[name] for row in rows] for name in rows[0]}


_LINE_ITEM_TYPES = {"display": "AAP_DISPLAY", "video": "AAP_VIDEO_CPM", "audio": "AAP_AUDIO"}
_UNTARGETED = ("Contextual", "Broad", "Radius")  # line items that target no behavior segment


def _dsp_tables() -> dict[str, dict[str, list]]:
    """Line items and creatives of the DSP campaigns, and the supply sources."""
    dsp = list(enumerate(cat.DSP_CAMPAIGNS))
    sizes = cat.CREATIVE_SIZES
    items = [(k, c, j, name) for k, c in dsp for j, name in enumerate(c.line_items)]
    creatives = [(k, c, j, size) for k, c in dsp for j, size in enumerate(sizes[c.creative_type])]
    inventory = [cat.INVENTORY[name] for name, _ in cat.SUPPLY_SOURCES]
    return {
        "_line_items": {
            "campaign": [k for k, *_ in items],
            "line_item": [j for _, _, j, _ in items],
            "name": [f"{c.name.split(' - ')[-1]} | {name}" for _, c, _, name in items],
            "line_item_id": [c.campaign_id * 10 + j + 1 for _, c, j, _ in items],
            "budget": [round(c.daily * c.cpm / 1000 * 400 / len(c.line_items)) * 100_000 for _, c, _, _ in items],
            "status": ["RUNNING"] * len(items),
            "line_item_type": [_LINE_ITEM_TYPES[c.creative_type] for _, c, _, _ in items],
            "segment_ids": [
                [] if any(word in name for word in _UNTARGETED) else [410000 + 10 * k + j] for k, _, j, name in items
            ],
        },
        "_creatives": {
            "campaign": [k for k, *_ in creatives],
            "creative": [j for _, _, j, _ in creatives],
            "name": [f"{c.name.split(' - ')[0]} {c.creative_type.title()} {size}" for _, c, _, size in creatives],
            "creative_id": [c.campaign_id * 100 + j + 1 for _, c, j, _ in creatives],
            "creative_type": [c.creative_type for _, c, _, _ in creatives],
            "creative_size": [size for *_, size in creatives],
            "category": [{"display": "Display", "video": "Video"}.get(c.creative_type) for _, c, _, _ in creatives],
            "duration": [
                None if c.creative_type == "display" else (15 if size == "1280x720" else 30)
                for _, c, _, size in creatives
            ],
            "link_in": ["Y" if c.creative_type == "display" else "N" for _, c, _, _ in creatives],
            "third_party_fee": [round(cat.THIRD_PARTY_CPM[c.creative_type] * 100_000) for _, c, _, _ in creatives],
        },
        "_supply": {
            "supply": list(range(len(cat.SUPPLY_SOURCES))),
            "name": [name for name, _ in cat.SUPPLY_SOURCES],
            "supply_source_id": [i.supply_source_id for i in inventory],
            "amazon_owned": [i.amazon_owned for i in inventory],
            "view_aware": [i.view_aware for i in inventory],
            "view_rate": [i.view_rate for i in inventory],
            "deal_id": [i.deal[0] if i.deal else None for i in inventory],
            "deal_name": [i.deal[1] if i.deal else None for i in inventory],
            "sites": [list(i.sites) for i in inventory],
            "apps": [[site for site, _ in i.apps] for i in inventory],
            "bundles": [[bundle for _, bundle in i.apps] for i in inventory],
            "page_types": [list(i.page_types) for i in inventory],
        },
    }


def _ad_group_type(target: cat.Target) -> str:
    if target.match_type != cat.EXPRESSION:
        return "KEYWORD"
    return "AUDIENCE" if target.targeting.startswith(("audience", "views")) else "PRODUCT"


def _dimensions() -> dict[str, pa.Table]:
    """The catalog's entities as tables keyed by the codes events use."""
    advertiser_index = {a.advertiser_id: k for k, a in enumerate(cat.ADVERTISERS)}
    sa = list(enumerate(cat.SA_CAMPAIGNS, start=SA_FIRST))
    targets = [
        (t, k, group_name, CAMPAIGNS[k].campaign_id * 100 + g + 1, target, term_k, term)
        for t, (k, group_name, g, target) in enumerate(sa_targets())
        for term_k, term in (list(enumerate(target.search_terms)) or [(-1, None)])
    ]
    subtypes = [s[0] for s in cat.CONVERSION_SUBTYPES]
    details = cat.DEVICE_DETAILS
    tables: dict[str, dict[str, list]] = {
        "_campaigns": _campaign_table(),
        **_dsp_tables(),
        "_devices": {
            "device": list(range(len(cat.DEVICES))),
            "device_type": [d[0] for d in cat.DEVICES],
            "os_name": [d[1] for d in cat.DEVICES],
            "makes": [[make for make, _ in d[0]] for d in details],
            "models": [[model for _, model in d[0]] for d in details],
            "os_versions": [list(d[1]) for d in details],
            "browsers": [list(d[2]) for d in details],
            "app_browser": [d[3] for d in details],
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
            "ad_group_type": [_ad_group_type(r[4]) for r in targets],
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
            "advertiser_index": [k for k, a in enumerate(cat.ADVERTISERS) for _ in a.asins],
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
            "category": [cat.SUBTYPE_DETAILS[s][0] for s in subtypes],
            "type_class": [cat.SUBTYPE_DETAILS[s][1] for s in subtypes],
            "description": [cat.SUBTYPE_DETAILS[s][2] for s in subtypes],
            "is_order": [s == "order" for s in subtypes],
        },
        "_view_rows": {  # the dsp_views rows of an impression's viewability code (generate._view_code)
            "code": [1, 2, 2, 3, 4],
            "event_type": ["MEASURABLE_IMP", "MEASURABLE_IMP", "VIEW", "UNMEASURABLE_IMP", "SYNTHETIC_VIEW"],
            "measurable": [1, 1, 0, 0, 0],
            "viewable": [0, 0, 1, 0, 0],
            "unmeasurable": [0, 0, 0, 1, 1],
            "view_definition": [None, None, "MRC", None, None],
        },
    }
    return {name: pa.table(columns) for name, columns in tables.items()}
