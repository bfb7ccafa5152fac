"""AMC's tables: which columns each one has, after Amazon's data-source documentation.

Column facts come from ``_common`` and ``_conversion``; a table adds its own columns (its event times) and
overrides a shared column where its documentation differs. A few columns amc-magic had before it followed
the documentation closely are kept, and say so in their description: ``os_name`` (DSP),
``ad_group_id`` and ``device_type`` (sponsored ads) and ``marketplace_name`` (attributed events).
"""

from __future__ import annotations

from ._common import COMMON
from ._conversion import ATTRIBUTED_METRICS, CONVERSION
from ._model import (
    DATE,
    LONG,
    LOW,
    MEDIUM,
    NONE,
    STRING,
    TIMESTAMP,
    VERY_HIGH,
    D,
    M,
    Specs,
    Table,
    build_table,
    flight,
    moments,
)

_CATALOG: Specs = {**COMMON, **CONVERSION}

_DSP = """
    ad_slot_size advertiser advertiser_account_frequency_group_ids advertiser_id advertiser_timezone app_bundle
    campaign campaign_country campaign_flight_id campaign_id campaign_id_string campaign_insertion_order_id
    campaign_primary_goal campaign_sales_type campaign_source campaign_status city_name creative creative_category
    creative_duration creative_id creative_is_link_in creative_size creative_type demand_channel_owner device_make
    device_model entity_id environment_type line_item line_item_id line_item_price_type line_item_status
    line_item_type manager_account_frequency_group_ids merchant_id no_3p_trackers operating_system os_version
    page_type site slot_position supply_source_id user_id user_id_type
"""
_DSP_SERVED = """
    audience_fee bid_price browser_family campaign_budget_amount campaign_end_date campaign_end_date_utc
    campaign_start_date campaign_start_date_utc currency_iso_code currency_name deal_id deal_name demand_channel
    device_id device_type dma_code is_amazon_owned iso_country_code iso_state_province_code line_item_budget_amount
    line_item_end_date line_item_end_date_utc line_item_start_date line_item_start_date_utc platform_fee postal_code
    product_line request_tag supply_cost supply_source os_name
"""
_IMPRESSION_ONLY = """
    impression_cost impressions managed_service_fee matched_behavior_segment_ids ocm_fee placement_is_view_aware
    placement_view_rate segment_marketplace_id supply_source_is_view_aware supply_source_view_rate third_party_fees
    total_cost user_behavior_segment_ids
"""
_VIEWS_ONLY = """
    campaign_end_dt campaign_end_dt_utc campaign_start_dt campaign_start_dt_utc event_date event_date_utc event_dt
    event_dt_hour event_dt_hour_utc event_dt_utc event_type events impression_id line_item_end_dt
    line_item_end_dt_utc line_item_start_dt line_item_start_dt_utc measurable_impressions
    unmeasurable_viewable_impressions view_definition viewable_impressions
"""
_SPONSORED = """
    ad_group ad_group_end_dt ad_group_end_dt_utc ad_group_start_dt ad_group_start_dt_utc ad_group_status
    ad_group_type ad_product_type advertiser advertiser_timezone campaign campaign_budget_type campaign_end_date
    campaign_end_date_utc campaign_end_dt campaign_end_dt_utc campaign_id campaign_id_string campaign_start_date
    campaign_start_date_utc campaign_start_dt campaign_start_dt_utc clicks creative creative_asin creative_type
    currency_iso_code currency_name customer_search_term entity_id event_id five_sec_views impressions line_item
    line_item_end_date line_item_end_date_utc line_item_id line_item_price_type line_item_start_date
    line_item_start_date_utc line_item_status line_item_type marketplace_name match_type
    matched_behavior_segment_ids no_3p_trackers operating_system os_version placement_type portfolio_id
    portfolio_name spend targeting unmeasurable_viewable_impressions user_id user_id_type video_complete_views
    video_first_quartile_views video_midpoint_views video_third_quartile_views video_unmutes view_definition
    viewable_impressions ad_group_id device_type
"""
_ATTRIBUTED = """
    ad_product_type ad_slot_size advertiser advertiser_id advertiser_timezone audience_fee bid_price browser_family
    campaign campaign_budget_amount campaign_end_date campaign_end_date_utc campaign_end_dt campaign_end_dt_utc
    campaign_flight_id campaign_id campaign_id_string campaign_insertion_order_id campaign_primary_goal
    campaign_start_date campaign_start_date_utc campaign_status city_name click_cost clicks combined_sales
    conversion_event_category conversion_event_marketplace_name conversion_event_name conversion_event_source_name
    conversion_event_subtype conversion_event_type conversion_event_type_class conversion_event_type_description
    conversions creative creative_category creative_duration creative_id creative_is_link_in creative_size
    creative_type customer_search_term deal_id deal_name device_make device_model device_type dma_code entity_id
    environment_type impressions iso_country_code iso_state_province_code line_item line_item_budget_amount
    line_item_end_date line_item_end_date_utc line_item_id line_item_start_date line_item_start_date_utc
    line_item_status line_item_type match_type new_to_brand no_3p_trackers off_amazon_conversion_value
    off_amazon_product_sales operating_system os_version page_type placement_type platform_fee postal_code
    product_line purchase_currency purchase_retail_program purchase_unit_price request_tag site supply_cost
    supply_source targeting tracked_asin tracked_item traffic_event_id traffic_event_marketplace_name
    traffic_event_subtype traffic_event_type user_id user_id_type marketplace_name
"""
_CONVERSION = """
    combined_sales conversion_event_name conversion_event_source_name conversion_id conversions event_category
    event_date_utc event_day_utc event_dt_hour_utc event_dt_utc event_hour_utc event_subtype event_type
    event_type_class event_type_description marketplace_name new_to_brand no_3p_trackers off_amazon_conversion_value
    off_amazon_product_sales purchase_currency purchase_retail_program purchase_unit_price total_product_sales
    total_units_sold tracked_asin tracked_item user_id user_id_type
"""
_RELEVANCE = """
    advertiser advertiser_id advertiser_timezone campaign campaign_budget_amount campaign_end_date
    campaign_end_date_utc campaign_end_dt campaign_end_dt_utc campaign_id campaign_id_string campaign_sales_type
    campaign_source campaign_start_date campaign_start_date_utc campaign_start_dt campaign_start_dt_utc combined_sales
    conversion_event_name conversion_event_source_name conversion_id conversions engagement_scope event_category
    event_subtype event_type event_type_class event_type_description halo_code marketplace_name new_to_brand
    no_3p_trackers off_amazon_conversion_value off_amazon_product_sales purchase_currency purchase_unit_price
    total_product_sales total_units_sold tracked_asin tracked_item user_id user_id_type
"""


