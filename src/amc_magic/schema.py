"""AMC's tables as amc-magic knows them: the one source of truth for the SQL checks and the sandbox.

Each table lists AMC's column names with their AMC data type, whether the column is a dimension or
a metric, and its aggregation threshold. The sandbox generates exactly these columns, serves them from
``GET /dataSources`` and enforces their thresholds; the SQL checks read them to find unknown columns
and privacy violations. Names, types and thresholds follow AMC's data-source documentation for the
columns analysts use most; the real tables have more columns (a real instance's own schema, from
``/dataSources``, replaces this one in the checks).

Thresholds (AMC): NONE (one user is enough), LOW (2 distinct users per output row), MEDIUM and HIGH
(100; HIGH also forbids literal filters), VERY_HIGH (never in the output, usable only inside COUNT /
COUNT(DISTINCT), no literal filters).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property


class Threshold(enum.IntEnum):
    """AMC aggregation thresholds, ordered from least to most protected."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    VERY_HIGH = 4

    @property
    def min_users(self) -> int:
        """Distinct users an output row needs when a column of this threshold is in it."""
        return {0: 1, 1: 2, 2: 100, 3: 100, 4: 100}[self.value]


class Kind(enum.Enum):
    DIMENSION = "DIMENSION"
    METRIC = "METRIC"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # AMC type: STRING, LONG, INTEGER, DOUBLE, DECIMAL, BOOLEAN, DATE, TIMESTAMP
    kind: Kind
    threshold: Threshold
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    time_column: str  # the UTC timestamp AMC's time window applies to
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column | None:
        """The column named ``name`` (case-insensitive), or None."""
        return self._by_name.get(name.lower())

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        return {c.name.lower(): c for c in self.columns}

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)


D, M = Kind.DIMENSION, Kind.METRIC
NONE, LOW, MEDIUM, HIGH, VERY_HIGH = (
    Threshold.NONE,
    Threshold.LOW,
    Threshold.MEDIUM,
    Threshold.HIGH,
    Threshold.VERY_HIGH,
)

# (name, type, kind, threshold, description)
_Spec = tuple[str, str, Kind, Threshold, str]

_DSP_DIMENSIONS: list[_Spec] = [
    ("advertiser", "STRING", D, LOW, "Advertiser name."),
    ("advertiser_id", "LONG", D, LOW, "Advertiser ID."),
    ("campaign", "STRING", D, LOW, "Campaign name."),
    ("campaign_id", "LONG", D, LOW, "Campaign ID."),
    ("line_item", "STRING", D, LOW, "Line item name."),
    ("line_item_id", "LONG", D, LOW, "Line item ID."),
    ("creative", "STRING", D, LOW, "Creative name."),
    ("creative_id", "LONG", D, LOW, "Creative ID."),
    ("creative_type", "STRING", D, LOW, "Creative type (display, video, audio)."),
    ("creative_size", "STRING", D, LOW, "Creative size, e.g. 300x250."),
    ("device_type", "STRING", D, LOW, "Device type: Phone, PC, TV, Tablet, Other."),
    ("supply_source", "STRING", D, LOW, "Supply source, e.g. Amazon O&O or a third-party exchange."),
    ("environment_type", "STRING", D, LOW, "Web or app."),
    ("os_name", "STRING", D, LOW, "Operating system of the device."),
    ("iso_country_code", "STRING", D, LOW, "ISO 3166 country code."),
    ("iso_state_province_code", "STRING", D, LOW, "ISO 3166-2 state or province code."),
    ("dma_code", "STRING", D, MEDIUM, "Designated market area code."),
    ("city_name", "STRING", D, HIGH, "City name."),
    ("postal_code", "STRING", D, HIGH, "Postal code."),
    ("currency_name", "STRING", D, LOW, "Currency of the cost columns."),
    ("currency_iso_code", "STRING", D, LOW, "ISO 4217 currency code."),
    ("entity_id", "STRING", D, LOW, "AMC account (entity) id."),
    ("user_id", "STRING", D, VERY_HIGH, "Pseudonymous user id."),
    ("user_id_type", "STRING", D, LOW, "Kind of user id."),
]

_DSP_IMPRESSIONS: list[_Spec] = _DSP_DIMENSIONS + [
    ("impression_dt_utc", "TIMESTAMP", D, MEDIUM, "Impression time (UTC)."),
    ("impression_dt", "TIMESTAMP", D, MEDIUM, "Impression time (advertiser time zone)."),
    ("impression_date_utc", "DATE", D, LOW, "Impression date (UTC)."),
    ("impression_date", "DATE", D, LOW, "Impression date (advertiser time zone)."),
    ("impressions", "LONG", M, NONE, "Impression count (1 per row)."),
    ("impression_cost", "LONG", M, NONE, "Impression cost in millicents."),
    ("total_cost", "DOUBLE", M, NONE, "Total cost in millicents (divide by 100,000 for currency)."),
    ("bid_price", "LONG", M, MEDIUM, "Bid price in millicents."),
]

