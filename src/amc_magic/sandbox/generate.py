"""Synthetic AMC events, generated day by day as NumPy columns.

Every random value is a hash of the seed and the identity of the thing it describes (see ``rng``):
impression ``i`` of campaign ``c`` on day ``d`` is the same whichever days are generated with it.
:func:`day_batch` returns the events of the days ``[since, last]``. Events that follow earlier traffic
(clicks, conversions driven by ads) are derived from the traffic of the 15 days before ``since``,
regenerated identically, so a database extended day by day holds the same rows as one generated at
once. An event exists once it has happened: a click or conversion after ``last`` is not there yet.

How the world behaves:

* Users have a home (country, state, DMA, city, postal code) and a device. Each campaign reaches a
  pool of users, some of them much more often than others; pools of different campaigns overlap.
* Daily volume follows the weekday, a Prime Day and a Black Friday peak, and the hour of day (UTC).
* Clicks follow impressions of the same user and campaign by seconds to minutes.
* Some traffic events lead to a conversion (a detail page view, add to cart or order of the
  advertiser's products) up to 14 days later; organic conversions happen without ads.
* Attribution (done in ``storage``) credits each conversion, per campaign of the product's advertiser,
  to that campaign's last click in the 14 days before it, or else its last impression; sponsored
  products and brands impressions are not credited.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from . import catalog as cat
from .rng import U64, KeyedRandom, below, bits, uniform, weighted

I64 = npt.NDArray[np.int64]
Columns = dict[str, np.ndarray]
LOOKBACK_DAYS = 15  # attribution window (14 days) plus a day for clicks after late impressions
DAY_US = 86_400_000_000
_EPOCH = date(1970, 1, 1)
_WEEKDAY = np.array([0.95, 0.96, 0.98, 1.0, 1.04, 1.09, 1.03])  # Monday first
# fmt: off
_HOURS = np.array([  # relative volume by UTC hour: US evenings are busiest
    1.5, 1.6, 1.6, 1.4, 1.1, 0.8, 0.5, 0.35, 0.3, 0.3, 0.35, 0.45,
    0.6, 0.8, 0.95, 1.05, 1.1, 1.15, 1.15, 1.2, 1.25, 1.3, 1.35, 1.45,
])
# fmt: on
_VIEW_CONVERSION = 0.006
_CLICK_CONVERSION = 0.12
_PROMOTED_SHARE = 0.75


class Stream(enum.IntEnum):
    """Which kind of thing a hash describes (the first key after the seed)."""

    USER = 1
    POOL = 2
    DSP_COUNT = 3
    DSP_IMPRESSION = 4
    SA_COUNT = 5
    SA_IMPRESSION = 6
    ORGANIC_COUNT = 7
    ORGANIC = 8


class F(enum.IntEnum):
    """Which value of a row a hash field is."""

    COUNT, COUNT_ROUND, USER, HOUR, SECOND, LINE_ITEM, CREATIVE, SUPPLY, APP, COST, BID = range(11)
    CLICK, CLICK_DELAY, CLICK_KEY, CLICK_COST, TARGET, TERM, PLACEMENT, ASIN = range(11, 19)
    SPAWN, CONVERSION, DELAY, SUBTYPE, PROMOTED, HALO, UNITS, NEW_TO_BRAND = range(19, 27)
    DEVICE, PLACE, POSTAL, USER_ID, MEASURE, VIEWABLE = range(27, 33)


CAMPAIGNS: tuple[cat.DspCampaign | cat.SaCampaign, ...] = (*cat.DSP_CAMPAIGNS, *cat.SA_CAMPAIGNS)
"""Every campaign; events name their campaign by its index here (DSP campaigns first)."""
SA_FIRST = len(cat.DSP_CAMPAIGNS)
ASINS_PER_ADVERTISER = 5


@dataclass(frozen=True)
class DayBatch:
    """The events of a range of days, each table's rows in day order.

    Attributes:
        dsp_impressions, dsp_clicks, sa_events, conversions: events inside the range.
        traffic: every event conversions can be attributed to, from 14 days before the range on.
    """

    dsp_impressions: Columns
    dsp_clicks: Columns
    sa_events: Columns
    conversions: Columns
    traffic: Columns


def epoch_day(day: date) -> int:
    return (day - _EPOCH).days


def user_count(scale: float) -> int:
    """Size of the user universe at ``scale``."""
    return max(2_000, round(cat.USERS_AT_SCALE_1 * scale))


def day_batch(*, seed: int, scale: float, first: date, since: date, last: date) -> DayBatch:
    """The events of the days ``[since, last]``; ``first`` is the first day any traffic exists."""
    world = _World(KeyedRandom(seed), scale, user_count(scale))
    days = np.arange(max(epoch_day(first), epoch_day(since) - LOOKBACK_DAYS), epoch_day(last) + 1)
    lo, hi = epoch_day(since) * DAY_US, (epoch_day(last) + 1) * DAY_US
    dsp = world.dsp_impressions(days)
    clicks = world.dsp_clicks(dsp)
    sa = world.sa_events(days)
    traffic = world.traffic(dsp, clicks, sa)
    conversions = world.conversions(traffic, days[days >= epoch_day(since)])
    return DayBatch(
        dsp_impressions=world.with_user(_within(dsp, lo, hi)),
        dsp_clicks=world.with_user(_within(clicks, lo, hi)),
        sa_events=world.with_user(_within(sa, lo, hi)),
        conversions=world.with_user(_within(conversions, lo, hi)),
        traffic=traffic,
    )


def _within(columns: Columns, lo: int, hi: int) -> Columns:
    """The rows with ``lo <= ts < hi``, in day order (so each day's rows are stored together)."""
    keep = (columns["ts"] >= lo) & (columns["ts"] < hi)
    kept = columns if keep.all() else _rows(columns, keep)
    order = np.argsort(kept["ts"] // DAY_US, kind="stable")
    if np.array_equal(order, np.arange(len(order))):
        return kept
    return {name: values[order] for name, values in kept.items()}


def _rows(columns: Columns, mask: npt.NDArray[np.bool_]) -> Columns:
    """The rows where ``mask`` is true."""
    index = np.flatnonzero(mask)
    return {name: values[index] for name, values in columns.items()}


class _World:
    """Draws event skeletons (integer codes, times, users) as NumPy columns.

    Events name their campaign by its index in :data:`CAMPAIGNS`.
    """

    def __init__(self, rand: KeyedRandom, scale: float, users: int) -> None:
        self.rand, self.scale, self.users = rand, scale, users
        user_rows = rand.row(Stream.USER, np.arange(users))
        self.user_device = weighted(user_rows, F.DEVICE, [d[2] for d in cat.DEVICES])
        place = weighted(user_rows, F.PLACE, [p[5] for p in cat.PLACES])
        n_postal = np.array([len(p[4]) for p in cat.PLACES])
        first_postal = np.cumsum(n_postal) - n_postal
        self.user_postal = first_postal[place] + below(user_rows, F.POSTAL, n_postal[place])
        self.user_hash = bits(user_rows, F.USER_ID)
        ids = np.array([c.campaign_id for c in CAMPAIGNS])
        size = [c.audience if c.small else max(50, round(c.audience * scale)) for c in CAMPAIGNS]
        self.pool_size = np.array(size, dtype=np.int64)
        self.pool_offset = (bits(rand.row(Stream.POOL, ids), 0) % np.uint64(users)).astype(np.int64)
        index = {a.advertiser_id: k for k, a in enumerate(cat.ADVERTISERS)}
        self.advertiser = np.array([index[c.advertiser_id] for c in CAMPAIGNS])
        self.promoted_count = np.array([len(c.promoted) for c in CAMPAIGNS])
        self.promoted = np.zeros((len(CAMPAIGNS), max(self.promoted_count)), dtype=np.int64)
        for k, camp in enumerate(CAMPAIGNS):
            self.promoted[k, : len(camp.promoted)] = camp.promoted

    def with_user(self, columns: Columns) -> Columns:
        """``columns`` plus the user's id hash, device and postal code (numbered across ``catalog.PLACES``)."""
        user = columns["user"]
        attributes = {"user_hash": self.user_hash, "device": self.user_device, "postal": self.user_postal}
        return {**columns, **{name: values[user] for name, values in attributes.items()}}

    def _counts(self, stream: Stream, days: I64, ids: I64, daily: npt.ArrayLike) -> tuple[I64, I64, I64]:
        """Events per (day, entity) around ``daily * scale``, varied by day: each event's day, entity, number."""
        day, entity = (a.ravel() for a in np.meshgrid(days, np.arange(len(ids)), indexing="ij"))
        row = self.rand.row(stream, day, ids[entity])
        expected = np.asarray(daily, dtype=np.float64)[entity] * self.scale * _day_factor(day)
        n = np.floor(expected * (0.85 + 0.3 * uniform(row, F.COUNT)) + uniform(row, F.COUNT_ROUND)).astype(np.int64)
        starts = np.repeat(np.cumsum(n) - n, n)
        return np.repeat(day, n), np.repeat(entity, n), np.arange(n.sum()) - starts

    def _campaign_events(
        self, stream: Stream, count_stream: Stream, days: I64, first: int, last: int
    ) -> tuple[U64, I64, I64]:
        """Rows (hash, day, campaign index) of the campaigns ``first`` to ``last - 1``."""
        camps = CAMPAIGNS[first:last]
        ids = np.array([c.campaign_id for c in camps])
        day, k, i = self._counts(count_stream, days, ids, [c.daily for c in camps])
        return self.rand.row(stream, day, ids[k], i), day, k + first

    def _user(self, row: U64, campaign: I64) -> I64:
        """A user of the campaign's pool, the first ones much more often (frequency skew)."""
        u = uniform(row, F.USER)
        position = np.floor(self.pool_size[campaign] * (u * u)).astype(np.int64)
        return (self.pool_offset[campaign] + position) % self.users

    def _time(self, row: U64, day: I64) -> I64:
        seconds = weighted(row, F.HOUR, _HOURS) * 3600 + below(row, F.SECOND, 3600)
        return day * DAY_US + seconds * 1_000_000

    def dsp_impressions(self, days: I64) -> Columns:
        row, day, c = self._campaign_events(Stream.DSP_IMPRESSION, Stream.DSP_COUNT, days, 0, SA_FIRST)
        camps = cat.DSP_CAMPAIGNS
        user = self._user(row, c)
        n_items = np.array([len(x.line_items) for x in camps])
        n_sizes = np.array([len(cat.CREATIVE_SIZES[x.creative_type]) for x in camps])
        cpm = np.array([x.cpm for x in camps])
        cost = np.round(cpm[c] * 100 * (0.7 + 0.6 * uniform(row, F.COST))).astype(np.int64)  # millicents
        app_share = np.array([d[3] for d in cat.DEVICES])[self.user_device[user]]
        supply = weighted(row, F.SUPPLY, [s[1] for s in cat.SUPPLY_SOURCES])
        return {
            "key": row,
            "ts": self._time(row, day),
            "campaign": c,
            "user": user,
            "line_item": below(row, F.LINE_ITEM, n_items[c]),
            "creative": below(row, F.CREATIVE, n_sizes[c]),
            "supply": supply,
            "app": uniform(row, F.APP) < app_share,
            "cost": cost,
            "bid": np.round(cost * (1.05 + 0.5 * uniform(row, F.BID))).astype(np.int64),
            "view_code": _view_code(row, supply),
        }

    def dsp_clicks(self, imp: Columns) -> Columns:
        ctr = np.array([x.ctr for x in cat.DSP_CAMPAIGNS])
        out = _rows(imp, uniform(imp["key"], F.CLICK) < ctr[imp["campaign"]])
        u = uniform(out["key"], F.CLICK_DELAY)
        delay = 5 + np.floor(600 * u * u).astype(np.int64)
        out["impression_ts"] = out["ts"]
        out["impression_key"] = out["key"]
        out["ts"] = out["ts"] + delay * 1_000_000
        out["key"] = bits(out["key"], F.CLICK_KEY)
        return out

    def sa_events(self, days: I64) -> Columns:
        """Sponsored ads impressions, and a click after some of them."""
        row, day, c = self._campaign_events(Stream.SA_IMPRESSION, Stream.SA_COUNT, days, SA_FIRST, len(CAMPAIGNS))
        targets = sa_targets()
        target_campaign = np.array([t[0] for t in targets])
        first_target = np.searchsorted(target_campaign, np.arange(len(CAMPAIGNS)))
        n_targets = np.bincount(target_campaign, minlength=len(CAMPAIGNS))
        target = first_target[c] + below(row, F.TARGET, n_targets[c])
        n_terms = np.array([len(t[3].search_terms) for t in targets])[target]
        placement = np.zeros(len(row), dtype=np.int64)
        for k, camp in enumerate(CAMPAIGNS[SA_FIRST:], start=SA_FIRST):
            mask = c == k
            placement[mask] = weighted(row[mask], F.PLACEMENT, [p[1] for p in cat.PLACEMENTS[camp.ad_product_type]])
        price = np.array([0.0] * SA_FIRST + [x.price for x in cat.SA_CAMPAIGNS])
        per_click = np.array([False] * SA_FIRST + [x.pays_per_click for x in cat.SA_CAMPAIGNS])
        view_spend = np.round(price[c] * 100_000 * (0.8 + 0.4 * uniform(row, F.COST))).astype(np.int64)  # microcents
        imp = {
            "key": row,
            "ts": self._time(row, day),
            "campaign": c,
            "user": self._user(row, c),
            "target": target,
            "term": np.where(n_terms > 0, below(row, F.TERM, np.maximum(n_terms, 1)), -1),
            "placement": placement,
            "asin": self._asin(c, self.promoted[c, below(row, F.ASIN, self.promoted_count[c])]),
            "spend": np.where(per_click[c], 0, view_spend),
            "is_click": np.zeros(len(row), dtype=bool),
        }
        ctr = np.array([0.0] * SA_FIRST + [x.ctr for x in cat.SA_CAMPAIGNS])
        click = _rows(imp, uniform(row, F.CLICK) < ctr[c])
        u = uniform(click["key"], F.CLICK_DELAY)
        delay = 3 + np.floor(300 * u * u).astype(np.int64)
        click["ts"] = click["ts"] + delay * 1_000_000
        cpc = price[click["campaign"]] * 100_000_000 * (0.6 + 0.8 * uniform(click["key"], F.CLICK_COST))
        click["spend"] = np.where(per_click[click["campaign"]], np.round(cpc), 0).astype(np.int64)
        click["key"] = bits(click["key"], F.CLICK_KEY)
        click["is_click"] = np.ones(len(click["key"]), dtype=bool)
        return {k: np.concatenate([imp[k], click[k]]) for k in imp}

    def conversions(self, traffic: Columns, days: I64) -> Columns:
        """Conversions that follow traffic (up to 14 days later), then the organic ones of ``days``."""
        rate = np.where(traffic["is_click"], _CLICK_CONVERSION, _VIEW_CONVERSION)
        spawned = uniform(traffic["key"], F.SPAWN) < rate
        key = bits(traffic["key"][spawned], F.CONVERSION)
        campaign = traffic["campaign"][spawned]
        delay_u = uniform(key, F.DELAY)
        delay = np.floor(delay_u * delay_u * delay_u * 14 * 86_400).astype(np.int64)
        promoted = self.promoted[campaign, below(key, F.PROMOTED, self.promoted_count[campaign])]
        asin = np.where(uniform(key, F.HALO) < _PROMOTED_SHARE, promoted, below(key, F.ASIN, ASINS_PER_ADVERTISER))
        driven = {
            "key": key,
            "ts": traffic["ts"][spawned] + delay * 1_000_000,
            "user": traffic["user"][spawned],
            "asin": self._asin(campaign, asin),
        }

        adv_ids = np.array([a.advertiser_id for a in cat.ADVERTISERS])
        day, a, i = self._counts(Stream.ORGANIC_COUNT, days, adv_ids, [cat.ORGANIC_DAILY] * len(adv_ids))
        row = self.rand.row(Stream.ORGANIC, day, adv_ids[a], i)
        organic = {
            "key": row,
            "ts": self._time(row, day),
            "user": below(row, F.USER, self.users),
            "asin": a * ASINS_PER_ADVERTISER + below(row, F.ASIN, ASINS_PER_ADVERTISER),
        }

        out = {k: np.concatenate([driven[k], organic[k]]) for k in driven}
        out["subtype"] = weighted(out["key"], F.SUBTYPE, [s[1] for s in cat.CONVERSION_SUBTYPES])
        is_order = out["subtype"] == len(cat.CONVERSION_SUBTYPES) - 1
        units_u = uniform(out["key"], F.UNITS)
        out["units"] = np.where(is_order, 1 + np.floor(3 * units_u * units_u * units_u), 0).astype(np.int64)
        out["new_to_brand"] = is_order & (uniform(out["key"], F.NEW_TO_BRAND) < 0.3)
        out["advertiser"] = out["asin"] // ASINS_PER_ADVERTISER
        return out

    def traffic(self, dsp: Columns, clicks: Columns, sa: Columns) -> Columns:
        """Traffic that conversions follow and are credited to: DSP impressions and clicks, sponsored ads
        clicks, and the impressions of sponsored display and sponsored TV.

        Besides its key, time, user and campaign, an event carries the codes an attributed row reports:
        ``tag`` (the DSP impression's key, 0 on sponsored ads), DSP line item, creative, supply, app, cost
        and bid, and sponsored ads target, term, placement and ASIN (-1, False or 0 where not applicable).
        """
        view_products = ("sponsored_display", "sponsored_tv")
        views = np.array([getattr(c, "ad_product_type", "") in view_products for c in CAMPAIGNS])
        sa = _rows(sa, sa["is_click"] | views[sa["campaign"]])
        names = ("key", "ts", "user", "campaign")
        n_dsp, n_clicks, n_sa = len(dsp["key"]), len(clicks["key"]), len(sa["key"])
        out = {k: np.concatenate([dsp[k], clicks[k], sa[k]]) for k in names}
        out["is_click"] = np.concatenate([np.zeros(n_dsp, bool), np.ones(n_clicks, bool), sa["is_click"]])
        out["tag"] = np.concatenate([dsp["key"], clicks["impression_key"], np.zeros(n_sa, np.uint64)])
        out["cost"] = np.concatenate([dsp["cost"], clicks["cost"], sa["spend"] // 1000])  # millicents
        for k in ("line_item", "creative", "supply", "app", "bid"):
            filler = np.zeros(n_sa, dtype=dsp[k].dtype) if k in ("app", "bid") else np.full(n_sa, -1)
            out[k] = np.concatenate([dsp[k], clicks[k], filler])
        none = np.full(n_dsp + n_clicks, -1, dtype=np.int64)
        for name, k in (("target", "target"), ("term", "term"), ("placement", "placement"), ("ad_asin", "asin")):
            out[name] = np.concatenate([none, sa[k]])
        out["advertiser"] = self.advertiser[out["campaign"]]
        return out

    def _asin(self, campaign: I64, asin: I64) -> I64:
        """Global ASIN code of the ``asin``-th product of the campaign's advertiser."""
        return self.advertiser[campaign] * ASINS_PER_ADVERTISER + asin


def _view_code(row: U64, supply: I64) -> npt.NDArray[np.int8]:
    """How an impression was measured: 0 not at all, 1 measurable, 2 measurable and viewable, 3 unmeasurable
    but estimated viewable, 4 a synthetic view (each code's ``dsp_views`` rows are in ``storage``)."""
    inventory = [cat.INVENTORY[name] for name, _ in cat.SUPPLY_SOURCES]
    aware = np.array([i.view_aware for i in inventory])[supply]
    viewable = uniform(row, F.VIEWABLE) < np.array([i.view_rate for i in inventory])[supply]
    u = uniform(row, F.MEASURE)
    measured = aware & (u < 0.85)
    code = np.where(measured, np.where(viewable, 2, 1), 0)
    code = np.where((~aware & (u < 0.3)) | (aware & (u >= 0.85) & (u < 0.9)), 3, code)
    return np.where(aware & (u >= 0.9) & (u < 0.93), 4, code).astype(np.int8)


def _day_factor(day: I64) -> npt.NDArray[np.float64]:
    """Weekday and seasonal volume factor (arithmetic only, so exact on every platform)."""
    dates = day.astype("datetime64[D]")
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    weekday = _WEEKDAY[(day + 3) % 7]
    black_friday = np.maximum(0.0, 1.0 - np.abs(doy - 329) / 25.0)
    prime_day = np.maximum(0.0, 1.0 - np.abs(doy - 192) / 4.0)
    return weekday * (1.0 + 0.6 * black_friday + 0.4 * prime_day)


def sa_targets() -> list[tuple[int, str, int, cat.Target]]:
    """(campaign index, ad group name, ad group number, target) of every sponsored ads target."""
    return [
        (k, group.name, g, target)
        for k, camp in enumerate(CAMPAIGNS[SA_FIRST:], start=SA_FIRST)
        for g, group in enumerate(camp.ad_groups)
        for target in group.targets
    ]
