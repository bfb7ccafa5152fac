"""Columns several AMC tables share (advertiser, campaign, line item, creative, supply, device, place, user).

A name means the same in every table that has it; a table whose documentation gives a column another type,
kind or threshold overrides it where the table is defined (``_tables``). Costs are in millicents
(1/100,000 of the currency unit) or microcents (1/100,000,000), as AMC stores them.
"""

from __future__ import annotations

from ._model import (
    BOOLEAN,
    DECIMAL,
    DOUBLE,
    HIGH,
    INTEGER,
    INTEGERS,
    LONG,
    LONGS,
    LOW,
    MEDIUM,
    NONE,
    STRING,
    TIMESTAMP,
    VERY_HIGH,
    D,
    M,
    Specs,
    flight,
)

ACCOUNT: Specs = {
    "advertiser": (STRING, D, LOW, "Advertiser name."),
    "advertiser_id": (LONG, D, LOW, "Advertiser ID."),
    "advertiser_timezone": (STRING, D, LOW, "Advertiser's time zone, e.g. America/New_York."),
    "entity_id": (STRING, D, LOW, "Amazon Ads entity (seat) the event belongs to."),
    "merchant_id": (LONG, D, LOW, "Merchant ID."),
    "currency_name": (STRING, D, LOW, "Currency of the cost columns."),
    "currency_iso_code": (STRING, D, LOW, "ISO 4217 code of the cost columns' currency."),
    "marketplace_name": (STRING, D, LOW, "Marketplace, e.g. AMAZON.COM."),
}

CAMPAIGN: Specs = {
    "campaign": (STRING, D, LOW, "Campaign name."),
    "campaign_id": (LONG, D, LOW, "Campaign ID."),
    "campaign_id_string": (STRING, D, LOW, "Campaign ID as text, as the ads console shows it."),
    "campaign_budget_amount": (LONG, D, LOW, "Campaign budget in millicents."),
    "campaign_budget_type": (STRING, D, LOW, "DAILY_BUDGET or LIFETIME_BUDGET."),
    "campaign_country": (STRING, D, LOW, "Country the campaign is set up for."),
    "campaign_flight_id": (LONG, D, LOW, "ID of the campaign's flight (scheduled run period)."),
    "campaign_insertion_order_id": (STRING, D, LOW, "Insertion order of the campaign."),
    "campaign_primary_goal": (STRING, D, LOW, "Optimization goal of the campaign, e.g. REACH or ROAS."),
    "campaign_sales_type": (STRING, D, LOW, "BILLABLE or BONUS."),
    "campaign_source": (STRING, D, LOW, "System the campaign comes from."),
    "campaign_status": (STRING, D, LOW, "Campaign status, e.g. RUNNING or ENDED."),
    "portfolio_id": (LONG, D, LOW, "Portfolio the campaign belongs to."),
    "portfolio_name": (STRING, D, LOW, "Name of the campaign's portfolio."),
    "product_line": (STRING, D, LOW, "Product line of the campaign."),
    **flight("campaign", "the campaign", TIMESTAMP),
    "advertiser_account_frequency_group_ids": (LONGS, D, LOW, "Advertiser-level frequency groups that applied."),
    "manager_account_frequency_group_ids": (LONGS, D, LOW, "Manager-account-level frequency groups that applied."),
}

LINE_ITEM: Specs = {
    "line_item": (STRING, D, LOW, "Line item name (the ad group on sponsored ads)."),
    "line_item_id": (LONG, D, LOW, "Line item ID (the ad group ID on sponsored ads)."),
    "line_item_budget_amount": (LONG, D, LOW, "Line item budget in millicents."),
    "line_item_price_type": (STRING, D, LOW, "Pricing model of the line item, e.g. CPM or CPC."),
    "line_item_status": (STRING, D, LOW, "Line item status, e.g. RUNNING or ENABLED."),
    "line_item_type": (STRING, D, LOW, "Line item type, e.g. AAP_DISPLAY."),
    **flight("line_item", "the line item", TIMESTAMP),
    "ad_group": (STRING, D, LOW, "Ad group name (same as line_item)."),
    "ad_group_id": (LONG, D, LOW, "Ad group ID (same as line_item_id; not in Amazon's published list)."),
    "ad_group_status": (STRING, D, LOW, "Ad group status: ENABLED, PAUSED or ARCHIVED."),
    "ad_group_type": (STRING, D, LOW, "Ad group type, e.g. KEYWORD or AUDIENCE."),
    **{k: v for k, v in flight("ad_group", "the ad group", TIMESTAMP).items() if "_dt" in k},
}