_DSP_CLICKS: list[_Spec] = _DSP_DIMENSIONS + [
    ("click_dt_utc", "TIMESTAMP", D, MEDIUM, "Click time (UTC)."),
    ("click_dt", "TIMESTAMP", D, MEDIUM, "Click time (advertiser time zone)."),
    ("click_date_utc", "DATE", D, LOW, "Click date (UTC)."),
    ("impression_dt_utc", "TIMESTAMP", D, MEDIUM, "Time of the impression clicked (UTC)."),
    ("clicks", "LONG", M, NONE, "Click count (1 per row)."),
    ("click_cost", "LONG", M, NONE, "Click cost in millicents."),
]

_SPONSORED_ADS: list[_Spec] = [
    ("entity_id", "STRING", D, LOW, "AMC account (entity) id."),
    ("ad_product_type", "STRING", D, LOW, "sponsored_products, sponsored_brands, sponsored_display, sponsored_tv."),
    ("campaign", "STRING", D, LOW, "Campaign name."),
    ("campaign_id", "LONG", D, LOW, "Campaign ID."),
    ("ad_group", "STRING", D, LOW, "Ad group name."),
    ("ad_group_id", "LONG", D, LOW, "Ad group ID."),
    ("targeting", "STRING", D, LOW, "Keyword or targeting expression."),
    ("match_type", "STRING", D, LOW, "Keyword match type: EXACT, PHRASE, BROAD or TARGETING_EXPRESSION."),
    ("customer_search_term", "STRING", D, MEDIUM, "Search term the customer typed."),
    ("placement_type", "STRING", D, LOW, "Placement, e.g. Top of Search."),
    ("creative_asin", "STRING", D, LOW, "Advertised ASIN."),
    ("marketplace_name", "STRING", D, LOW, "Marketplace, e.g. AMAZON.COM."),
    ("device_type", "STRING", D, LOW, "Device type: Phone, PC, TV, Tablet, Other."),
    ("event_dt_utc", "TIMESTAMP", D, MEDIUM, "Event time (UTC)."),
    ("event_date_utc", "DATE", D, LOW, "Event date (UTC)."),
    ("impressions", "LONG", M, NONE, "Impression count (1 on impression rows)."),
    ("clicks", "LONG", M, NONE, "Click count (1 on click rows)."),
    ("spend", "LONG", M, NONE, "Spend in microcents (divide by 100,000,000 for currency)."),
    ("user_id", "STRING", D, VERY_HIGH, "Pseudonymous user id."),
    ("event_id", "STRING", D, VERY_HIGH, "Event id."),
]

_ATTRIBUTED: list[_Spec] = [
    ("advertiser", "STRING", D, LOW, "Advertiser name."),
    ("advertiser_id", "LONG", D, LOW, "Advertiser ID."),
    ("ad_product_type", "STRING", D, LOW, "Ad product of the traffic event, e.g. sponsored_products or NULL for DSP."),
    ("campaign", "STRING", D, LOW, "Campaign name."),
    ("campaign_id", "LONG", D, LOW, "Campaign ID."),
    ("tracked_asin", "STRING", D, LOW, "ASIN the conversion is attributed to."),
    ("tracked_item", "STRING", D, LOW, "Tracked item (ASIN or pixel)."),
    ("conversion_event_subtype", "STRING", D, LOW, "Conversion subtype, e.g. order, detailPageView."),
    ("traffic_event_type", "STRING", D, LOW, "Traffic event type: IMPRESSION or CLICK."),
    ("marketplace_name", "STRING", D, LOW, "Marketplace, e.g. AMAZON.COM."),
    ("traffic_event_dt_utc", "TIMESTAMP", D, MEDIUM, "Traffic event time (UTC)."),
    ("conversion_event_dt_utc", "TIMESTAMP", D, MEDIUM, "Conversion time (UTC)."),
    ("conversion_event_date_utc", "DATE", D, LOW, "Conversion date (UTC)."),
    ("conversions", "LONG", M, NONE, "Attributed conversions."),
    ("purchases", "LONG", M, NONE, "Attributed purchases of promoted products."),
    ("total_purchases", "LONG", M, NONE, "Attributed purchases, brand halo included."),
    ("units_sold", "LONG", M, NONE, "Units sold of promoted products."),
    ("total_units_sold", "LONG", M, NONE, "Units sold, brand halo included."),
    ("product_sales", "DECIMAL", M, NONE, "Sales of promoted products."),
    ("total_product_sales", "DECIMAL", M, NONE, "Sales, brand halo included."),
    ("new_to_brand", "BOOLEAN", D, LOW, "Whether the purchase was the user's first of the brand in a year."),
    ("impressions", "LONG", M, NONE, "Impressions of the attributed traffic event."),
    ("clicks", "LONG", M, NONE, "Clicks of the attributed traffic event."),
    ("user_id", "STRING", D, VERY_HIGH, "Pseudonymous user id."),
]

