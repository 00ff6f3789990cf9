"""Convert amounts to the base currency with the fx rate dated on or before each document."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["UNKNOWN_CURRENCY", "NO_FX_RATE", "FX_COLUMNS", "convert_to_base"]

logger = logging.getLogger(__name__)

UNKNOWN_CURRENCY = "unknown_currency"
NO_FX_RATE = "no_fx_rate"
FX_COLUMNS = ("original_currency", "fx_rate_to_base")

# Merge keys in one unit, wide enough for any calendar date (nanoseconds end in 2262).
_MERGE_UNIT = "datetime64[us]"


def convert_to_base(
    frame: pd.DataFrame,
    *,
    amount_columns: Sequence[str],
    date_column: str | None,
    currency_column: str,
    rates: pd.DataFrame,
    base_currency: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert amount columns to ``base_currency`` with an as-of merge on ``rates``.

    Each row takes the rate of its currency with the latest ``rate_on`` on or before
    the row's date (never a later rate). Rows in the base currency take the rate 1.0
    and need no entry in ``rates``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows to convert, with ``currency_column`` (text), ``date_column``
        (datetime64) and the float64 ``amount_columns``. It is not modified.
    amount_columns : sequence of str
        Columns that hold amounts in the row's currency.
    date_column : str or None
        Document date that selects the rate. ``None`` takes the latest rate of each
        currency in ``rates`` (used for a customer's current credit limit).
    currency_column : str
        Column with the currency code of the row.
    rates : pandas.DataFrame
        ``currency`` (text), ``rate_on`` (datetime64) and ``rate_to_base`` (float64,
        units of base currency per unit of ``currency``), one row per
        (``currency``, ``rate_on``).
    base_currency : str
        Currency code of the base currency.

    Returns
    -------
    converted : pandas.DataFrame
        The rows of ``frame`` that could be converted, in their original order and
        index. Amounts are multiplied by the rate, ``currency_column`` is set to
        ``base_currency``, and two columns are added: ``original_currency`` (the code
        as given) and ``fx_rate_to_base`` (the rate used, so the original amount is
        ``amount / fx_rate_to_base``). A missing amount stays missing.
    problems : pandas.DataFrame
        One row per row of ``frame`` that could not be converted, indexed like
        ``frame``, with columns ``reason_code``, ``currency`` and ``date``. The
        reason is ``unknown_currency`` when the currency is missing, or is neither
        the base currency nor in ``rates``. It is ``no_fx_rate`` when the currency
        is in ``rates`` but has no rate on or before the date.

    Raises
    ------
    ValueError
        If ``rates`` has a duplicate (``currency``, ``rate_on``) or a rate that is not
        finite and greater than 0.

    Notes
    -----
    A row whose amount columns are all missing needs no rate. It is kept with the
    rate found for it, or with ``fx_rate_to_base`` missing when there is none, but
    an unknown currency is still a problem.
    """
    _check_rates(rates)
    currency = frame[currency_column].astype(object)
    dates = _row_dates(frame, date_column)

    is_base = currency.eq(base_currency).fillna(False).astype(bool)
    known = is_base | currency.isin(set(rates["currency"].dropna()))
    rate = pd.Series(np.nan, index=frame.index, dtype="float64")
    rate[is_base] = 1.0
    foreign = known & ~is_base
    if date_column is None:
        rate[foreign] = currency[foreign].map(_latest_rates(rates)).astype("float64")
    else:
        rate[foreign] = _rates_on_or_before(currency[foreign], dates[foreign], rates)

    has_amount = frame[list(amount_columns)].notna().any(axis=1)
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[~known] = UNKNOWN_CURRENCY
    reason[foreign & rate.isna() & has_amount] = NO_FX_RATE
    failed = reason.notna()

    problems = pd.DataFrame(
        {"reason_code": reason[failed], "currency": currency[failed], "date": dates[failed]}
    )
    converted = _apply_rates(frame.loc[~failed], rate[~failed], amount_columns, currency_column)
    converted[currency_column] = pd.Series(base_currency, index=converted.index, dtype="str")
    logger.debug(
        "converted %d rows to %s, %d rows without a usable rate",
        len(converted), base_currency, len(problems),
    )
    return converted, problems


def _check_rates(rates: pd.DataFrame) -> None:
    if rates.duplicated(subset=["currency", "rate_on"]).any():
        raise ValueError("rates must have one row per (currency, rate_on), but has duplicates.")
    values = rates["rate_to_base"].to_numpy(dtype="float64")
    if not (np.isfinite(values) & (values > 0)).all():
        raise ValueError("rates.rate_to_base must be finite and greater than 0.")


def _row_dates(frame: pd.DataFrame, date_column: str | None) -> pd.Series:
    if date_column is None:
        return pd.Series(pd.NaT, index=frame.index, dtype=_MERGE_UNIT)
    return frame[date_column].astype(_MERGE_UNIT)


def _latest_rates(rates: pd.DataFrame) -> pd.Series:
    ordered = rates.sort_values(["currency", "rate_on"])
    return ordered.groupby("currency")["rate_to_base"].last()


def _rates_on_or_before(
    currency: pd.Series, dates: pd.Series, rates: pd.DataFrame
) -> pd.Series:
    """Return the rate of each row's currency dated on or before the row's date."""
    left = pd.DataFrame({
        "position": np.arange(len(currency)),
        "currency": pd.Series(currency.to_numpy(), dtype="str"),
        "date": dates.to_numpy(),
    })
    left = left[left["date"].notna()].sort_values("date", kind="stable")
    right = pd.DataFrame(
        {
            "currency": pd.Series(rates["currency"].to_numpy(), dtype="str"),
            "rate_on": rates["rate_on"].astype(_MERGE_UNIT).to_numpy(),
            "rate_to_base": rates["rate_to_base"].to_numpy(dtype="float64"),
        }
    ).sort_values("rate_on", kind="stable")

    # direction="backward" with exact matches allowed: the rate dated on the
    # document day counts, a later rate never does.
    matched = pd.merge_asof(
        left, right, left_on="date", right_on="rate_on", by="currency",
        direction="backward", allow_exact_matches=True,
    )
    result = np.full(len(currency), np.nan)
    result[matched["position"].to_numpy()] = matched["rate_to_base"].to_numpy(dtype="float64")
    return pd.Series(result, index=currency.index, dtype="float64")


def _apply_rates(
    frame: pd.DataFrame, rate: pd.Series, amount_columns: Sequence[str], currency_column: str
) -> pd.DataFrame:
    converted = frame.copy()
    for column in amount_columns:
        converted[column] = converted[column].astype("float64") * rate
    converted["original_currency"] = frame[currency_column].astype("str")
    converted["fx_rate_to_base"] = rate
    return converted
