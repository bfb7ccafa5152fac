"""Conversion columns: the conversion event itself and the attributed metrics of AMC's attribution tables.

Attributed metrics come in families. A base metric (``purchases``, ``units_sold``, ``product_sales``,
``detail_page_view``, ``add_to_cart``) counts the campaign's promoted products; ``brand_halo_`` counts the
advertiser's other products and ``total_`` both; ``new_to_brand_`` keeps only new-to-brand purchases. Every
metric has a ``_clicks`` and a ``_views`` variant, crediting only conversions attributed to a click or to an
impression; the two add up to the metric.
"""

from __future__ import annotations

from ._model import BOOLEAN, DECIMAL, LONG, LOW, NONE, STRING, VERY_HIGH, D, M, Specs

CONVERSION: Specs = {
    "conversion_id": (STRING, D, VERY_HIGH, "Conversion ID, unique per conversion."),
    "conversions": (LONG, M, NONE, "Conversions: 1 per row."),
    "event_type": (STRING, D, LOW, "Event type: CONVERSION."),
    "event_subtype": (STRING, D, LOW, "Conversion subtype, e.g. order, detailPageView, addToCart."),
    "event_category": (STRING, D, LOW, "purchase, website or off-Amazon."),
    "event_type_class": (STRING, D, LOW, "consideration or conversion."),
    "event_type_description": (STRING, D, LOW, "Readable conversion type, e.g. Product purchased."),
    "conversion_event_name": (STRING, D, LOW, "Advertiser's name of an Events Manager conversion definition."),
    "conversion_event_source_name": (STRING, D, LOW, "Source of an advertiser-provided conversion; NULL on Amazon."),
    "tracked_asin": (STRING, D, LOW, "ASIN of the conversion."),
    "tracked_item": (STRING, D, LOW, "Item of the conversion (the ASIN for product conversions)."),
    "new_to_brand": (BOOLEAN, D, LOW, "Whether the buyer had not bought the brand in the past year."),
    "purchase_currency": (STRING, D, LOW, "ISO 4217 currency of a purchase."),
    "purchase_retail_program": (STRING, D, LOW, "Retail program of a purchase, e.g. Amazon.com."),
    "purchase_unit_price": (DECIMAL, M, NONE, "Unit price of the product bought."),
    "total_product_sales": (DECIMAL, M, NONE, "Sales of the purchase in local currency."),
    "total_units_sold": (LONG, M, NONE, "Units of the purchase."),
    "combined_sales": (DECIMAL, M, NONE, "total_product_sales plus off_amazon_product_sales."),
    "off_amazon_product_sales": (DECIMAL, M, NONE, "Sales value of an off-Amazon purchase conversion."),
    "off_amazon_conversion_value": (DECIMAL, M, NONE, "Value of an off-Amazon non-purchase conversion."),
    "engagement_scope": (STRING, D, LOW, "PROMOTED or BRAND_HALO: how the conversion relates to the campaign."),
    "halo_code": (STRING, D, LOW, "Why a conversion is relevant to the campaign, e.g. TRACKED_ASIN."),
}

_SCOPES = {
    "": "promoted products",
    "brand_halo_": "the advertiser's other (brand halo) products",
    "total_": "promoted and brand halo products",
}
_BASES = {  # name: (type, what is counted)
    "purchases": (LONG, "Purchases of {scope}"),
    "units_sold": (LONG, "Units sold of {scope}"),
    "product_sales": (DECIMAL, "Sales of {scope}"),
    "detail_page_view": (LONG, "Detail page views of {scope}"),
    "add_to_cart": (LONG, "Add-to-cart events of {scope}"),
}
_DIGITAL = {
    "digital_subscription_signup_purchases": "Digital subscription sign-ups (free trial or paid)",
    "digital_free_trial_subscription_signup_purchases": "Free-trial digital subscription sign-ups",
    "digital_paid_subscription_signup_purchases": "Paid digital subscription sign-ups",
    "digital_app_subscription_signup_purchases": "App subscription sign-ups (free trial or paid)",
    "digital_free_trial_app_subscription_signup_purchases": "Free-trial app subscription sign-ups",
    "digital_paid_app_subscription_signup_purchases": "Paid app subscription sign-ups",
}
_CREDIT = {"": "an ad view or click", "_clicks": "an ad click", "_views": "an ad view"}


def _split(name: str, data_type: str, what: str) -> Specs:
    """A metric and its ``_clicks`` and ``_views`` variants."""
    return {
        name + suffix: (data_type, M, NONE, f"{what}, attributed to {credit}.") for suffix, credit in _CREDIT.items()
    }


def _attributed_metrics() -> Specs:
    specs: Specs = {}
    for scope, scope_text in _SCOPES.items():
        for base, (data_type, what) in _BASES.items():
            specs |= _split(scope + base, data_type, what.format(scope=scope_text))
            if base in ("purchases", "units_sold", "product_sales"):
                ntb_what = what.format(scope=scope_text) + " to new-to-brand buyers"
                specs |= _split(f"new_to_brand_{scope}{base}", data_type, ntb_what)
    for name, what in _DIGITAL.items():
        specs |= _split(name, LONG, what)
    return specs


ATTRIBUTED_METRICS: Specs = _attributed_metrics()
