"""Column expressions the sandbox's views share: time columns, accounts, users, DSP inventory and costs,
conversions and attributed metrics (see ``views`` for how they are derived)."""

from __future__ import annotations

from . import catalog as cat

Expressions = dict[str, str]

USER_KEY = "__amc_user_key"
"""The user's 64-bit hash next to an AMC table's columns: ``user_id`` is its 16 hex digits (``storage``)."""


def hex_id(column: str) -> str:
    """SQL for a 64-bit hash as 16 hex digits (how user, event and conversion ids look)."""
    return f"format('{{:016x}}', {column})"


def bits(key: str, shift: int, modulo: int) -> str:
    """An integer in ``[0, modulo)`` from the bits of a hash above ``shift``."""
    return f"CAST(({key} >> {shift}) % {modulo} AS INTEGER)"


def pick(items: str, key: str, shift: int) -> str:
    """An element of the list ``items`` chosen by the bits of a hash."""
    return f"{items}[1 + CAST(({key} >> {shift}) % len({items}) AS INTEGER)]"


def local_time(ts: str) -> str:
    """SQL for a UTC timestamp in the advertiser's (the campaign's, ``c``) time zone."""
    return f"timezone(c.time_zone, timezone('UTC', {ts}))"


def moments(prefix: str, ts: str) -> Expressions:
    """The ten time columns of ``schema._model.moments`` from a UTC timestamp (NULL stays NULL)."""
    local = local_time(ts)
    return {
        f"{prefix}_dt_utc": ts,
        f"{prefix}_dt": local,
        f"{prefix}_dt_hour_utc": f"date_trunc('hour', {ts})",
        f"{prefix}_dt_hour": f"date_trunc('hour', {local})",
        f"{prefix}_date_utc": f"CAST({ts} AS DATE)",
        f"{prefix}_date": f"CAST({local} AS DATE)",
        f"{prefix}_day_utc": f"day({ts})",
        f"{prefix}_day": f"day({local})",
        f"{prefix}_hour_utc": f"hour({ts})",
        f"{prefix}_hour": f"hour({local})",
    }


def flights(*prefixes: str) -> Expressions:
    """Start and end columns of campaigns, line items and ad groups: every one runs the campaign's flight."""
    out: Expressions = {}
    for prefix in prefixes:
        for edge in ("start", "end"):
            for kind in ("date", "dt"):
                out[f"{prefix}_{edge}_{kind}"] = f"c.{edge}_local"
                out[f"{prefix}_{edge}_{kind}_utc"] = f"c.{edge}_utc"
    return out


ACCOUNT: Expressions = {
    "advertiser": "c.advertiser",
    "advertiser_id": "c.advertiser_id",
    "advertiser_timezone": "c.time_zone",
    "entity_id": f"'{cat.ENTITY_ID}'",
    "merchant_id": "c.merchant_id",
    "currency_name": f"'{cat.CURRENCY_NAME}'",
    "currency_iso_code": f"'{cat.CURRENCY_CODE}'",
    "marketplace_name": f"'{cat.MARKETPLACE}'",
    "campaign": "c.name",
    "campaign_id": "c.campaign_id",
    "campaign_id_string": "CAST(c.campaign_id AS VARCHAR)",
    "campaign_budget_amount": "c.budget",
    "campaign_budget_type": "c.budget_type",
    "campaign_country": "'US'",
    "campaign_flight_id": "c.flight_id",
    "campaign_insertion_order_id": "c.insertion_order_id",
    "campaign_primary_goal": "c.primary_goal",
    "campaign_sales_type": "c.sales_type",
    "campaign_source": "c.source",
    "campaign_status": "c.status",
    "portfolio_id": "c.portfolio_id",
    "portfolio_name": "c.portfolio_name",
    "product_line": "c.product_line",
    "advertiser_account_frequency_group_ids": "c.frequency_group_ids",
    "manager_account_frequency_group_ids": "c.manager_frequency_group_ids",
    "ad_product_type": "c.ad_product_type",
    **flights("campaign", "line_item", "ad_group"),
}


