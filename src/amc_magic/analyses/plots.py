"""Pictures of the standard analyses' results, drawn with matplotlib (imported when a plot is drawn).

Each function takes the analysis's result frame and an optional Axes, draws on it (or on a new
figure) and returns the Figure. None of them calls ``plt.show()``; in a notebook the figure shows
itself, in a script save it with ``fig.savefig(...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TOP = 15
"""The most bars a ranked chart shows."""


def reach_frequency(frame: pd.DataFrame, ax: Any = None) -> Figure:
    """Reach per campaign as bars, average frequency as points on a second axis."""
    figure, ax = _axes(ax)
    data = frame.sort_values("reach", ascending=False).head(TOP)
    ax.bar(data["campaign"].astype(str), data["reach"].astype(float), color="tab:blue")
    ax.set_ylabel("reach (users)")
    frequency = ax.twinx()
    frequency.plot(data["campaign"].astype(str), data["avg_frequency"].astype(float), "o", color="tab:orange")
    frequency.set_ylabel("impressions per user")
    _label_x(ax, "Reach and frequency by campaign")
    return figure


def frequency_distribution(frame: pd.DataFrame, ax: Any = None) -> Figure:
    """Share of each campaign's users by frequency, one line per campaign."""
    figure, ax = _axes(ax)
    for campaign, rows in frame.groupby("campaign", sort=True):
        rows = rows.sort_values("frequency")
        users = rows["users"].astype(float)
        ax.plot(rows["frequency"].astype(int), users / users.sum(), marker="o", label=str(campaign))
    ax.set_xlabel("impressions per user")
    ax.set_ylabel("share of the campaign's users")
    ax.set_title("Frequency distribution")
    ax.legend(fontsize="small")
    return figure


def campaign_overlap(frame: pd.DataFrame, ax: Any = None) -> Figure:
    """Users shared by each pair of campaigns, as a heat map."""
    figure, ax = _axes(ax)
    names = sorted(set(frame["campaign_a"].astype(str)) | set(frame["campaign_b"].astype(str)))
    index = {name: i for i, name in enumerate(names)}
    grid = [[0.0] * len(names) for _ in names]
    for a, b, users in zip(frame["campaign_a"], frame["campaign_b"], frame["overlap_users"], strict=True):
        grid[index[str(a)]][index[str(b)]] = grid[index[str(b)]][index[str(a)]] = float(users)
    image = ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize="small")
    ax.set_yticks(range(len(names)), names, fontsize="small")
    figure.colorbar(image, ax=ax, label="users reached by both")
    ax.set_title("Campaign overlap")
    return figure


def path_to_conversion(frame: pd.DataFrame, ax: Any = None) -> Figure:
    """The paths with the most purchasers, as horizontal bars labelled with their conversion rate."""
    figure, ax = _axes(ax)
    data = frame.sort_values("users_that_purchased", ascending=True).tail(TOP)
    bars = ax.barh(data["path"].astype(str), data["users_that_purchased"].astype(float), color="tab:green")
    ax.bar_label(bars, labels=[f"{rate:.2%}" for rate in data["conversion_rate"].astype(float)], fontsize="small")
    ax.set_xlabel("users that purchased (label: conversion rate)")
    ax.set_title("Path to conversion")
    return figure


def new_to_brand(frame: pd.DataFrame, ax: Any = None) -> Figure:
    """Purchases per campaign split into new-to-brand and repeat buyers."""
    figure, ax = _axes(ax)
    data = frame.sort_values("purchases", ascending=False).head(TOP)
    names = data["campaign"].astype(str)
    ntb = data["ntb_purchases"].astype(float)
    ax.bar(names, ntb, label="new to brand", color="tab:purple")
    ax.bar(names, data["purchases"].astype(float) - ntb, bottom=ntb, label="repeat", color="tab:gray")
    ax.set_ylabel("attributed purchases")
    ax.legend()
    _label_x(ax, "New-to-brand purchases by campaign")
    return figure


def time_to_conversion(frame: pd.DataFrame, ax: Any = None) -> Figure:
    """Cumulative share of purchases within 1, 3 and 7 days, one line per ad product."""
    figure, ax = _axes(ax)
    days = [1, 3, 7]
    for row in frame.itertuples(index=False):
        total = float(row.purchases) or 1.0
        within = [row.purchases_within_1d, row.purchases_within_3d, row.purchases_within_7d]
        ax.plot(days, [float(n) / total for n in within], marker="o", label=str(row.ad_product))
    ax.set_xticks(days, [f"{d} d" for d in days])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of purchases")
    ax.set_title("Time to conversion")
    ax.legend(fontsize="small")
    return figure


def search_term_performance(frame: pd.DataFrame, ax: Any = None) -> Figure:
    """The search terms with the most clicks, as horizontal bars labelled with their cost per click."""
    figure, ax = _axes(ax)
    totals = frame.groupby("customer_search_term", sort=False)[["clicks", "spend"]].sum()
    data = totals.sort_values("clicks").tail(TOP)
    bars = ax.barh(data.index.astype(str), data["clicks"].astype(float), color="tab:orange")
    cpc = data["spend"].astype(float) / data["clicks"].astype(float).where(data["clicks"] > 0)
    ax.bar_label(bars, labels=[f"{value:.2f}" for value in cpc.fillna(0)], fontsize="small")
    ax.set_xlabel("clicks (label: cost per click)")
    ax.set_title("Search-term performance")
    return figure


def channel_mix(frame: pd.DataFrame, ax: Any = None) -> Figure:
    """Each channel's share of reach, impressions and cost, side by side."""
    figure, ax = _axes(ax)
    metrics = ["reach", "impressions", "cost"]
    width = 0.8 / max(len(frame), 1)
    for n, row in enumerate(frame.itertuples(index=False)):
        shares = [float(getattr(row, m)) / (float(frame[m].astype(float).sum()) or 1.0) for m in metrics]
        ax.bar([i + n * width for i in range(len(metrics))], shares, width, label=str(row.channel))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(metrics))], metrics)
    ax.set_ylabel("share of the total")
    ax.set_title("Channel mix")
    ax.legend(fontsize="small")
    return figure


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    return figure, ax


def _label_x(ax: Axes, title: str) -> None:
    ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_title(title)
