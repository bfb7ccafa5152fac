"""The AMC tables as SQL over the stored events: each view's FROM clause and one expression per column.

``storage`` creates one view per table of :data:`amc_magic.schema.TABLES`, casting each expression to
the DuckDB type of its column. Values are derived where they can be, so that few facts are stored:

* Names and settings come from the dimension tables (aliases ``c`` campaign, ``li`` line item, ``cr``
  creative, ``s`` supply, ``d`` device, ``p`` place, ``t`` target, ``pl`` placement, ``a`` ASIN, ``st``
  conversion subtype, ``pr`` promoted ASIN).
* Per-event variety (site, deal, viewability, video completion, segments) comes from bits of the event's
  64-bit hash key, per-user variety (device make, OS version, browser, ID type) from the user's hash, so
  a user looks the same in every table.
* DSP costs: ``supply_cost`` is the media cost (``impression_cost``, in millicents, times 1000); the
  platform, managed-service and omnichannel fees are shares of it and the audience and third-party fees
  fixed per impression (``catalog``); ``total_cost`` is the sum of them all, in millicents.
* Local times use the advertiser's time zone.
* Attributed metrics follow ``schema._conversion``'s families: promoted, brand halo and total products,
  new-to-brand, and the ``_clicks``/``_views`` split by the credited traffic event.
"""

from __future__ import annotations

from . import catalog as cat
from .view_columns import (
    ACCOUNT,
    PLACE,
    SA_CREATIVE,
    SA_CREATIVE_ASIN,
    Expressions,
    attributed_metrics,
    bits,
    conversion,
    dsp,
    fees,
    flag,
    hex_id,
    moments,
    pick,
    sa_target,
    user,
)

_DSP_SOURCE = """
    JOIN _campaigns c ON c.campaign = e.campaign
    JOIN _line_items li ON li.campaign = e.campaign AND li.line_item = e.line_item
    JOIN _creatives cr ON cr.campaign = e.campaign AND cr.creative = e.creative
    JOIN _supply s ON s.supply = e.supply
    JOIN _devices d ON d.device = e.device
    JOIN _postal_codes p ON p.postal = e.postal"""
_MATCHED = "CASE WHEN {k} THEN li.segment_ids ELSE CAST([] AS INTEGER[]) END".format(k=f"{bits('e.key', 50, 10)} < 8")
_USER_SEGMENTS = f"[420001 + {bits('e.user_hash', 8, 40)}, 430001 + {bits('e.user_hash', 16, 25)}]"

DSP_IMPRESSIONS = (
    "_dsp_impression_events e" + _DSP_SOURCE,
    {
        **ACCOUNT,
        **user("e.user_hash", "e.app"),
        **PLACE,
        **dsp("e.key", "e.app"),
        **fees("e.cost"),
        **moments("impression", "e.ts"),
        "impressions": "1",
        "bid_price": "e.bid * 1000",
        "matched_behavior_segment_ids": _MATCHED,
        "user_behavior_segment_ids": f"list_concat({_MATCHED}, {_USER_SEGMENTS})",
        "segment_marketplace_id": f"CASE WHEN len({_MATCHED}) > 0 THEN 1 END",
    },
)

DSP_CLICKS = (
    "_dsp_click_events e" + _DSP_SOURCE,
    {
        **ACCOUNT,
        **user("e.user_hash", "e.app"),
        **PLACE,
        **dsp("e.impression_key", "e.app"),
        **moments("click", "e.ts"),
        **moments("impression", "e.impression_ts"),
        "clicks": "1",
        "click_cost": "0",  # CPM campaigns: the impression carries the cost
        "bid_price": "e.bid * 1000",
        "supply_cost": "0",
        "audience_fee": "0",
        "platform_fee": "0",
    },
)

# One row per view event: a measured impression gives a MEASURABLE_IMP row and, if viewable, a VIEW row;
# some unmeasured ones give an UNMEASURABLE_IMP or SYNTHETIC_VIEW row; the rest none (``generate._view_code``).
DSP_VIEWS = (
    "_dsp_impression_events e" + _DSP_SOURCE + "\n    JOIN _view_rows v ON v.code = e.view_code",
    {
        **ACCOUNT,
        **user("e.user_hash", "e.app"),
        **PLACE,
        **dsp("e.key", "e.app"),
        **moments("event", "e.ts"),
        "event_type": "v.event_type",
        "events": "1",
        "impression_id": hex_id("e.key"),
        "measurable_impressions": "v.measurable",
        "viewable_impressions": "v.viewable",
        "unmeasurable_viewable_impressions": "v.unmeasurable",
        "view_definition": "v.view_definition",
    },
)