def user(user_hash: str, app: str) -> Expressions:
    """User and device columns, from the user's hash and device (``d``)."""
    return {
        "user_id": hex_id(user_hash),
        USER_KEY: user_hash,
        "user_id_type": f"CASE WHEN {user_hash} % 20 < 17 THEN 'adUserId' "
        f"WHEN {user_hash} % 20 < 19 THEN 'sisDeviceId' ELSE 'adBrowserId' END",
        "no_3p_trackers": f"({user_hash} >> 5) % 10 = 0",
        "device_id": hex_id(f"xor({user_hash}, CAST(11400714819323198485 AS UBIGINT))"),
        "device_type": "d.device_type",
        "operating_system": "d.os_name",
        "os_name": "d.os_name",
        "os_version": pick("d.os_versions", user_hash, 40),
        "device_make": pick("d.makes", user_hash, 32),
        "device_model": pick("d.models", user_hash, 32),
        "browser_family": f"CASE WHEN {app} THEN d.app_browser ELSE {pick('d.browsers', user_hash, 48)} END",
    }


PLACE_COLUMNS = ("iso_country_code", "iso_state_province_code", "dma_code", "city_name", "postal_code")
PLACE: Expressions = {name: f"p.{name}" for name in PLACE_COLUMNS}


def dsp(tag: str, app: str) -> Expressions:
    """Line item, creative and inventory columns of a DSP event whose impression's key is ``tag``."""
    k = f"1 + {bits(tag, 16, 2)}"
    return {
        "line_item": "li.name",
        "line_item_id": "li.line_item_id",
        "line_item_budget_amount": "li.budget",
        "line_item_price_type": "'CPM'",
        "line_item_status": "li.status",
        "line_item_type": "li.line_item_type",
        "creative": "cr.name",
        "creative_id": "cr.creative_id",
        "creative_type": "cr.creative_type",
        "creative_category": "cr.category",
        "creative_size": "cr.creative_size",
        "creative_duration": "cr.duration",
        "creative_is_link_in": "cr.link_in",
        "ad_slot_size": "cr.creative_size",
        "supply_source": "s.name",
        "supply_source_id": "s.supply_source_id",
        "supply_source_is_view_aware": "s.view_aware",
        "supply_source_view_rate": "s.view_rate",
        "is_amazon_owned": "s.amazon_owned",
        "site": f"CASE WHEN {app} THEN s.apps[{k}] ELSE s.sites[{k}] END",
        "app_bundle": f"CASE WHEN {app} THEN s.bundles[{k}] END",
        "page_type": f"s.page_types[{k}]",
        "slot_position": f"CASE WHEN {app} THEN 'UNKNOWN' WHEN {bits(tag, 18, 3)} = 0 THEN 'BTF' ELSE 'ATF' END",
        "placement_is_view_aware": f"s.view_aware AND {bits(tag, 20, 10)} <> 0",
        "placement_view_rate": f"s.view_rate * (0.9 + 0.1 * {bits(tag, 16, 2)})",
        "deal_id": f"CASE WHEN {bits(tag, 22, 4)} = 0 THEN s.deal_id END",
        "deal_name": f"CASE WHEN {bits(tag, 22, 4)} = 0 THEN s.deal_name END",
        "demand_channel": "'Amazon DSP'",
        "demand_channel_owner": "'Amazon Ads'",
        "environment_type": f"CASE WHEN {app} THEN 'App' ELSE 'Web' END",
        "request_tag": hex_id(tag),
    }


