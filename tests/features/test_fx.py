"""Tests of the conversion of amounts to the base currency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditlimit.features.fx import NO_FX_RATE, UNKNOWN_CURRENCY, convert_to_base


def _rates(rows: list[tuple[str, str, float]], unit: str = "datetime64[ms]") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["currency", "rate_on", "rate_to_base"])
    frame["rate_on"] = pd.to_datetime(frame["rate_on"]).astype(unit)
    return frame


def _documents(rows: list[tuple[str, str, float]], unit: str = "datetime64[ms]") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["currency", "issued_on", "amount"])
    frame["issued_on"] = pd.to_datetime(frame["issued_on"]).astype(unit)
    frame["amount"] = frame["amount"].astype("float64")
    return frame


USD_RATES = _rates([("USD", "2024-01-01", 7.0), ("USD", "2024-02-01", 7.5)])


def _convert(frame: pd.DataFrame, rates: pd.DataFrame = USD_RATES, **options):
    arguments = {
        "amount_columns": ["amount"], "date_column": "issued_on", "currency_column": "currency",
        "rates": rates, "base_currency": "CNY",
    } | options
    return convert_to_base(frame, **arguments)


def test_convert_to_base_rate_on_or_before():
    """Each document takes the latest rate dated on or before it, never a later one."""
    frame = _documents([
        ("USD", "2024-01-01", 100.0),  # rate dated the same day
        ("USD", "2024-01-31", 100.0),  # the day before the next rate
        ("USD", "2024-02-01", 100.0),
        ("USD", "2024-03-15", 100.0),  # after the last rate
    ])

    converted, problems = _convert(frame)

    assert problems.empty
    assert converted["fx_rate_to_base"].tolist() == [7.0, 7.0, 7.5, 7.5]
    assert converted["amount"].tolist() == [700.0, 700.0, 750.0, 750.0]


def test_convert_to_base_base_currency_rate_one():
    """Base-currency rows take rate 1.0 and keep their amount, without any CNY rate."""
    frame = _documents([("CNY", "2019-05-05", 123.45), ("USD", "2024-02-10", 10.0)])

    converted, problems = _convert(frame)

    assert problems.empty
    assert converted["fx_rate_to_base"].tolist() == [1.0, 7.5]
    assert converted["amount"].tolist() == [123.45, 75.0]
    assert converted["original_currency"].tolist() == ["CNY", "USD"]
    assert converted["currency"].tolist() == ["CNY", "CNY"]


def test_convert_to_base_credit_note_stays_negative():
    """A credit note's negative amount converts with its own date's rate and keeps its sign."""
    frame = _documents([("USD", "2024-01-10", 500.0), ("USD", "2024-02-15", -100.0)])

    converted, _ = _convert(frame)

    assert converted["amount"].tolist() == [3500.0, -750.0]
    original = converted["amount"] / converted["fx_rate_to_base"]
    assert original.tolist() == pytest.approx([500.0, -100.0])


def test_convert_to_base_missing_amount_stays_missing():
    """A missing amount stays NaN after conversion instead of becoming 0."""
    frame = _documents([("USD", "2024-01-10", np.nan), ("CNY", "2024-01-10", np.nan)])

    converted, problems = _convert(frame)

    assert problems.empty
    assert converted["amount"].isna().all()
    assert converted["fx_rate_to_base"].tolist() == [7.0, 1.0]


def test_convert_to_base_unknown_currency_is_problem():
    """A currency that is neither base nor in the rates is a problem row, not converted."""
    frame = _documents([("EUR", "2024-01-10", 10.0), ("USD", "2024-01-10", 10.0)])

    converted, problems = _convert(frame)

    assert converted.index.tolist() == [1]
    assert problems.index.tolist() == [0]
    assert problems.loc[0, "reason_code"] == UNKNOWN_CURRENCY
    assert problems.loc[0, "currency"] == "EUR"


def test_convert_to_base_no_earlier_rate():
    """A known currency without a rate on or before the date is a no_fx_rate problem."""
    frame = _documents([("USD", "2023-12-31", 10.0)])

    converted, problems = _convert(frame)

    assert converted.empty
    assert problems["reason_code"].tolist() == [NO_FX_RATE]
    assert problems["date"].tolist() == [pd.Timestamp("2023-12-31")]


def test_convert_to_base_no_amount_needs_no_rate():
    """A row without any amount needs no rate, so it is kept with a missing rate."""
    frame = _documents([("USD", "2023-12-31", np.nan)])

    converted, problems = _convert(frame)

    assert problems.empty
    assert converted["fx_rate_to_base"].isna().all()
    assert converted["original_currency"].tolist() == ["USD"]


def test_convert_to_base_rates_matched_by_currency():
    """A rate of another currency is never used, even when it is the nearest in time."""
    rates = _rates([("USD", "2024-01-01", 7.0), ("EUR", "2024-01-20", 7.8)])
    frame = _documents([("USD", "2024-01-25", 1.0), ("EUR", "2024-01-25", 1.0), ("EUR", "2024-01-05", 1.0)])

    converted, problems = _convert(frame, rates=rates)

    assert converted["fx_rate_to_base"].tolist() == [7.0, 7.8]
    assert problems["reason_code"].tolist() == [NO_FX_RATE]
    assert problems.index.tolist() == [2]


def test_convert_to_base_without_date_takes_latest_rate():
    """With no date column every row takes the latest rate of its currency."""
    frame = pd.DataFrame({"currency": ["USD", "CNY"], "credit_limit": [1000.0, 500.0]})

    converted, problems = _convert(frame, amount_columns=["credit_limit"], date_column=None)

    assert problems.empty
    assert converted["credit_limit"].tolist() == [7500.0, 500.0]


def test_convert_to_base_keeps_index_and_input():
    """Output keeps the input's index and order and the input frame is not modified."""
    frame = _documents([
        ("USD", "2024-03-01", 1.0), ("USD", "2024-01-02", 2.0), ("CNY", "2024-01-03", 3.0),
    ])
    frame.index = [30, 10, 20]
    before = frame.copy()

    converted, _ = _convert(frame)

    assert converted.index.tolist() == [30, 10, 20]
    assert converted["amount"].tolist() == [7.5, 14.0, 3.0]
    pd.testing.assert_frame_equal(frame, before)