_CONVERSIONS: list[_Spec] = [
    ("event_dt_utc", "TIMESTAMP", D, MEDIUM, "Conversion time (UTC)."),
    ("event_date_utc", "DATE", D, LOW, "Conversion date (UTC)."),
    ("event_type", "STRING", D, LOW, "Event type, e.g. CONVERSION."),
    ("event_subtype", "STRING", D, LOW, "Event subtype, e.g. order, detailPageView, addToCart."),
    ("event_category", "STRING", D, LOW, "Event category, e.g. purchase, website."),
    ("tracked_asin", "STRING", D, LOW, "ASIN of the conversion."),
    ("marketplace_name", "STRING", D, LOW, "Marketplace, e.g. AMAZON.COM."),
    ("conversions", "LONG", M, NONE, "Conversion count (1 per row)."),
    ("total_product_sales", "DECIMAL", M, NONE, "Sales of the conversion."),
    ("total_units_sold", "LONG", M, NONE, "Units of the conversion."),
    ("new_to_brand", "BOOLEAN", D, LOW, "Whether the purchase was the user's first of the brand in a year."),
    ("conversion_id", "STRING", D, VERY_HIGH, "Conversion id."),
    ("user_id", "STRING", D, VERY_HIGH, "Pseudonymous user id."),
]


def _table(name: str, description: str, time_column: str, specs: list[_Spec]) -> Table:
    return Table(name, description, time_column, tuple(Column(*spec) for spec in specs))


TABLES: Mapping[str, Table] = {
    t.name: t
    for t in (
        _table("dsp_impressions", "Amazon DSP impressions, one row per impression.", "impression_dt_utc", _DSP_IMPRESSIONS),
        _table("dsp_clicks", "Amazon DSP clicks, one row per click.", "click_dt_utc", _DSP_CLICKS),
        _table(
            "sponsored_ads_traffic",
            "Sponsored ads impressions and clicks, one row per event.",
            "event_dt_utc",
            _SPONSORED_ADS,
        ),
        _table(
            "amazon_attributed_events_by_conversion_time",
            "Traffic and conversion pairs; conversions inside the window, traffic up to 14 days earlier.",
            "conversion_event_dt_utc",
            _ATTRIBUTED,
        ),
        _table(
            "amazon_attributed_events_by_traffic_time",
            "Traffic and conversion pairs; traffic inside the window, conversions up to 30 days after.",
            "traffic_event_dt_utc",
            _ATTRIBUTED,
        ),
        _table("conversions", "Conversions (purchases, page views, add to cart), one row per event.", "event_dt_utc", _CONVERSIONS),
    )
}

USER_COLUMN = "user_id"


def get_table(name: str) -> Table | None:
    """The bundled table named ``name`` (case-insensitive), or None."""
    return TABLES.get(name.lower())


def data_sources(tables: Mapping[str, Table] = TABLES) -> list[dict[str, object]]:
    """The tables in the shape of AMC's ``GET /dataSources`` response items."""
    return [
        {
            "dataSourceId": t.name,
            "description": t.description,
            "owner": "AMAZON",
            "provider": "AMAZON",
            "tags": [],
            "outputChannels": ["REPORTING"],
            "columns": [
                {
                    "name": c.name,
                    "columnType": c.kind.value,
                    "dataType": c.data_type,
                    "aggregationThreshold": c.threshold.name,
                    "description": c.description,
                }
                for c in t.columns
            ],
        }
        for t in tables.values()
    ]


def tables_from_data_sources(items: list[Mapping[str, object]]) -> dict[str, Table]:
    """Rebuild tables from ``/dataSources`` items (a real instance's schema for the checks).

    Fields AMC may leave out get safe defaults: type STRING, kind DIMENSION, threshold NONE.
    """
    tables: dict[str, Table] = {}
    for item in items:
        name = str(item.get("dataSourceId") or item.get("name") or "")
        if not name:
            continue
        columns = []
        for col in item.get("columns") or []:  # type: ignore[union-attr]
            threshold_name = str(col.get("aggregationThreshold") or "NONE").upper()
            kind_name = str(col.get("columnType") or "DIMENSION").upper()
            columns.append(
                Column(
                    name=str(col["name"]),
                    data_type=str(col.get("dataType") or "STRING").upper(),
                    kind=Kind(kind_name) if kind_name in Kind.__members__ else Kind.DIMENSION,
                    threshold=Threshold[threshold_name] if threshold_name in Threshold.__members__ else Threshold.NONE,
                    description=str(col.get("description") or ""),
                )
            )
        known = TABLES.get(name.lower())
        time_column = known.time_column if known else next((c.name for c in columns if c.name.endswith("_dt_utc")), "")
        tables[name.lower()] = Table(name, str(item.get("description") or ""), time_column, tuple(columns))
    return tables
