"""Invoices, credit notes and payments of the sample portfolio, as day and cent arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creditlimit.features.synthetic.latent import (
    _LATE_SLOPE,
    _PAYMENT_DOWNTURN_WEIGHT,
    _PRE_DEFAULT_STRESS,
    _SEASON,
    _SIZE_INVOICES_PER_MONTH,
    _Calendar,
    _Customers,
    _Money,
    _Outcomes,
    _sigmoid,
    _uniform_int,
)

__all__: list[str] = []


@dataclass(frozen=True)
class _Invoices:
    """Invoice-level arrays sorted by customer and issue day, with amounts in cents."""

    customer: np.ndarray
    issued: np.ndarray
    due: np.ndarray
    cents: np.ndarray  # in the customer's currency
    disputed: np.ndarray
    paid: np.ndarray  # day of the final payment before any cut-off
    number: np.ndarray  # chronological invoice number from 1


@dataclass(frozen=True)
class _Settlement:
    """Credit notes and payments of the invoices."""

    credit_note: np.ndarray  # invoice positions with a credit note
    credit_note_day: np.ndarray
    credit_note_cents: np.ndarray  # negative
    net_cents: np.ndarray  # per invoice, after its credit note
    payment_invoice: np.ndarray  # invoice position of each payment, in invoice order
    payment_day: np.ndarray
    payment_cents: np.ndarray


def _draw_invoices(
    rng: np.random.Generator,
    traits: _Customers,
    outcomes: _Outcomes,
    calendar: _Calendar,
    money: _Money,
) -> _Invoices:
    customer, issued = _draw_issue_days(rng, traits, outcomes, calendar)
    month = calendar.month_of(issued)
    count = customer.size

    # Amounts: monthly volume spread over the expected invoice count.
    per_invoice = traits.volume / _SIZE_INVOICES_PER_MONTH[traits.size]
    base = per_invoice[customer] * np.exp(rng.normal(-0.125, 0.5, size=count))
    base = np.maximum(base, 200.0)
    rate = np.where(traits.foreign[customer], money.rate_at(calendar, issued), 1.0)
    cents = np.maximum(np.round(base / rate * 100.0), 1).astype(np.int64)

    # Payment behaviour from stress and the customer's habit.
    days_to_default = outcomes.default_day[customer] - issued
    stress = (
        -outcomes.quality[customer, month]
        + _PAYMENT_DOWNTURN_WEIGHT * outcomes.downturn[customer, month]
        + _PRE_DEFAULT_STRESS * np.clip(1.0 - days_to_default / 365.0, 0.0, 1.0)
    )
    habit = traits.habit[customer]
    terms = traits.terms[customer]
    late = rng.random(count) < _sigmoid(-1.5 + _LATE_SLOPE * stress + habit)
    log_days_late = np.log(7.0) + 0.55 * stress + 0.5 * habit + rng.normal(0.0, 0.6, count)
    late_days = np.ceil(np.exp(log_days_late))
    early_days = np.floor(rng.random(count) * np.minimum(10, terms // 3))
    delay = np.where(late, np.minimum(late_days, 720), -early_days).astype(np.int64)
    disputed = rng.random(count) < _sigmoid(-3.3 + 0.5 * stress)
    delay += np.where(disputed, _uniform_int(rng, 15, 60, count), 0)
    due = issued + terms
    paid = np.maximum(due + delay, issued + 1)
    return _Invoices(
        customer=customer, issued=issued, due=due, cents=cents, disputed=disputed,
        # Rows are sorted by customer, so invoices of one day are numbered by customer.
        paid=paid, number=_numbers_from_order(_chronological_order(issued)),
    )


def _draw_issue_days(
    rng: np.random.Generator, traits: _Customers, outcomes: _Outcomes, calendar: _Calendar
) -> tuple[np.ndarray, np.ndarray]:
    """Customer and issue day of every invoice, sorted by customer then day."""
    months = calendar.months
    month_index = np.arange(months)
    first = np.maximum(calendar.month_of(traits.onboard_day), 0)
    last = np.where(outcomes.default_month >= 0, outcomes.default_month, months - 1)
    active = (month_index[None, :] >= first[:, None]) & (month_index[None, :] <= last[:, None])
    season = _SEASON[calendar.calendar_month(month_index) - 1]
    mean = (
        _SIZE_INVOICES_PER_MONTH[traits.size][:, None] * season[None, :]
        * np.exp(0.15 * outcomes.quality)
    )
    counts = np.where(active, rng.poisson(mean), 0)

    # One row per invoice, days uniform within the month, after onboarding and
    # before the default day.
    cell_customer, cell_month = np.nonzero(counts)
    repeats = counts[cell_customer, cell_month]
    customer = np.repeat(cell_customer, repeats)
    month = np.repeat(cell_month, repeats)
    low = np.maximum(calendar.start_of(month), traits.onboard_day[customer])
    high = np.minimum(calendar.start_of(month + 1), outcomes.default_day[customer])
    issued = low + np.floor(rng.random(customer.size) * (high - low)).astype(np.int64)
    keep = high > low
    customer, issued = customer[keep], issued[keep]

    # Sort by customer, then day, through one combined key. Rows with equal keys
    # are identical, so the sort needs no stability.
    first_day = calendar.start_day
    span = calendar.end_day - first_day
    key = np.sort(customer.astype(np.int64) * span + (issued - first_day))
    customer, issued = key // span, key % span + first_day

    # Thin-file customers keep only their first 0, 1 or 2 invoices.
    first_row = np.searchsorted(customer, np.arange(traits.thin.size))
    rank = np.arange(customer.size) - first_row[customer]
    keep = ~traits.thin[customer] | (rank < traits.thin_invoice_cap[customer])
    return customer[keep], issued[keep]


def _chronological_order(days: np.ndarray) -> np.ndarray:
    """Order rows by day with a stable sort, so rows of one day keep their order."""
    if days.size == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = days - days.min()
    if offsets.max() <= np.iinfo(np.int16).max:
        # numpy sorts 16-bit keys with a stable radix sort in linear time.
        offsets = offsets.astype(np.int16)
    return np.argsort(offsets, kind="stable")


def _numbers_from_order(order: np.ndarray) -> np.ndarray:
    """Number 1..n of each row, given the rows in numbering order."""
    number = np.empty(order.size, dtype=np.int64)
    number[order] = np.arange(1, order.size + 1)
    return number


def _settle_invoices(
    rng: np.random.Generator,
    invoices: _Invoices,
    outcomes: _Outcomes,
    calendar: _Calendar,
) -> _Settlement:
    count = invoices.customer.size
    default_day = outcomes.default_day[invoices.customer]
    cutoff = np.minimum(calendar.end_day, default_day)
    distress = invoices.issued >= default_day - outcomes.distress_days[invoices.customer]

    # Partial payments: a first part 7-35 days before the final payment.
    first_day = np.maximum(invoices.paid - _uniform_int(rng, 7, 35, count), invoices.issued + 1)
    partial = (rng.random(count) < 0.08) & (first_day < invoices.paid)
    first_day = np.where(partial, first_day, invoices.paid)

    # Credit notes: dated after the invoice and before its first payment.
    latest = np.minimum.reduce([invoices.issued + 30, first_day - 1, cutoff - 1])
    wants_note = rng.random(count) < np.where(invoices.disputed, 0.20, 0.025)
    note = np.flatnonzero(wants_note & (latest > invoices.issued))
    span = latest[note] - invoices.issued[note]
    note_day = invoices.issued[note] + 1 + np.floor(rng.random(note.size) * span).astype(np.int64)
    full = rng.random(note.size) < 0.15
    share = np.where(full, 1.0, rng.uniform(0.05, 0.6, size=note.size))
    note_cents = -np.maximum(np.round(invoices.cents[note] * share), 1).astype(np.int64)
    net = invoices.cents.copy()
    net[note] += note_cents

    # Payments before the cut-off, never for invoices issued in the distress window.
    payable = ~distress & (net > 0)
    first_paid = payable & partial & (first_day < cutoff) & (net > 1)
    final_paid = payable & (invoices.paid < cutoff)
    first_cents = np.round(net * rng.uniform(0.3, 0.7, size=count)).astype(np.int64)
    first_cents = np.clip(first_cents, 1, np.maximum(net - 1, 1))
    final_cents = net - np.where(first_paid, first_cents, 0)

    # One row per payment, by invoice and with the first part before the final one.
    counts = first_paid.astype(np.int64) + final_paid
    invoice = np.repeat(np.arange(count), counts)
    within = np.arange(invoice.size) - np.repeat(np.cumsum(counts) - counts, counts)
    is_first_part = first_paid[invoice] & (within == 0)
    return _Settlement(
        credit_note=note, credit_note_day=note_day, credit_note_cents=note_cents,
        net_cents=net,
        payment_invoice=invoice,
        payment_day=np.where(is_first_part, first_day[invoice], invoices.paid[invoice]),
        payment_cents=np.where(is_first_part, first_cents[invoice], final_cents[invoice]),
    )