_VIDEO = "c.creative_type = 'video' AND NOT e.is_click AND {bits} < {share}"
_SHOWN = "NOT e.is_click AND {bits} {test}"


_VIEWABILITY = bits("e.key", 28, 100)
SPONSORED = (
    """_sa_events e
    JOIN _campaigns c ON c.campaign = e.campaign
    JOIN _targets t ON t.target = e.target AND t.term = e.term
    JOIN _placements pl ON pl.campaign = e.campaign AND pl.placement = e.placement
    JOIN _asins a ON a.asin = e.asin
    JOIN _devices d ON d.device = e.device""",
    {
        **ACCOUNT,
        **user("e.user_hash", "false"),
        **sa_target(),
        **moments("event", "e.ts"),
        "ad_group": "t.ad_group",
        "ad_group_id": "t.ad_group_id",
        "ad_group_status": "'ENABLED'",
        "ad_group_type": "t.ad_group_type",
        "line_item": "t.ad_group",
        "line_item_id": "t.ad_group_id",
        "line_item_status": "'ENABLED'",
        "line_item_type": "t.ad_group_type",
        "line_item_price_type": "c.price_type",
        "creative": SA_CREATIVE.format(asin="a.name"),
        "creative_asin": SA_CREATIVE_ASIN.format(asin="a.name"),
        "creative_type": "c.creative_type",
        "event_id": hex_id("e.key"),
        "impressions": "CASE WHEN e.is_click THEN 0 ELSE 1 END",
        "clicks": "CASE WHEN e.is_click THEN 1 ELSE 0 END",
        "spend": "e.spend",
        "five_sec_views": flag(_VIDEO.format(bits=bits("e.key", 12, 100), share=70)),
        "video_first_quartile_views": flag(_VIDEO.format(bits=bits("e.key", 12, 100), share=60)),
        "video_midpoint_views": flag(_VIDEO.format(bits=bits("e.key", 12, 100), share=45)),
        "video_third_quartile_views": flag(_VIDEO.format(bits=bits("e.key", 12, 100), share=35)),
        "video_complete_views": flag(_VIDEO.format(bits=bits("e.key", 12, 100), share=28)),
        "video_unmutes": flag(_VIDEO.format(bits=bits("e.key", 20, 100), share=8)),
        "viewable_impressions": flag(_SHOWN.format(bits=_VIEWABILITY, test="< 65")),
        "unmeasurable_viewable_impressions": flag(_SHOWN.format(bits=_VIEWABILITY, test="BETWEEN 90 AND 94")),
        "view_definition": f"CASE WHEN {_SHOWN.format(bits=_VIEWABILITY, test='< 65')} THEN 'MRC' END",
        "matched_behavior_segment_ids": f"CASE WHEN {_SHOWN.format(bits=bits('e.key', 36, 5), test='= 0')} "
        f"THEN CAST(450001 + {bits('e.key', 40, 12)} AS VARCHAR) END",
    },
)


CONVERSIONS = (
    """_conversion_events e
    JOIN _asins a ON a.asin = e.asin
    JOIN _subtypes st ON st.subtype = e.subtype""",
    {
        **user("e.user_hash", "false"),
        **conversion("e.units * a.price"),
        **{k: v for k, v in moments("event", "e.ts").items() if k.endswith("_utc")},
        "marketplace_name": f"'{cat.MARKETPLACE}'",
        "conversion_id": hex_id("e.key"),
    },
)

_HALO = "[" + ", ".join(f"'{code}'" for code in cat.HALO_CODES) + "]"
RELEVANCE = (
    """_conversion_events e
    JOIN _asins a ON a.asin = e.asin
    JOIN _subtypes st ON st.subtype = e.subtype
    JOIN _campaigns c ON c.advertiser_index = a.advertiser_index
    LEFT JOIN _promoted pr ON pr.campaign = c.campaign AND pr.asin = e.asin""",
    {
        **ACCOUNT,
        **user("e.user_hash", "false"),
        **conversion("e.units * a.price"),
        **moments("event", "e.ts"),
        "conversion_id": hex_id("e.key"),
        "campaign_id": "CASE WHEN c.is_dsp THEN c.campaign_id END",
        "engagement_scope": "CASE WHEN pr.asin IS NULL THEN 'BRAND_HALO' ELSE 'PROMOTED' END",
        "halo_code": f"CASE WHEN pr.asin IS NOT NULL THEN 'TRACKED_ASIN' "
        f"ELSE {pick(_HALO, 'xor(e.key, CAST(c.campaign_id AS UBIGINT))', 20)} END",
    },
)


