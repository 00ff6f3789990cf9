"""Credit limits in force at the end of the history, as set at the department's last review."""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlimit.features.synthetic.documents import _Invoices, _Settlement
from creditlimit.features.synthetic.latent import (
    _HAZARD_SLOPE,
    _Calendar,
    _Customers,
    _Money,
    _Outcomes,
    _sigmoid,
)

__all__: list[str] = []

# The last review took place at a month start 6 to 12 months before the end and
# looked at the invoicing and payments of the 6 months before it.
_REVIEW_MONTHS_AGO = (6, 12)
_REVIEW_WINDOW_MONTHS = 6
_MIN_REVIEW_WINDOW_MONTHS = 3
# The limit covers the open exposure of (terms + typical days late + buffer)
# days of sales, before the risk and industry factors. The buffer absorbs the
# swings of the open exposure: for about 1 in 10 small customers, the exposure at
# the end is more than twice the typical exposure seen at the review.
# NOTE: with a 60-day buffer, 28 % of the customers with a positive limit in the
# params.yaml demo portfolio are over it at the end (32 % at 45 days, 23 % at 90
# days). A real book has an estimated 5-15 %. Invoicing goes on whatever the
# limit. So customers whose limit the risk factor cut keep buying, and 94 of
# the 154 customers at the 5,000,000 maximum owe more than it.
_EXPOSURE_BUFFER_DAYS = 60
_DAYS_PER_MONTH = 30.0
# The department's view of the quality z is the true z plus this noise, and its
# limit differs from the formula by a log-normal factor with this sigma.
_REVIEW_QUALITY_NOISE = 0.3
_REVIEW_LIMIT_NOISE = 0.15
# An applicant's expected monthly purchases are known within this log-normal sigma.
_APPLICATION_VOLUME_NOISE = 0.3
# Risk factor by the department's 12-month PD estimate, interpolated in log PD.
_REVIEW_PD_POINTS = np.array([0.005, 0.02, 0.05, 0.10, 0.20, 0.40])
_REVIEW_RISK_FACTORS = np.array([1.10, 1.00, 0.80, 0.60, 0.40, 0.25])
# Industry factor in the order of INDUSTRIES: the same haircuts as the policy in
# params.yaml (construction 0.8, retail 0.9, agriculture 0.85).
_REVIEW_INDUSTRY_FACTOR = np.array([1.0, 1.0, 0.9, 0.8, 1.0, 0.85, 1.0])
# Capacity shares of the latest statement and the bounds of a granted limit in the
# base currency, as in the policy section of params.yaml. A customer without a
# statement whose period ended in the 24 months before the review is a thin file.
_EQUITY_SHARE = 0.10
_REVENUE_SHARE = 0.08
_REVIEW_MIN_LIMIT = 10_000.0
_REVIEW_MAX_LIMIT = 5_000_000.0
_THIN_FILE_MAX_LIMIT = 50_000.0
_MAX_STATEMENT_AGE_DAYS = 730
_LIMIT_ROUNDING = 1000.0
# Customers onboarded in the last 3 months have no limit yet, and customers that
# defaulted more than 2 months before the end have been suspended to 0.
_NEW_CUSTOMER_MONTHS = 3
_SUSPENSION_DELAY_MONTHS = 2


