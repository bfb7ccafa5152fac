"""The standard analyses shipped with amc-magic: their metadata, next to the SQL in ``sql/<name>.sql``.

Each follows one of AMC's instructional queries, within AMC's privacy rules: every output row
aggregates users (no ``user_id`` in the output, no literal filter on a HIGH or VERY_HIGH column),
and rows below the aggregation thresholds are removed by AMC, so small campaigns or rare paths may
be missing from a result. Costs are in the account's currency (DSP millicents / 100,000, sponsored
ads microcents / 100,000,000).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from . import plots
from .model import Analysis, Column, Parameter

CAMPAIGNS = Parameter("campaigns", "list[str]", "DSP campaign names to include.")


def _sql(short_name: str) -> str:
    return resources.files(__package__).joinpath("sql", f"{short_name}.sql").read_text(encoding="utf-8")


def _analysis(short_name: str, title: str, description: str, source: str, **fields: Any) -> Analysis:
    return Analysis(f"analyses/{short_name}", title, description, source, _sql(short_name), **fields)


@functools.cache
def analyses() -> tuple[Analysis, ...]:
    """Every standard analysis, in the order they are listed."""
    return (
        _analysis(
            "reach_frequency",
            "Reach and frequency by DSP campaign",
            "Distinct users reached, impressions, impressions per user and cost of each campaign.",
            "AMC instructional query: Reach and frequency by campaign (dsp_impressions)",
            parameters=(CAMPAIGNS,),
            columns=(
                Column("campaign", "STRING", "DSP campaign name."),
                Column("reach", "LONG", "Distinct users with at least one impression."),
                Column("impressions", "LONG", "Impressions served."),
                Column("avg_frequency", "DOUBLE", "Impressions per reached user."),
                Column("cost", "DOUBLE", "Total cost (media and fees) in the account's currency."),
            ),
            plotter=plots.reach_frequency,
        ),
        _analysis(
            "frequency_distribution",
            "Frequency distribution by DSP campaign",
            "Users of each campaign by how many impressions they saw; the largest frequency collects "
            "every user who saw that many or more.",
            "AMC instructional query: Optimal frequency (impressions per user, then users per frequency)",
            parameters=(
                CAMPAIGNS,
                Parameter("max_frequency", "int", "Frequencies at or above this one are counted together.", 10),
            ),
            columns=(
                Column("campaign", "STRING", "DSP campaign name."),
                Column("frequency", "LONG", "Impressions per user (max_frequency means that many or more)."),
                Column("users", "LONG", "Distinct users who saw the campaign that often."),
                Column("impressions", "LONG", "Impressions those users saw."),
            ),
            plotter=plots.frequency_distribution,
        ),
        _analysis(
            "campaign_overlap",
            "Audience overlap of DSP campaign pairs",
            "Users reached by both campaigns of each pair, and the impressions each campaign served them.",
            "AMC instructional query: Campaign overlap (per-user exposure, self-join on user_id)",
            parameters=(CAMPAIGNS,),
            columns=(
                Column("campaign_a", "STRING", "The pair's first campaign (alphabetically)."),
                Column("campaign_b", "STRING", "The pair's second campaign."),
                Column("overlap_users", "LONG", "Distinct users reached by both."),
                Column("impressions_a", "LONG", "Impressions of campaign_a to those users."),
                Column("impressions_b", "LONG", "Impressions of campaign_b to those users."),
            ),
            plotter=plots.campaign_overlap,
        ),
        _analysis(
            "path_to_conversion",
            "Path to conversion across DSP and sponsored ads",
            "The order in which users first met DSP, SP, SB and SD before their first purchase (for "
            "example 'DSP > SP'), with users, purchasers and conversion rate per path.",
            "AMC instructional query: Path to conversion by campaign group (channels instead of groups)",
            parameters=(
                Parameter(
                    "include_non_purchasers", "bool", "Count users who did not purchase (false: purchasers only).", True
                ),
            ),
            columns=(
                Column("path", "STRING", "Channels in the order first met, joined by ' > '."),
                Column("users", "LONG", "Distinct users with that path."),
                Column("users_that_purchased", "LONG", "Of them, users who purchased afterwards."),
                Column("purchases", "LONG", "Attributed purchases of those users."),
                Column("conversion_rate", "DOUBLE", "users_that_purchased / users."),
            ),
            plotter=plots.path_to_conversion,
        ),
        _analysis(
            "new_to_brand",
            "New-to-brand purchases by campaign",
            "Attributed purchases and sales of each campaign, the part from new-to-brand buyers, and "
            "their share.",
            "AMC instructional query: New-to-brand analysis (amazon_attributed_events_by_conversion_time)",
            parameters=(Parameter("min_purchases", "int", "Leave out campaigns with fewer purchases.", 1),),
            columns=(
                Column("campaign", "STRING", "Campaign name."),
                Column("ad_product", "STRING", "dsp, sponsored_products, sponsored_brands, ..."),
                Column("purchases", "LONG", "Attributed purchases (promoted and brand halo)."),
                Column("ntb_purchases", "LONG", "Of them, purchases by new-to-brand buyers."),
                Column("product_sales", "DECIMAL", "Attributed sales."),
                Column("ntb_product_sales", "DECIMAL", "Of them, sales to new-to-brand buyers."),
                Column("ntb_purchase_share", "DOUBLE", "ntb_purchases / purchases."),
            ),
            plotter=plots.new_to_brand,
        ),
        _analysis(
            "time_to_conversion",
            "Time to conversion by ad product",
            "How long after the attributed ad event buyers purchase: average hours, and purchases "
            "within one, three and seven days.",
            "AMC instructional query: Time to conversion (SECONDS_BETWEEN traffic and conversion events)",
            parameters=(
                Parameter("max_days", "int", "Leave out purchases more than this many days after the ad event.", 14),
            ),
            columns=(
                Column("ad_product", "STRING", "dsp, sponsored_products, sponsored_brands, ..."),
                Column("buyers", "LONG", "Distinct buyers."),
                Column("purchases", "LONG", "Attributed purchases."),
                Column("avg_hours_to_conversion", "DOUBLE", "Average hours from ad event to purchase."),
                Column("purchases_within_1d", "LONG", "Purchases less than a day after the ad event."),
                Column("purchases_within_3d", "LONG", "Purchases less than three days after it."),
                Column("purchases_within_7d", "LONG", "Purchases less than seven days after it."),
            ),
            plotter=plots.time_to_conversion,
        ),
        _analysis(
            "search_term_performance",
            "Search-term performance of sponsored ads",
            "Impressions, clicks, spend, click-through rate and cost per click of each customer search "
            "term of each campaign.",
            "AMC instructional query: Sponsored Products search term performance (sponsored_ads_traffic)",
            parameters=(
                Parameter("ad_product", "str", "The sponsored ads product.", "sponsored_products"),
                Parameter("min_clicks", "int", "Leave out search terms with fewer clicks.", 1),
            ),
            columns=(
                Column("campaign", "STRING", "Sponsored ads campaign name."),
                Column("customer_search_term", "STRING", "What the customer searched for."),
                Column("impressions", "LONG", "Impressions."),
                Column("clicks", "LONG", "Clicks."),
                Column("spend", "DOUBLE", "Spend in the account's currency."),
                Column("ctr", "DOUBLE", "clicks / impressions."),
                Column("cpc", "DOUBLE", "spend / clicks."),
            ),
            plotter=plots.search_term_performance,
        ),
        _analysis(
            "channel_mix",
            "Channel mix: DSP and sponsored ads",
            "Reach, impressions and cost of DSP next to each sponsored ads product. Reach is counted per "
            "channel: a user reached by two channels counts in both.",
            "AMC instructional query: Media mix (UNION ALL of dsp_impressions and sponsored_ads_traffic)",
            parameters=(),
            columns=(
                Column("channel", "STRING", "dsp, sponsored_products, sponsored_brands, sponsored_display, ..."),
                Column("reach", "LONG", "Distinct users reached by the channel."),
                Column("impressions", "LONG", "Impressions."),
                Column("cost", "DOUBLE", "Cost in the account's currency."),
            ),
            plotter=plots.channel_mix,
        ),
    )
