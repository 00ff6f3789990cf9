"""DataFrames of the canonical tables and the true PD, and the column helpers they share."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute

from creditlimit.features.contract import DOCUMENT_TYPES
from creditlimit.features.synthetic.documents import (
    _chronological_order,
    _Invoices,
    _numbers_from_order,
    _Settlement,
)
from creditlimit.features.synthetic.latent import (
    _NO_DAY,
    _PREHISTORY_MONTHS,
    INDUSTRIES,
    REGIONS,
    SIZE_CLASSES,
    _Calendar,
    _Customers,
    _expected_default_probability,
    _Money,
    _Outcomes,
    _to_datetime64,
    _uniform_int,
)

__all__: list[str] = []

_INDUSTRY_NAME_NOUN = (
    "Machinery", "Trading", "Retail", "Construction", "Services", "Agriculture", "Technology",
)

# Industry label of a segment opened in the sample's last year (no effect on risk).
NEW_SEGMENT_INDUSTRY = "new_energy"
_NEW_SEGMENT_SHARE = 0.1

_NAME_HEADS = (
    "Hua", "Xin", "Jin", "Tai", "Hong", "Long", "Feng", "Sheng", "Da", "Heng", "Rui", "Yong",
    "Kang", "Ming", "Tian", "Zhong", "Bao", "Fu", "Guang", "Cheng",
)
_NAME_TAILS = (
    "xin", "da", "tai", "feng", "yuan", "sheng", "hua", "long", "tong", "an", "kang", "rui",
    "cheng", "li", "jia",
)

# "00" .. "99" as 2-byte ASCII codes, indexed by the number.
_DIGIT_PAIRS = np.frombuffer(
    "".join(f"{number:02d}" for number in range(100)).encode("ascii"), dtype=np.uint16
)


def _customers_frame(
    rng: np.random.Generator,
    ids: pa.Array,
    traits: _Customers,
    calendar: _Calendar,
    money: _Money,
    limit: np.ndarray,
) -> pd.DataFrame:
    count = traits.industry.size
    end = calendar.end_day

    # About 2 % locked, 3 % with the flag missing and 3 % temporary limits.
    locked_draw = rng.random(count)
    locked = pd.array(locked_draw < 0.02, dtype="boolean")
    locked[(locked_draw >= 0.02) & (locked_draw < 0.05)] = pd.NA
    temporary = rng.random(count) < 0.03
    valid_to = end + rng.integers(-60, 181, size=count)

    group_ids = _format_ids("G", np.maximum(traits.group, 0) + 1, 4)
    frame = pd.DataFrame({
        "customer_id": _text(ids),
        "industry": _text(_labels(INDUSTRIES, traits.industry)),
        "onboarded_on": _dates(traits.onboard_day),
        "payment_terms_days": traits.terms.astype(np.int64),
        "currency": _text(_currency_codes(traits.foreign, money)),
        "name": _text(_company_names(rng, traits)),
        "region": _text(_labels(REGIONS, traits.region)),
        "size_class": _text(_labels(SIZE_CLASSES, traits.size)),
        "group_id": _text(pa_compute.if_else(pa.array(traits.group >= 0), group_ids, None)),
        "credit_limit": limit,
        "limit_locked": locked,
        "limit_valid_to": _dates(valid_to, missing=~temporary),
    })
    # A segment the sales team opened in the last year: the model never saw it in
    # training, so scoring flags it as an unseen category value.
    recent = traits.onboard_day > end - 365
    new_segment = recent & (rng.random(count) < _NEW_SEGMENT_SHARE)
    frame.loc[new_segment, "industry"] = NEW_SEGMENT_INDUSTRY
    return frame


def _company_names(rng: np.random.Generator, traits: _Customers) -> list[str]:
    heads = rng.integers(0, len(_NAME_HEADS), size=traits.industry.size)
    tails = rng.integers(0, len(_NAME_TAILS), size=traits.industry.size)
    names = []
    for region, head, tail, industry in zip(traits.region, heads, tails, traits.industry):
        place = f"{REGIONS[region]} " if region >= 0 else ""
        trade_name = _NAME_HEADS[head] + _NAME_TAILS[tail]
        names.append(f"{place}{trade_name} {_INDUSTRY_NAME_NOUN[industry]} Co., Ltd.")
    return names


def _invoices_frame(
    ids: pa.Array,
    invoice_ids: pa.Array,
    invoices: _Invoices,
    settlement: _Settlement,
    traits: _Customers,
    money: _Money,
) -> pd.DataFrame:
    notes = settlement.credit_note
    note_order = _chronological_order(settlement.credit_note_day)
    note_numbers = _numbers_from_order(note_order)
    note_ids = _format_ids("CRN", note_numbers, _document_width(invoices.number.size))
    invoice_order = np.empty(invoices.number.size, dtype=np.int64)
    invoice_order[invoices.number - 1] = np.arange(invoices.number.size)

    # Rows are the invoices, then the credit notes, each block in number order. A
    # stable sort by day orders them by day, invoices before credit notes, and
    # number. `rows` maps each output row to its row in the blocks as built.
    count = invoices.number.size
    blocks = np.concatenate([invoice_order, count + note_order])
    day = np.concatenate([invoices.issued, settlement.credit_note_day])
    rows = blocks[_chronological_order(day[blocks])]
    is_note = rows >= count
    invoice_of_row = rows.copy()
    invoice_of_row[is_note] = notes[rows[is_note] - count]
    customer = invoices.customer[invoice_of_row]
    cents = np.concatenate([invoices.cents, settlement.credit_note_cents])[rows]
    document_id = pa.concat_arrays([invoice_ids, note_ids]).take(pa.array(rows))
    reference_id = pa_compute.if_else(
        pa.array(is_note), invoice_ids.take(pa.array(invoice_of_row)), None
    )
    # A credit note is due with its invoice and is never disputed.
    return pd.DataFrame({
        "document_id": _text(document_id),
        "document_type": _text(_labels(DOCUMENT_TYPES, is_note.astype(np.int64))),
        "customer_id": _text(ids.take(pa.array(customer))),
        "issued_on": _dates(day[rows]),
        "due_on": _dates(invoices.due[invoice_of_row]),
        "amount": cents / 100.0,
        "currency": _text(_currency_codes(traits.foreign[customer], money)),
        "reference_id": _text(reference_id),
        "disputed": pd.array(invoices.disputed[invoice_of_row] & ~is_note, dtype="boolean"),
    })


def _payments_frame(
    ids: pa.Array,
    invoice_ids: pa.Array,
    invoices: _Invoices,
    settlement: _Settlement,
    traits: _Customers,
    money: _Money,
) -> pd.DataFrame:
    # Payments are numbered by day, and payments of one day keep the invoice order.
    order = _chronological_order(settlement.payment_day)
    invoice, day = settlement.payment_invoice[order], settlement.payment_day[order]
    customer = invoices.customer[invoice]
    numbers = np.arange(1, order.size + 1)
    return pd.DataFrame({
        "payment_id": _text(_format_ids("PAY", numbers, _document_width(numbers.size))),
        "customer_id": _text(ids.take(pa.array(customer))),
        "paid_on": _dates(day),
        "amount": settlement.payment_cents[order] / 100.0,
        "currency": _text(_currency_codes(traits.foreign[customer], money)),
        "document_id": _text(invoice_ids.take(pa.array(invoice))),
    })


def _events_frame(
    rng: np.random.Generator,
    ids: pa.Array,
    invoices: _Invoices,
    settlement: _Settlement,
    outcomes: _Outcomes,
    calendar: _Calendar,
) -> pd.DataFrame:
    count = outcomes.default_day.size
    end = calendar.end_day

    # Open amount at default: payments stop at the default day, so it is what is
    # still unpaid at the end.
    invoiced = np.bincount(invoices.customer, weights=settlement.net_cents, minlength=count)
    paid = np.bincount(
        invoices.customer[settlement.payment_invoice], weights=settlement.payment_cents,
        minlength=count,
    )
    open_cents = invoiced - paid
    defaulter = np.flatnonzero(outcomes.default_month >= 0)
    default_day = outcomes.default_day[defaulter]
    open_amount = open_cents[defaulter] / 100.0

    # Events after a default: type, probability, delay range in days and the
    # range of the share of the open amount (None: no amount).
    parts = [(defaulter, default_day, "default", open_amount)]
    follow_ups = (
        ("write_off", 0.4, (60, 270), (0.6, 1.0)),
        ("bankruptcy", 0.2, (30, 360), None),
        ("legal_action", 0.3, (15, 120), (1.0, 1.0)),
    )
    for event_type, probability, (low, high), share in follow_ups:
        day = default_day + _uniform_int(rng, low, high, defaulter.size)
        amount = np.full(defaulter.size, np.nan) if share is None else np.round(
            open_amount * rng.uniform(*share, size=defaulter.size), 2
        )
        chosen = (rng.random(defaulter.size) < probability) & (day < end)
        parts.append((defaulter[chosen], day[chosen], event_type, amount[chosen]))
    parts.extend(_stress_events(rng, outcomes, calendar))

    customer = np.concatenate([part[0] for part in parts])
    day = np.concatenate([part[1] for part in parts])
    kind = np.concatenate([np.full(part[0].size, part[2], dtype=object) for part in parts])
    amount = np.concatenate([part[3] for part in parts])
    frame = pd.DataFrame({"customer": customer, "day": day, "event_type": kind, "amount": amount})
    frame = frame.drop_duplicates(["customer", "day", "event_type"])
    frame = frame.sort_values(["day", "customer", "event_type"], kind="stable")
    return pd.DataFrame({
        "customer_id": _text(ids.take(pa.array(frame["customer"].to_numpy()))),
        "event_on": _dates(frame["day"].to_numpy()),
        "event_type": _text(pa.array(frame["event_type"].to_numpy(), type=pa.string())),
        "amount": frame["amount"].to_numpy(dtype=np.float64),
    })


def _stress_events(
    rng: np.random.Generator, outcomes: _Outcomes, calendar: _Calendar
) -> list[tuple[np.ndarray, np.ndarray, str, np.ndarray]]:
    """Legal actions and restructurings of customers not (yet) in default."""
    months = calendar.months
    month_index = np.arange(months)[None, :]
    last = np.where(outcomes.default_month >= 0, outcomes.default_month, months)
    eligible = (
        (month_index >= outcomes.first_hazard_month[:, None]) & (month_index < last[:, None])
    )
    parts = []
    for event_type, factor in (("legal_action", 0.3), ("restructuring", 0.15)):
        hit = eligible & (rng.random(outcomes.hazard.shape) < factor * outcomes.hazard)
        customer, month = np.nonzero(hit)
        start = calendar.start_of(month)
        length = calendar.start_of(month + 1) - start
        day = start + np.floor(rng.random(customer.size) * length).astype(np.int64)
        parts.append((customer, day, event_type, np.full(customer.size, np.nan)))
    return parts


def _fx_frame(calendar: _Calendar, money: _Money) -> pd.DataFrame:
    days = calendar.start_of(np.arange(-_PREHISTORY_MONTHS, calendar.months))
    return pd.DataFrame({
        "currency": _text(pa.array([money.foreign] * days.size, type=pa.string())),
        "rate_on": _dates(days),
        "rate_to_base": money.rate_to_base.astype(np.float64),
    })


def _true_pd_frame(
    ids: pa.Array, traits: _Customers, outcomes: _Outcomes, calendar: _Calendar
) -> pd.DataFrame:
    """Build one true-PD row per customer and month start after onboarding, up to the default."""
    pd_matrix = _expected_default_probability(outcomes)
    month_start = calendar.start_of(np.arange(calendar.months))
    onboarded = month_start[None, :] > traits.onboard_day[:, None]
    not_defaulted = month_start[None, :] <= outcomes.default_day[:, None]
    customer, month = np.nonzero(onboarded & not_defaulted)
    default_day = outcomes.default_day[customer]
    return pd.DataFrame({
        "customer_id": _text(ids.take(pa.array(customer))),
        "month": _dates(month_start[month]),
        "pd_12m_true": pd_matrix[customer, month],
        "defaulted_by": _dates(default_day, missing=default_day == _NO_DAY),
    })


def _format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Text ids ``prefix`` + ``numbers`` zero-padded to ``width`` digits.

    Digits are written two at a time from a lookup table, without a Python loop
    over the rows.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size and (numbers.min() < 0 or numbers.max() >= 10**width):
        raise ValueError(
            f"id numbers must lie in [0, 10**{width}); got {numbers.min()} to {numbers.max()}"
        )
    pairs = (width + 1) // 2
    digits = np.empty((numbers.size, pairs), dtype=np.uint16)
    remaining = numbers.copy()
    for column in range(pairs - 1, -1, -1):
        quotient = remaining // 100
        digits[:, column] = np.take(_DIGIT_PAIRS, remaining - quotient * 100)
        remaining = quotient

    # An odd width drops the leading "0" of the first pair.
    start = len(prefix)
    chars = np.empty((numbers.size, start + width), dtype=np.uint8)
    chars[:, :start] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    chars[:, start:] = digits.view(np.uint8)[:, 2 * pairs - width :]

    # The bytes are ASCII, so they form a valid Arrow string array as they are.
    # Arrow's string type has 32-bit offsets, enough for about 190 million ids.
    offsets = np.arange(numbers.size + 1, dtype=np.int64) * chars.shape[1]
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ValueError(f"{numbers.size} ids do not fit in one Arrow string array")
    buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(chars)]
    return pa.Array.from_buffers(pa.string(), numbers.size, buffers)


def _document_width(count: int) -> int:
    """Digits of document numbers: 8, or more when the count needs them."""
    return max(8, len(str(count)))


def _labels(labels: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Labels by index; index -1 gives a missing value."""
    dictionary = pa.DictionaryArray.from_arrays(
        pa.array(index, mask=index < 0, type=pa.int32()), pa.array(labels, type=pa.string())
    )
    return dictionary.cast(pa.string())