def _review_limits(
    rng: np.random.Generator,
    traits: _Customers,
    outcomes: _Outcomes,
    invoices: _Invoices,
    settlement: _Settlement,
    calendar: _Calendar,
    money: _Money,
    statements: pd.DataFrame,
) -> np.ndarray:
    """Draw each customer's current credit limit in its own currency, NaN when none.

    The limit is min(capacity, exposure) x risk factor x industry factor x noise,
    where the exposure is the open exposure the department expected to cover. It
    is clipped to the bounds of a granted limit and capped for a thin file.
    Exposure, capacity and risk are those the department saw when it set the
    limit. ``statements`` is the financial-statements frame, with customer ids
    ``C000001`` onwards in customer order.
    """
    count = traits.industry.size
    months = calendar.months
    set_month, set_day, volume, days_late = _trade_when_set(
        rng, traits, outcomes, invoices, settlement, calendar, money
    )
    days = traits.terms + days_late + _EXPOSURE_BUFFER_DAYS
    exposure = volume * days / _DAYS_PER_MONTH

    # Capacity, risk and industry factors, noise and the bounds of a granted limit.
    capacity = _capacity_at(statements, set_day, calendar, money, traits)
    factor = _review_risk_factor(rng, outcomes, set_month)
    factor = factor * _REVIEW_INDUSTRY_FACTOR[traits.industry]
    noise = np.exp(rng.normal(0.0, _REVIEW_LIMIT_NOISE, count))
    thin_file = np.isnan(capacity)
    limit_base = np.where(thin_file, exposure, np.minimum(capacity, exposure)) * factor * noise
    limit_base = np.where(thin_file, np.minimum(limit_base, _THIN_FILE_MAX_LIMIT), limit_base)
    limit_base = np.clip(limit_base, _REVIEW_MIN_LIMIT, _REVIEW_MAX_LIMIT)

    # The customer's currency at the latest rate, rounded to 1,000 and at least the minimum.
    rate = np.where(traits.foreign, money.rate_to_base[-1], 1.0)
    steps = np.maximum(
        np.round(limit_base / rate / _LIMIT_ROUNDING),
        np.ceil(_REVIEW_MIN_LIMIT / rate / _LIMIT_ROUNDING),
    )
    limit = steps * _LIMIT_ROUNDING

    # Suspended defaulters and new customers without a limit.
    suspended = outcomes.default_day < calendar.start_of(months - _SUSPENSION_DELAY_MONTHS)
    new = traits.onboard_day >= calendar.start_of(months - _NEW_CUSTOMER_MONTHS)
    limit = np.where(suspended, 0.0, limit)
    return np.where(new, np.nan, limit)