def test_convert_to_base_mixed_date_units():
    """Dates in different datetime64 units on both sides still match."""
    frame = _documents([("USD", "2024-02-01", 1.0)], unit="datetime64[us]")
    rates = _rates([("USD", "2024-02-01", 7.2)], unit="datetime64[s]")

    converted, _ = _convert(frame, rates=rates)

    assert converted["fx_rate_to_base"].tolist() == [7.2]


def test_convert_to_base_empty_frame():
    """An empty frame gives empty results with the added columns."""
    frame = _documents([])

    converted, problems = _convert(frame)

    assert converted.empty
    assert problems.empty
    assert {"original_currency", "fx_rate_to_base"} <= set(converted.columns)


def test_convert_to_base_rejects_duplicate_rates():
    """Two rates for one currency and day are an error, because the choice would be arbitrary."""
    rates = _rates([("USD", "2024-01-01", 7.0), ("USD", "2024-01-01", 7.1)])

    with pytest.raises(ValueError, match=r"one row per \(currency, rate_on\)"):
        _convert(_documents([("USD", "2024-01-05", 1.0)]), rates=rates)


@pytest.mark.parametrize("rate", [0.0, -7.0, np.inf, np.nan])
def test_convert_to_base_rejects_invalid_rate(rate):
    """A rate that is not finite and positive is an error."""
    rates = _rates([("USD", "2024-01-01", rate)])

    with pytest.raises(ValueError, match="finite and greater than 0"):
        _convert(_documents([("USD", "2024-01-05", 1.0)]), rates=rates)