def _names(*groups: str | Specs) -> str:
    return " ".join(g if isinstance(g, str) else " ".join(g) for g in groups)


_IMPRESSION_TIMES = moments("impression", "the impression")
_DSP_CLICKS: Specs = {
    "clicks": (LONG, M, NONE, "Clicks: 1 per row."),
    "click_cost": (LONG, M, MEDIUM, "Click cost in millicents (0: DSP charges per impression)."),
    **moments("click", "the click"),
}
_VIEW_EVENTS: Specs = {
    "event_type": (STRING, D, LOW, "MEASURABLE_IMP, VIEW, UNMEASURABLE_IMP or SYNTHETIC_VIEW."),
    "events": (LONG, M, NONE, "View events: 1 per row (an impression can have several)."),
    "impression_id": (STRING, D, VERY_HIGH, "request_tag of the impression the event belongs to."),
    **moments("event", "the view event"),
    **{k: v for k, v in flight("campaign", "the campaign", TIMESTAMP).items() if "_dt" in k},
    **{k: v for k, v in flight("line_item", "the line item", TIMESTAMP).items() if "_dt" in k},
}
_SPONSORED_SPECS: Specs = {
    **moments("event", "the traffic event"),
    **{k: v for k, v in flight("campaign", "the campaign", DATE).items() if "_date" in k},
    "matched_behavior_segment_ids": (STRING, D, LOW, "Audience segment of a bid multiplier the impression matched."),
    "device_type": (STRING, D, LOW, "Device type: Phone, PC, TV, Tablet, Other (not in Amazon's published list)."),
    "impressions": (LONG, M, NONE, "Impressions: 1 on an impression row, 0 on a click row."),
    "clicks": (LONG, M, NONE, "Clicks: 1 on a click row, 0 on an impression row."),
}
_PAIR_TIMES: Specs = {  # AMC documents no day-of-month columns for these two
    k: v
    for prefix, what in (("conversion_event", "the conversion"), ("traffic_event", "the traffic event"))
    for k, v in moments(prefix, what).items()
    if "_day" not in k
}
_ATTRIBUTED_SPECS: Specs = {
    **ATTRIBUTED_METRICS,
    **_PAIR_TIMES,
    **moments("impression", "the credited impression (NULL when a click is credited)"),
    **moments("click", "the credited click (NULL when an impression is credited)"),
    "conversion_event_category": (STRING, D, LOW, "purchase or website."),
    "conversion_event_marketplace_name": (STRING, D, LOW, "Marketplace of the conversion."),
    "conversion_event_subtype": (STRING, D, LOW, "Conversion subtype, e.g. order, detailPageView, addToCart."),
    "conversion_event_type": (STRING, D, LOW, "Conversion type: CONVERSION."),
    "conversion_event_type_class": (STRING, D, LOW, "consideration or conversion."),
    "conversion_event_type_description": (STRING, D, LOW, "Readable conversion type, e.g. Product purchased."),
    "traffic_event_id": (STRING, D, VERY_HIGH, "event_id of a credited sponsored ads event."),
    "traffic_event_marketplace_name": (STRING, D, LOW, "Marketplace of the traffic event."),
    "traffic_event_subtype": (STRING, D, LOW, "AD_IMP or AD_CLICK."),
    "traffic_event_type": (STRING, D, LOW, "Traffic event type: TRAFFIC."),
    "impressions": (LONG, M, NONE, "1 when the conversion is credited to an impression."),
    "clicks": (LONG, M, NONE, "1 when the conversion is credited to a click."),
    "conversions": (LONG, M, NONE, "Conversions: 1 per row (one conversion can be credited to several campaigns)."),
    "deal_name": (STRING, M, LOW, "Name of the private deal (a METRIC in Amazon's documentation)."),
    "marketplace_name": (STRING, D, LOW, "Marketplace of the conversion (not in Amazon's published list)."),
}
_RELEVANCE_SPECS: Specs = {
    **moments("event", "the conversion"),
    **{k: v for k, v in flight("campaign", "the campaign", DATE).items() if "_date" in k},
    "campaign_id": (LONG, D, LOW, "Amazon DSP campaign ID; NULL for sponsored ads (see campaign_id_string)."),
    "campaign_id_string": (STRING, D, LOW, "Campaign ID of DSP and sponsored ads campaigns."),
}
_ATTRIBUTED_NAMES = _names(_ATTRIBUTED, ATTRIBUTED_METRICS, _PAIR_TIMES, _IMPRESSION_TIMES, moments("click", ""))