CREATIVE: Specs = {
    "creative": (STRING, D, LOW, "Creative (ad) name."),
    "creative_id": (LONG, D, LOW, "Creative ID."),
    "creative_type": (STRING, D, LOW, "Creative type, e.g. display, video or audio."),
    "creative_category": (STRING, D, LOW, "Display, Video or NULL."),
    "creative_size": (STRING, D, LOW, "Creative size, e.g. 300x250."),
    "creative_duration": (LONG, D, LOW, "Video or audio length in seconds; NULL for display."),
    "creative_is_link_in": (STRING, D, LOW, "Y when the ad leads to an Amazon page, N when it links out."),
    "creative_asin": (STRING, D, LOW, "ASIN shown in the ad (sponsored products and display)."),
    "ad_slot_size": (STRING, D, LOW, "Size of the ad slot, width x height."),
}

INVENTORY: Specs = {
    "supply_source": (STRING, D, LOW, "Supply source the impression was bought from."),
    "supply_source_id": (LONG, D, LOW, "Supply source ID."),
    "supply_source_is_view_aware": (BOOLEAN, D, LOW, "Whether the supply source measures viewability."),
    "supply_source_view_rate": (DECIMAL, D, LOW, "Share of the supply source's impressions that are viewable."),
    "is_amazon_owned": (BOOLEAN, D, LOW, "Whether the impression ran on Amazon-owned inventory."),
    "site": (STRING, D, LOW, "Site or app the ad ran on."),
    "app_bundle": (STRING, D, LOW, "App bundle ID of in-app impressions."),
    "page_type": (STRING, D, LOW, "Type of page, e.g. Search or Detail."),
    "slot_position": (STRING, D, LOW, "ATF (above the fold), BTF or UNKNOWN."),
    "placement_is_view_aware": (BOOLEAN, D, LOW, "Whether the placement measures viewability."),
    "placement_view_rate": (DECIMAL, D, LOW, "Share of the placement's impressions that are viewable."),
    "placement_type": (STRING, D, LOW, "Placement, e.g. Top of Search on-Amazon."),
    "deal_id": (STRING, D, LOW, "Private deal the impression was bought through."),
    "deal_name": (STRING, D, LOW, "Name of the private deal."),
    "demand_channel": (STRING, D, LOW, "Demand channel."),
    "demand_channel_owner": (STRING, D, LOW, "Owner of the demand channel."),
    "environment_type": (STRING, D, LOW, "Web or App."),
    "request_tag": (STRING, D, VERY_HIGH, "ID linking an impression to its views, clicks and conversions."),
    "targeting": (STRING, D, LOW, "Keyword or targeting expression."),
    "match_type": (STRING, D, LOW, "Keyword match type: EXACT, PHRASE, BROAD or TARGETING_EXPRESSION."),
    "customer_search_term": (STRING, D, LOW, "Search term the customer typed (sponsored products)."),
    "ad_product_type": (STRING, D, LOW, "sponsored_products, sponsored_brands, sponsored_display, sponsored_tv."),
}

DEVICE: Specs = {
    "device_type": (STRING, D, LOW, "Device type: Phone, PC, TV, Tablet, Other."),
    "device_make": (STRING, D, LOW, "Device manufacturer."),
    "device_model": (STRING, D, LOW, "Device model."),
    "device_id": (STRING, D, VERY_HIGH, "Pseudonymous device ID."),
    "operating_system": (STRING, D, LOW, "Operating system of the device."),
    "os_name": (STRING, D, LOW, "Operating system of the device (same as operating_system; not in Amazon's list)."),
    "os_version": (STRING, D, LOW, "Operating system version."),
    "browser_family": (STRING, D, LOW, "Browser or app environment, e.g. Chrome or iOS App."),
}