_DSP_EVENT = "c.is_dsp"
_ATTRIBUTED_COLUMNS: Expressions = {
    **ACCOUNT,
    **user("e.user_hash", "e.app"),
    **{name: f"CASE WHEN {_DSP_EVENT} THEN {sql} END" for name, sql in PLACE.items()},
    **dsp("e.tag", "e.app"),
    **{k: f"CASE WHEN {_DSP_EVENT} THEN {v} END" for k, v in fees("e.cost").items()},
    **sa_target(),
    **conversion("e.units * a.price"),
    **attributed_metrics(),
    **moments("conversion_event", "e.conversion_ts"),
    **moments("traffic_event", "e.traffic_ts"),
    **moments("impression", "CASE WHEN NOT e.is_click THEN e.traffic_ts END"),
    **moments("click", "CASE WHEN e.is_click THEN e.traffic_ts END"),
    "request_tag": f"CASE WHEN {_DSP_EVENT} THEN {hex_id('e.tag')} END",
    "environment_type": f"CASE WHEN {_DSP_EVENT} THEN (CASE WHEN e.app THEN 'App' ELSE 'Web' END) END",
    "line_item": "coalesce(li.name, t.ad_group)",
    "line_item_id": "coalesce(li.line_item_id, t.ad_group_id)",
    "line_item_status": "coalesce(li.status, 'ENABLED')",
    "line_item_type": "coalesce(li.line_item_type, t.ad_group_type)",
    "creative": f"coalesce(cr.name, {SA_CREATIVE.format(asin='aa.name')})",
    "creative_type": "coalesce(cr.creative_type, c.creative_type)",
    "bid_price": f"CASE WHEN {_DSP_EVENT} THEN e.bid * 1000 END",
    "click_cost": f"CASE WHEN e.is_click THEN (CASE WHEN {_DSP_EVENT} THEN 0 ELSE e.cost END) END",
    "impressions": "CASE WHEN e.is_click THEN 0 ELSE 1 END",
    "clicks": "CASE WHEN e.is_click THEN 1 ELSE 0 END",
    "conversion_event_category": "st.category",
    "conversion_event_marketplace_name": f"'{cat.MARKETPLACE}'",
    "conversion_event_subtype": "st.name",
    "conversion_event_type": "'CONVERSION'",
    "conversion_event_type_class": "st.type_class",
    "conversion_event_type_description": "st.description",
    "traffic_event_id": f"CASE WHEN NOT {_DSP_EVENT} THEN {hex_id('e.traffic_key')} END",
    "traffic_event_marketplace_name": f"'{cat.MARKETPLACE}'",
    "traffic_event_subtype": "CASE WHEN e.is_click THEN 'AD_CLICK' ELSE 'AD_IMP' END",
    "traffic_event_type": "'TRAFFIC'",
}
ATTRIBUTED = (
    """_attributed_events e
    JOIN _campaigns c ON c.campaign = e.campaign
    JOIN _asins a ON a.asin = e.asin
    JOIN _subtypes st ON st.subtype = e.subtype
    JOIN _devices d ON d.device = e.device
    JOIN _postal_codes p ON p.postal = e.postal
    LEFT JOIN _promoted pr ON pr.campaign = e.campaign AND pr.asin = e.asin
    LEFT JOIN _line_items li ON li.campaign = e.campaign AND li.line_item = e.line_item
    LEFT JOIN _creatives cr ON cr.campaign = e.campaign AND cr.creative = e.creative
    LEFT JOIN _supply s ON s.supply = e.supply
    LEFT JOIN _targets t ON t.target = e.target AND t.term = e.term
    LEFT JOIN _placements pl ON pl.campaign = e.campaign AND pl.placement = e.placement
    LEFT JOIN _asins aa ON aa.asin = e.ad_asin""",
    _ATTRIBUTED_COLUMNS,
)

VIEWS: dict[str, tuple[str, Expressions]] = {
    "dsp_impressions": DSP_IMPRESSIONS,
    "dsp_clicks": DSP_CLICKS,
    "dsp_views": DSP_VIEWS,
    "sponsored_ads_traffic": SPONSORED,
    "amazon_attributed_events_by_conversion_time": ATTRIBUTED,
    "amazon_attributed_events_by_traffic_time": ATTRIBUTED,
    "conversions": CONVERSIONS,
    "conversions_with_relevance": RELEVANCE,
}
"""Each AMC table's FROM clause (events as ``e``) and SQL per column name (a superset of its columns)."""
