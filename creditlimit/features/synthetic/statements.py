"""Yearly financial statements of the sample portfolio, from the latent quality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from creditlimit.features.contract import TABLES
from creditlimit.features.synthetic.frames import _currency_codes, _dates, _text
from creditlimit.features.synthetic.latent import (
    _INDUSTRY_ASSET_TURNOVER,
    _INDUSTRY_GROSS_MARGIN,
    _INDUSTRY_INVENTORY_WEIGHT,
    _INDUSTRY_NET_MARGIN,
    _LEVERAGE_NOISE,
    _QUALITY_RHO,
    _SIZE_AUDITED_SHARE,
    _STATEMENT_NOISE,
    _Calendar,
    _Customers,
    _Money,
    _Outcomes,
    _sigmoid,
    _to_date,
    _to_datetime64,
    _uniform_int,
)

__all__: list[str] = []


def _statement_rows(
    rng: np.random.Generator, traits: _Customers, outcomes: _Outcomes, calendar: _Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Customer, fiscal year, period end and publication day of every statement."""
    start_year = _to_date(calendar.start_day).year
    end_year = _to_date(calendar.end_day).year
    onboard_year = _to_datetime64(traits.onboard_day).astype("datetime64[Y]").astype(np.int64)
    onboard_year += 1970
    first_year = np.maximum(start_year - 2, onboard_year - 2)
    counts = np.where(traits.thin, 0, end_year - first_year)
    customer = np.repeat(np.arange(counts.size), counts)
    rank = np.arange(customer.size) - np.repeat(np.cumsum(counts) - counts, counts)
    year = first_year[customer] + rank
    period_end = _year_end_day(year)
    published = period_end + _uniform_int(rng, 60, 180, customer.size)

    # Stale files send only the statements known at onboarding, and 4 % of the
    # later statements are skipped. The first statement is always kept.
    onboarding_years = year <= np.maximum(onboard_year[customer] - 1, first_year[customer])
    skipped = (rank > 0) & (rng.random(customer.size) < 0.04)
    keep = (
        (published < calendar.end_day)
        & (published < outcomes.default_day[customer])
        & (~traits.stops_statements[customer] | onboarding_years)
        & ~skipped
    )
    return customer[keep], year[keep], period_end[keep], published[keep]


def _year_end_day(year: np.ndarray) -> np.ndarray:
    next_year = (year - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]")
    return next_year.astype(np.int64) - 1


def _quality_at(
    rng: np.random.Generator, customer: np.ndarray, day: np.ndarray,
    outcomes: _Outcomes, calendar: _Calendar,
) -> tuple[np.ndarray, np.ndarray]:
    """Look up quality z and the downturn at each day, backcasting days before the start."""
    month = calendar.month_of(day)
    inside = month >= 0
    clipped = np.clip(month, 0, calendar.months - 1)
    steps = np.maximum(-month, 0)
    backcast = (
        _QUALITY_RHO**steps * outcomes.quality[customer, 0]
        + np.sqrt(1.0 - _QUALITY_RHO ** (2 * steps)) * rng.normal(size=customer.size)
    )
    quality = np.where(inside, outcomes.quality[customer, clipped], backcast)
    downturn = np.where(inside, outcomes.downturn[customer, clipped], 0.0)
    return quality, downturn