def _currency_codes(foreign: np.ndarray, money: _Money) -> pa.Array:
    return _labels((money.base, money.foreign), foreign.astype(np.int64))


def _text(values: pa.Array | list[str]) -> pd.Series:
    return pa.array(values, type=pa.string()).to_pandas()


def _dates(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Convert day numbers to datetime64[us] dates, with NaT where ``missing`` is True."""
    dates = _to_datetime64(np.where(missing, 0, days) if missing is not None else days)
    dates = dates.astype("datetime64[us]")
    if missing is not None:
        dates[missing] = np.datetime64("NaT")
    return dates


_ARROW_TYPES = {
    "str": pa.string(), "date": pa.date32(), "float": pa.float64(), "int": pa.int64(),
    "bool": pa.bool_(),
}


def _arrow_table(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pa.Table:
    """Arrow table with a fixed schema from column kinds; missing values become nulls."""
    arrays = []
    for column, kind in kinds.items():
        values = frame[column]
        if kind == "date":
            values = values.to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
        elif kind == "float":
            values = values.to_numpy(dtype=np.float64)
        arrays.append(pa.array(values, type=_ARROW_TYPES[kind], from_pandas=True))
    schema = pa.schema([pa.field(column, _ARROW_TYPES[kind]) for column, kind in kinds.items()])
    return pa.Table.from_arrays(arrays, schema=schema)