PLACE: Specs = {
    "iso_country_code": (STRING, D, LOW, "ISO 3166 country code."),
    "iso_state_province_code": (STRING, D, LOW, "ISO 3166-2 state or province code."),
    "dma_code": (STRING, D, LOW, "Designated market area code."),
    "city_name": (STRING, D, HIGH, "City name."),
    "postal_code": (STRING, D, HIGH, "Postal code."),
}

AUDIENCE: Specs = {
    "user_id": (STRING, D, VERY_HIGH, "Pseudonymous user ID."),
    "user_id_type": (STRING, D, LOW, "Kind of user ID: adUserId, sisDeviceId or adBrowserId."),
    "no_3p_trackers": (BOOLEAN, D, NONE, "Whether audiences built from the event cannot carry third-party trackers."),
    "matched_behavior_segment_ids": (INTEGERS, D, LOW, "Targeted behavior segments the user matched."),
    "user_behavior_segment_ids": (INTEGERS, D, LOW, "Behavior segments the user belonged to."),
    "segment_marketplace_id": (INTEGER, D, LOW, "Marketplace of the audience segments."),
}

COSTS: Specs = {
    "impression_cost": (LONG, M, NONE, "Media cost of the impression in millicents."),
    "total_cost": (DOUBLE, M, NONE, "Media cost plus all fees in millicents (divide by 100,000 for currency)."),
    "supply_cost": (LONG, M, NONE, "Amount paid to the publisher or exchange, in microcents."),
    "audience_fee": (LONG, M, NONE, "Fee for Amazon audiences in microcents."),
    "platform_fee": (LONG, M, NONE, "Amazon DSP platform fee in microcents."),
    "managed_service_fee": (LONG, M, NONE, "Managed-service fee in microcents."),
    "ocm_fee": (LONG, M, LOW, "Omnichannel measurement fee in microcents."),
    "third_party_fees": (LONG, M, NONE, "Third-party data and measurement fees in microcents."),
    "bid_price": (LONG, M, MEDIUM, "Bid price in microcents (divide by 100,000,000 for currency)."),
    "click_cost": (LONG, M, MEDIUM, "Click cost in millicents."),
    "spend": (LONG, M, NONE, "Spend in microcents (divide by 100,000,000 for currency)."),
}

TRAFFIC: Specs = {
    "impressions": (LONG, M, NONE, "Impressions: 1 on an impression row."),
    "clicks": (LONG, M, NONE, "Clicks: 1 on a click row."),
    "viewable_impressions": (LONG, M, NONE, "1 when the impression met the MRC viewability standard."),
    "measurable_impressions": (LONG, M, NONE, "1 when the impression could be measured for viewability."),
    "unmeasurable_viewable_impressions": (LONG, M, NONE, "1 for an unmeasurable but estimated-viewable impression."),
    "view_definition": (STRING, D, LOW, "Viewability definition a view event was judged by."),
    "five_sec_views": (LONG, M, NONE, "1 when the video played for at least five seconds."),
    "video_first_quartile_views": (LONG, M, NONE, "1 when the video played to 25%."),
    "video_midpoint_views": (LONG, M, NONE, "1 when the video played to 50%."),
    "video_third_quartile_views": (LONG, M, NONE, "1 when the video played to 75%."),
    "video_complete_views": (LONG, M, NONE, "1 when the video played to the end."),
    "video_unmutes": (LONG, M, NONE, "1 when the shopper unmuted the video."),
    "event_id": (STRING, D, VERY_HIGH, "ID of the sponsored ads traffic event."),
}

COMMON: Specs = {
    **ACCOUNT, **CAMPAIGN, **LINE_ITEM, **CREATIVE, **INVENTORY, **DEVICE, **PLACE, **AUDIENCE, **COSTS, **TRAFFIC
}