def _statement_items(
    rng: np.random.Generator, traits: _Customers, customer: np.ndarray, year: np.ndarray,
    quality: np.ndarray, downturn: np.ndarray, start_year: int,
) -> dict[str, np.ndarray]:
    """Line items in the base currency from the noisy quality q of each statement."""
    count = customer.size
    industry = traits.industry[customer]
    q = quality + rng.normal(0.0, _STATEMENT_NOISE, count)

    # Size, leverage and liquidity.
    revenue = traits.revenue[customer] * np.exp(
        0.05 * (year - start_year) + 0.08 * q - 0.1 * downturn + rng.normal(0.0, 0.12, count)
    )
    revenue = np.where(rng.random(count) < 0.003, 0.0, revenue)
    turnover = _INDUSTRY_ASSET_TURNOVER[industry] * np.exp(rng.normal(0.0, 0.25, count))
    total_assets = np.maximum(revenue, traits.revenue[customer] * 0.05) / turnover
    leverage = np.minimum(0.5 * np.exp(-0.28 * q + rng.normal(0.0, _LEVERAGE_NOISE, count)), 2.5)
    total_liabilities = leverage * total_assets
    current_liabilities = total_liabilities * rng.uniform(0.45, 0.9, count)
    current_ratio = np.exp(np.log(1.35) + 0.18 * q + rng.normal(0.0, 0.25, count))
    current_assets = np.clip(
        current_ratio * current_liabilities, 0.1 * total_assets, 0.97 * total_assets
    )
    current_liabilities = np.where(rng.random(count) < 0.004, 0.0, current_liabilities)

    # Split of current assets: cash, inventory, receivables and other.
    alphas = np.column_stack([
        1.0 + 0.5 * _sigmoid(q), _INDUSTRY_INVENTORY_WEIGHT[industry], np.full(count, 2.0),
        np.ones(count),
    ])
    shares = rng.gamma(alphas)
    shares /= shares.sum(axis=1, keepdims=True)

    # Profitability, interest and cash flow.
    margin = _INDUSTRY_NET_MARGIN[industry] + 0.03 * q + rng.normal(0.0, 0.03, count)
    dormant_loss = -0.01 * total_assets * rng.random(count)
    net_profit = np.where(revenue > 0, margin * revenue, dormant_loss)
    gross_margin = np.clip(
        _INDUSTRY_GROSS_MARGIN[industry] + 0.02 * q + rng.normal(0.0, 0.03, count), 0.03, 0.85
    )
    interest = total_liabilities * rng.uniform(0.3, 0.8, count) * rng.uniform(0.03, 0.07, count)
    interest = np.where((leverage < 0.3) & (rng.random(count) < 0.5), 0.0, interest)
    pretax = np.where(net_profit > 0, net_profit / 0.75, net_profit)
    cash_surprise = 0.04 * revenue * (0.5 * q + rng.normal(size=count))
    cash_flow = net_profit + 0.04 * total_assets + cash_surprise
    return {
        "revenue": revenue, "net_profit": net_profit, "total_assets": total_assets,
        "current_assets": current_assets, "total_liabilities": total_liabilities,
        "current_liabilities": current_liabilities, "operating_cash_flow": cash_flow,
        "cost_of_sales": (1.0 - gross_margin) * revenue, "operating_profit": pretax + interest,
        "interest_expense": interest, "cash": shares[:, 0] * current_assets,
        "inventory": shares[:, 1] * current_assets, "receivables": shares[:, 2] * current_assets,
    }


def _round_statement(
    items: dict[str, np.ndarray], rate: np.ndarray
) -> dict[str, np.ndarray]:
    """Convert to the customer's currency in whole units, keeping the accounts consistent."""
    rounded = {name: np.round(values / rate) for name, values in items.items()}
    parts = rounded["cash"] + rounded["inventory"] + rounded["receivables"]
    rounded["current_assets"] = np.maximum(rounded["current_assets"], parts)
    rounded["total_assets"] = np.maximum(rounded["total_assets"], rounded["current_assets"])
    rounded["total_liabilities"] = np.maximum(
        rounded["total_liabilities"], rounded["current_liabilities"]
    )
    rounded["equity"] = rounded["total_assets"] - rounded["total_liabilities"]
    return rounded


def _statements_frame(
    rng: np.random.Generator,
    ids: pa.Array,
    traits: _Customers,
    outcomes: _Outcomes,
    calendar: _Calendar,
    money: _Money,
) -> pd.DataFrame:
    customer, year, period_end, published = _statement_rows(rng, traits, outcomes, calendar)
    quality, downturn = _quality_at(rng, customer, period_end, outcomes, calendar)
    start_year = _to_date(calendar.start_day).year
    items = _statement_items(rng, traits, customer, year, quality, downturn, start_year)
    rate = np.where(traits.foreign[customer], money.rate_at(calendar, period_end), 1.0)
    values = _round_statement(items, rate)

    # Values that feeds often leave out; small firms more often.
    count = customer.size
    small = traits.size[customer] == 0
    missing_share = {
        "interest_expense": np.where(small, 0.3, 0.15), "operating_profit": 0.10,
        "cost_of_sales": 0.08, "cash": np.where(small, 0.18, 0.08),
        "inventory": np.where(small, 0.18, 0.08), "receivables": np.where(small, 0.18, 0.08),
    }
    for name, share in missing_share.items():
        values[name] = np.where(rng.random(count) < share, np.nan, values[name])
    audited_share = _SIZE_AUDITED_SHARE[traits.size[customer]]
    audited = pd.array(rng.random(count) < audited_share, dtype="boolean")
    audited[rng.random(count) < 0.10] = pd.NA

    spec = TABLES["financial_statements"]
    frame = pd.DataFrame({
        "customer_id": _text(ids.take(pa.array(customer))),
        "period_end": _dates(period_end),
        "published_on": _dates(published),
        "currency": _text(_currency_codes(traits.foreign[customer], money)),
        **{name: values[name] for name in spec.columns if name in values},
        "audited": audited,
    })
    return frame[list(spec.columns)]
