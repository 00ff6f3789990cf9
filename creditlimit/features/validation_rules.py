"""Row rules of table validation: value formats, table rules, duplicates, currencies, references.

These are the private steps of :func:`creditlimit.features.validation.validate_tables`.
The module docstring there gives the order in which the rules run.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditlimit.features.contract import CREDIT_EVENT_TYPES, DOCUMENT_TYPES, TABLES
from creditlimit.features.fx import NO_FX_RATE, UNKNOWN_CURRENCY, convert_to_base

if TYPE_CHECKING:
    from creditlimit.features.validation import _Context, _TableWork

__all__: list[str] = []

# ASCII digits only: full-width digits are folded to ASCII before matching, and
# other scripts' digits are rejected.
_NUMBER_PATTERN = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_INTEGER_PATTERN = r"[+-]?[0-9]+(?:\.0*)?"
_DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# An id that Excel displayed as a number in scientific notation (1.23457E+11):
# the digits past the mantissa are lost, so the original id cannot be recovered.
_SCIENTIFIC_ID_PATTERN = r"[+-]?[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+"
# No text value of the contract (ids, codes, names) is longer than this. Longer
# text is a broken export, such as a whole file in one quoted field.
_MAX_TEXT_LENGTH = 1000
# No record of these tables is dated before 1900. Earlier dates come from
# spreadsheet day zero (1899-12-30 or 1900-01-00) standing for an empty cell.
_MIN_DATE = pd.Timestamp("1900-01-01")
_BOOL_VALUES = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
# Whole numbers beyond 2**53 lose digits in float64 on the way to int64.
_MAX_INTEGER = 2.0**53
# No amount or ratio in these tables comes near 10^15 (a thousand trillion), and
# larger values would overflow the exact DECIMAL sums of the feature builder.
_MAX_ABS_NUMBER = 1e15
_DATE_DTYPE = "datetime64[ms]"
_INVALID_CODES = {
    "date": "invalid_date", "float": "invalid_number", "int": "invalid_integer", "bool": "invalid_bool",
}

# Amount columns converted to the base currency, and the date that picks the rate.
# None takes the latest rate, because a current credit limit has no document date.
_CONVERSIONS = {
    "customers": (("credit_limit",), None),
    "financial_statements": (
        tuple(c for c, k in TABLES["financial_statements"].columns.items() if k == "float"),
        "period_end",
    ),
    "invoices": (("amount",), "issued_on"),
    "payments": (("amount",), "paid_on"),
    "credit_events": (("amount",), "event_on"),
}


# --- Parsing -------------------------------------------------------------------


def _parse(text: pd.Series, kind: str) -> tuple[pd.Series, pd.Series | None]:
    """Parse one text column into ``kind``, returning the values and the invalid mask.

    Missing text gives a missing value and is never invalid. Text is always valid,
    so its mask is None.
    """
    if kind == "str":
        return text, None
    text = _fold_full_width(text)
    present = text.notna()
    if kind == "bool":
        values = text.str.lower().map(_BOOL_VALUES).astype("boolean")
        return values, present & values.isna()
    if kind == "date":
        well_formed = text.str.fullmatch(_DATE_PATTERN).astype(bool)
        values = pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce")
        values = values.astype(_DATE_DTYPE)
        return values, present & values.isna()

    pattern = _INTEGER_PATTERN if kind == "int" else _NUMBER_PATTERN
    well_formed = text.str.fullmatch(pattern).astype(bool)
    values = pd.to_numeric(text.where(well_formed), errors="coerce").astype("float64")
    valid = np.isfinite(values) & (values.abs() <= _MAX_ABS_NUMBER)
    if kind == "int":
        valid &= values.abs() <= _MAX_INTEGER
        values = values.where(valid).astype("Int64")
    return values, present & ~valid


def _fold_full_width(text: pd.Series) -> pd.Series:
    """Fold full-width digits, signs and letters (１２３．５, －５) to ASCII with NFKC.

    Chinese input methods type full-width forms, and their meaning is the same as
    ASCII's, so numbers, dates and booleans accept them. Text columns keep them.
    """
    non_ascii = text.notna() & ~text.str.isascii().astype(bool)
    if not non_ascii.any():
        return text
    folded = text[non_ascii].map(lambda value: unicodedata.normalize("NFKC", value))
    return text.where(~non_ascii, folded)


# --- Rules ---------------------------------------------------------------------


def _run_rules(work: _TableWork, context: _Context) -> None:
    _apply_field_rules(work)
    _TABLE_RULES.get(work.name, lambda work: None)(work)
    _apply_future_rule(work, context.as_of_limit)
    _apply_duplicate_rules(work)
    if "customer_id" in work.spec.columns and work.name != "customers":
        known = work.typed["customer_id"].isin(context.customer_currency.index)
        work.reject(~known, "unknown_customer", "customer_id")
    if work.name in _CONVERSIONS:
        _apply_currency_rules(work, context)
    if work.name == "invoices":
        _apply_credit_note_references(work)
    if work.name == "payments":
        _apply_payment_references(work, context.invoice_keys)


def _apply_field_rules(work: _TableWork) -> None:
    spec = work.spec
    for column in spec.key:
        work.reject(work.text[column].isna(), "missing_key", column)
    for column in spec.required:
        work.reject(work.text[column].isna(), "missing_value", column)
    _apply_text_rules(work)
    typed = {}
    for column, kind in spec.columns.items():
        typed[column], invalid = _parse(work.text[column], kind)
        if invalid is not None:
            work.reject(invalid, _INVALID_CODES[kind], column)
    work.typed = pd.DataFrame(typed, index=work.index)
    for column, kind in spec.columns.items():
        if kind == "date":
            work.reject(work.typed[column] < _MIN_DATE, "implausible_date", column)


def _apply_text_rules(work: _TableWork) -> None:
    """Reject text over :data:`_MAX_TEXT_LENGTH` characters and ids in scientific notation."""
    for column in work.spec.columns:
        length = work.text[column].str.len()
        work.reject(
            length > _MAX_TEXT_LENGTH, "value_too_long", column,
            length=length.astype("Int64"), max_length=_MAX_TEXT_LENGTH,
        )
    for column in work.spec.columns:
        if column.endswith("_id"):
            scientific = work.text[column].str.fullmatch(_SCIENTIFIC_ID_PATTERN).astype(bool)
            work.reject(scientific, "scientific_notation_id", column)


def _customer_rules(work: _TableWork) -> None:
    for column in ("payment_terms_days", "credit_limit"):
        work.reject(work.typed[column] < 0, "negative_value", column)


def _statement_rules(work: _TableWork) -> None:
    typed = work.typed
    work.reject(
        typed["published_on"] < typed["period_end"], "published_before_period_end",
        "published_on", period_end=work.text["period_end"],
    )


def _invoice_rules(work: _TableWork) -> None:
    typed = work.typed
    document_type = typed["document_type"]
    work.reject(
        document_type.notna() & ~document_type.isin(DOCUMENT_TYPES), "invalid_document_type",
        "document_type",
    )
    is_invoice = document_type.eq("invoice")
    is_credit_note = document_type.eq("credit_note")
    work.reject(is_invoice & (typed["amount"] < 0), "negative_invoice_amount", "amount")
    # An export often writes 0 for an empty amount, and a zero invoice has nothing to pay.
    work.reject(is_invoice & (typed["amount"] == 0), "zero_invoice_amount", "amount")
    work.reject(is_credit_note & (typed["amount"] >= 0), "credit_note_not_negative", "amount")
    work.reject(
        is_credit_note & typed["reference_id"].isna(), "credit_note_without_reference", "reference_id"
    )
    work.reject(
        typed["due_on"] < typed["issued_on"], "due_before_issue", "due_on",
        issued_on=work.text["issued_on"],
    )


def _payment_rules(work: _TableWork) -> None:
    work.reject(work.typed["amount"] <= 0, "non_positive_payment", "amount")


def _credit_event_rules(work: _TableWork) -> None:
    event_type = work.typed["event_type"]
    work.reject(
        event_type.notna() & ~event_type.isin(CREDIT_EVENT_TYPES), "invalid_event_type", "event_type"
    )


def _fx_rate_rules(work: _TableWork) -> None:
    work.reject(work.typed["rate_to_base"] <= 0, "invalid_fx_rate", "rate_to_base")


_TABLE_RULES = {
    "customers": _customer_rules,
    "financial_statements": _statement_rules,
    "invoices": _invoice_rules,
    "payments": _payment_rules,
    "credit_events": _credit_event_rules,
    "fx_rates": _fx_rate_rules,
}


def _apply_future_rule(work: _TableWork, as_of_limit: pd.Timestamp | None) -> None:
    if as_of_limit is None:
        return
    column = work.spec.date_column
    work.reject(
        work.typed[column] > as_of_limit, "future_date", column,
        limit=as_of_limit.date().isoformat(),
    )


def _apply_duplicate_rules(work: _TableWork) -> None:
    """Drop exact copies, then quarantine every row of a key with differing content."""
    key = list(work.spec.key)
    key_column = ", ".join(key)
    key_text = work.text[key[0]].astype(object)
    for column in key[1:]:
        key_text = key_text + " / " + work.text[column].astype(object)

    open_rows = work.open_rows()
    candidates = work.typed.loc[open_rows, list(work.spec.columns)]
    copies = candidates.duplicated(keep="first").reindex(work.typed.index, fill_value=False)
    work.reject(copies, "exact_duplicate", key_column, value=key_text)

    remaining = work.typed.loc[work.open_rows(), key]
    conflict = remaining.duplicated(keep=False)
    sizes = remaining.assign(rows=1).groupby(key)["rows"].transform("size")
    work.reject(
        conflict.reindex(work.typed.index, fill_value=False), "duplicate_key_conflict",
        key_column, value=key_text, count=sizes.reindex(work.typed.index).astype("Int64"),
    )


def _apply_currency_rules(work: _TableWork, context: _Context) -> None:
    """Convert the open rows to the base currency and reject those without a rate."""
    amount_columns, date_column = _CONVERSIONS[work.name]
    open_rows = work.open_rows()
    frame = work.typed.loc[open_rows]
    if work.name == "credit_events":
        # Credit events have no currency column, so their amounts are in the customer's currency.
        currency_column = "customer_currency"
        frame = frame.assign(customer_currency=frame["customer_id"].map(context.customer_currency))
    else:
        currency_column = "currency"

    converted, problems = convert_to_base(
        frame, amount_columns=amount_columns, date_column=date_column,
        currency_column=currency_column, rates=context.rates, base_currency=context.base_currency,
    )
    dates = "" if date_column is None else work.text[date_column]
    currency = frame[currency_column].reindex(work.typed.index)
    # Credit events name the amount they cannot convert, other tables their currency.
    column = "amount" if work.name == "credit_events" else "currency"
    for code in (UNKNOWN_CURRENCY, NO_FX_RATE):
        failed = pd.Series(False, index=work.typed.index)
        failed[problems.index[problems["reason_code"] == code]] = True
        work.reject(
            failed, code, column, currency=currency, date=dates,
            base_currency=context.base_currency,
        )
    work.converted = converted.drop(columns=["customer_currency"], errors="ignore")


def _apply_credit_note_references(work: _TableWork) -> None:
    typed = work.typed
    open_rows = work.open_rows()
    invoices = typed[open_rows & typed["document_type"].eq("invoice")]
    invoice_keys = pd.MultiIndex.from_arrays([invoices["document_id"], invoices["customer_id"]])
    references = pd.MultiIndex.from_arrays([typed["reference_id"], typed["customer_id"]])
    found = pd.Series(references.isin(invoice_keys), index=typed.index)
    work.reject(
        typed["document_type"].eq("credit_note") & ~found, "unknown_reference", "reference_id",
        customer_id=work.text["customer_id"],
    )


def _apply_payment_references(work: _TableWork, invoice_keys: pd.MultiIndex) -> None:
    typed = work.typed
    documents = pd.MultiIndex.from_arrays([typed["document_id"], typed["customer_id"]])
    found = pd.Series(documents.isin(invoice_keys), index=typed.index)
    work.reject(
        typed["document_id"].notna() & ~found, "unknown_document", "document_id",
        customer_id=work.text["customer_id"],
    )