ALL_TABLES: tuple[Table, ...] = (
    build_table(
        "dsp_impressions",
        "Amazon DSP impressions, one row per impression.",
        "impression_dt_utc",
        _names(_DSP, _DSP_SERVED, _IMPRESSION_ONLY, _IMPRESSION_TIMES),
        _CATALOG,
        {**_IMPRESSION_TIMES, "impressions": (LONG, M, NONE, "Impressions: 1 per row.")},
    ),
    build_table(
        "dsp_clicks",
        "Amazon DSP clicks, one row per click.",
        "click_dt_utc",
        _names(_DSP, _DSP_SERVED, _IMPRESSION_TIMES, _DSP_CLICKS),
        _CATALOG,
        moments("impression", "the impression clicked"),
        _DSP_CLICKS,
    ),
    build_table(
        "dsp_views",
        "Amazon DSP view events: a measurable and, if viewable, a view row per measured impression.",
        "event_dt_utc",
        _names(_DSP, _VIEWS_ONLY),
        _CATALOG,
        _VIEW_EVENTS,
    ),
    build_table(
        "sponsored_ads_traffic",
        "Sponsored ads impressions and clicks, one row per event.",
        "event_dt_utc",
        _names(_SPONSORED, moments("event", "")),
        _CATALOG,
        _SPONSORED_SPECS,
    ),
    build_table(
        "amazon_attributed_events_by_conversion_time",
        "Traffic and conversion pairs; conversions inside the window, traffic up to 14 days earlier.",
        "conversion_event_dt_utc",
        _ATTRIBUTED_NAMES,
        _CATALOG,
        _ATTRIBUTED_SPECS,
    ),
    build_table(
        "amazon_attributed_events_by_traffic_time",
        "Traffic and conversion pairs; traffic inside the window, conversions up to 30 days after.",
        "traffic_event_dt_utc",
        _ATTRIBUTED_NAMES,
        _CATALOG,
        _ATTRIBUTED_SPECS,
    ),
    build_table(
        "conversions",
        "Conversions (purchases, page views, add to cart), one row per event.",
        "event_dt_utc",
        _CONVERSION,
        _CATALOG,
        moments("event", "the conversion"),
    ),
    build_table(
        "conversions_with_relevance",
        "Conversions with each campaign of the advertiser they are relevant to: promoted or brand halo product.",
        "event_dt_utc",
        _RELEVANCE + _names(moments("event", "")),
        _CATALOG,
        _RELEVANCE_SPECS,
    ),
)