def _trade_when_set(
    rng: np.random.Generator,
    traits: _Customers,
    outcomes: _Outcomes,
    invoices: _Invoices,
    settlement: _Settlement,
    calendar: _Calendar,
    money: _Money,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the month and day of each limit decision, the monthly volume and the days late.

    A customer onboarded before the review window was reviewed: its volume is
    the average monthly net invoiced amount of the window in the base currency,
    and its days late the mean over the invoices fully paid in the window. A
    customer onboarded later got its limit at onboarding, from its expected
    purchases and with no days late.
    """
    count = traits.industry.size
    months = calendar.months
    review_month = months - rng.integers(_REVIEW_MONTHS_AGO[0], _REVIEW_MONTHS_AGO[1] + 1, count)
    window_first = np.maximum(review_month - _REVIEW_WINDOW_MONTHS, 0)
    window_months = review_month - window_first
    on_history = (traits.onboard_day < calendar.start_of(window_first)) & (
        window_months >= _MIN_REVIEW_WINDOW_MONTHS
    )
    onboard_month = np.clip(calendar.month_of(traits.onboard_day), 0, months - 1)
    set_month = np.where(on_history, review_month, onboard_month)
    set_day = np.where(on_history, calendar.start_of(review_month), traits.onboard_day)

    # Monthly volume and lateness the department saw: the window, or the application.
    first_day = calendar.start_of(window_first)
    last_day = calendar.start_of(review_month)
    invoiced = _net_invoiced_base(
        invoices, settlement, calendar, money, traits, first_day=first_day, last_day=last_day
    )
    history_volume = invoiced / np.maximum(window_months, 1)
    application_volume = (
        traits.volume * np.exp(0.15 * outcomes.quality[np.arange(count), set_month])
        * np.exp(rng.normal(0.0, _APPLICATION_VOLUME_NOISE, count))
    )
    volume = np.where(on_history, history_volume, application_volume)
    days_late = _mean_days_late(invoices, settlement, count, first_day=first_day, last_day=last_day)
    return set_month, set_day, volume, np.where(on_history, days_late, 0.0)


def _mean_days_late(
    invoices: _Invoices,
    settlement: _Settlement,
    count: int,
    *,
    first_day: np.ndarray,
    last_day: np.ndarray,
) -> np.ndarray:
    """Compute each customer's mean days late over invoices fully paid in [first_day, last_day).

    Days late run from the due day to the last payment and count 0 for an
    invoice paid on time. A customer without such an invoice gets 0, because
    the department then expects payment on terms.
    """
    invoice_count = invoices.customer.size
    paid_cents = np.bincount(
        settlement.payment_invoice, weights=settlement.payment_cents, minlength=invoice_count
    )
    paid_day = np.full(invoice_count, np.iinfo(np.int64).min)
    np.maximum.at(paid_day, settlement.payment_invoice, settlement.payment_day)

    # Invoices whose payments reach the amount net of the credit note, by their last payment.
    customer = invoices.customer
    fully_paid = (settlement.net_cents > 0) & (paid_cents == settlement.net_cents)
    inside = fully_paid & (paid_day >= first_day[customer]) & (paid_day < last_day[customer])
    late = np.maximum(paid_day[inside] - invoices.due[inside], 0)
    total = np.bincount(customer[inside], weights=late, minlength=count)
    paid_count = np.bincount(customer[inside], minlength=count)
    return np.divide(total, paid_count, out=np.zeros(count), where=paid_count > 0)


def _review_risk_factor(
    rng: np.random.Generator, outcomes: _Outcomes, set_month: np.ndarray
) -> np.ndarray:
    """Compute the risk factor from the department's noisy 12-month PD estimate."""
    count = set_month.size
    rows = np.arange(count)
    noise = rng.normal(0.0, _REVIEW_QUALITY_NOISE, count)
    known_quality = outcomes.quality[rows, set_month] + noise
    logit = (
        outcomes.hazard_base + _HAZARD_SLOPE * known_quality + outcomes.downturn[rows, set_month]
    )
    pd_estimate = -np.expm1(12.0 * np.log1p(-_sigmoid(logit)))
    return np.interp(np.log(pd_estimate), np.log(_REVIEW_PD_POINTS), _REVIEW_RISK_FACTORS)


def _capacity_at(
    statements: pd.DataFrame,
    set_day: np.ndarray,
    calendar: _Calendar,
    money: _Money,
    traits: _Customers,
) -> np.ndarray:
    """Compute min(equity x 0.10, revenue x 0.08) of each customer's latest statement.

    Only statements published before ``set_day`` whose period ended at most 24
    months before it count. The capacity is 0 when equity or revenue is not
    positive, and NaN without such a statement.
    """
    customer = statements["customer_id"].str.slice(1).astype(np.int64).to_numpy() - 1
    period_end = _days(statements["period_end"])
    published = _days(statements["published_on"])
    usable = (published < set_day[customer]) & (
        period_end >= set_day[customer] - _MAX_STATEMENT_AGE_DAYS
    )
    capacity = np.full(set_day.size, np.nan)
    rows = np.flatnonzero(usable)
    if rows.size == 0:
        return capacity

    # The last usable row of each customer in (customer, period end) order.
    rows = rows[np.lexsort((period_end[rows], customer[rows]))]
    last = rows[np.r_[customer[rows][1:] != customer[rows][:-1], True]]

    rate = np.where(traits.foreign[customer[last]], money.rate_at(calendar, period_end[last]), 1.0)
    equity = statements["equity"].to_numpy()[last] * rate
    revenue = statements["revenue"].to_numpy()[last] * rate
    capacity[customer[last]] = np.where(
        (equity <= 0) | (revenue <= 0), 0.0,
        np.minimum(equity * _EQUITY_SHARE, revenue * _REVENUE_SHARE),
    )
    return capacity


def _days(dates: pd.Series) -> np.ndarray:
    return dates.to_numpy(dtype="datetime64[D]").astype(np.int64)


def _net_invoiced_base(
    invoices: _Invoices,
    settlement: _Settlement,
    calendar: _Calendar,
    money: _Money,
    traits: _Customers,
    *,
    first_day: np.ndarray,
    last_day: np.ndarray,
) -> np.ndarray:
    """Sum each customer's invoices net of credit notes in [first_day, last_day), base currency."""
    count = traits.industry.size
    note_customer = invoices.customer[settlement.credit_note]
    customer = np.concatenate([invoices.customer, note_customer])
    day = np.concatenate([invoices.issued, settlement.credit_note_day])
    cents = np.concatenate([invoices.cents, settlement.credit_note_cents])
    rate = np.where(traits.foreign[customer], money.rate_at(calendar, day), 1.0)
    inside = (day >= first_day[customer]) & (day < last_day[customer])
    amount = cents[inside] * rate[inside] / 100.0
    return np.bincount(customer[inside], weights=amount, minlength=count)