def fees(cost: str) -> Expressions:
    """DSP cost columns (microcents) of an impression of media cost ``cost`` (millicents)."""
    supply = f"({cost} * 1000)"
    parts = {
        "supply_cost": supply,
        "audience_fee": "c.audience_fee",
        "platform_fee": f"CAST(round({supply} * c.platform_rate) AS BIGINT)",
        "managed_service_fee": f"CAST(round({supply} * c.managed_rate) AS BIGINT)",
        "ocm_fee": f"CAST(round({supply} * c.ocm_rate) AS BIGINT)",
        "third_party_fees": "cr.third_party_fee",
    }
    return {**parts, "total_cost": f"({' + '.join(parts.values())}) / 1000.0", "impression_cost": cost}


SA_CREATIVE = (
    "CASE WHEN c.ad_product_type IN ('sponsored_products', 'sponsored_display') "
    "THEN c.name || ' | ' || {asin} ELSE c.name || ' | Brand creative' END"
)
SA_CREATIVE_ASIN = "CASE WHEN c.ad_product_type IN ('sponsored_products', 'sponsored_display') THEN {asin} END"
SEARCH_TERM = "CASE WHEN c.ad_product_type = 'sponsored_products' THEN t.customer_search_term END"


def sa_target() -> Expressions:
    """Targeting columns of a sponsored ads event (``t`` its target, ``pl`` its placement)."""
    return {
        "targeting": "t.targeting",
        "match_type": "t.match_type",
        "customer_search_term": SEARCH_TERM,
        "placement_type": "pl.name",
    }


def flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def conversion(sales: str) -> Expressions:
    """Columns of the conversion event itself (``a`` its ASIN, ``st`` its subtype)."""
    return {
        "conversions": "1",
        "event_type": "'CONVERSION'",
        "event_subtype": "st.name",
        "event_category": "st.category",
        "event_type_class": "st.type_class",
        "event_type_description": "st.description",
        "conversion_event_name": "NULL",  # Events Manager conversions only
        "conversion_event_source_name": "NULL",  # NULL on Amazon
        "tracked_asin": "a.name",
        "tracked_item": "a.name",
        "new_to_brand": "e.new_to_brand",
        "purchase_currency": f"CASE WHEN st.is_order THEN '{cat.CURRENCY_CODE}' END",
        "purchase_retail_program": "CASE WHEN st.is_order THEN 'Amazon.com' END",
        "purchase_unit_price": "CASE WHEN st.is_order THEN a.price END",
        "total_product_sales": sales,
        "total_units_sold": "e.units",
        "combined_sales": sales,
        "off_amazon_product_sales": "0",
        "off_amazon_conversion_value": "0",
    }


def attributed_metrics() -> Expressions:
    """Every attributed metric family (see ``schema._conversion``) as SQL."""
    values = {
        "purchases": ("st.is_order", "1"),
        "units_sold": ("TRUE", "e.units"),
        "product_sales": ("TRUE", "e.units * a.price"),
        "detail_page_view": ("st.name = 'detailPageView'", "1"),
        "add_to_cart": ("st.name = 'addToCart'", "1"),
    }
    scopes = {"": "pr.asin IS NOT NULL", "brand_halo_": "pr.asin IS NULL", "total_": "TRUE"}
    credits = {"": "TRUE", "_clicks": "e.is_click", "_views": "NOT e.is_click"}
    out: Expressions = {}
    for base, (counted, value) in values.items():
        for scope, in_scope in scopes.items():
            for credit, credited in credits.items():
                condition = f"{counted} AND {in_scope} AND {credited}"
                out[f"{scope}{base}{credit}"] = f"CASE WHEN {condition} THEN {value} ELSE 0 END"
                if base in ("purchases", "units_sold", "product_sales"):
                    out[f"new_to_brand_{scope}{base}{credit}"] = (
                        f"CASE WHEN {condition} AND e.new_to_brand THEN {value} ELSE 0 END"
                    )
    for kind in ("", "free_trial_", "paid_"):
        for app in ("", "app_"):
            for credit in credits:
                out[f"digital_{kind}{app}subscription_signup_purchases{credit}"] = "0"  # no digital products
    return out
