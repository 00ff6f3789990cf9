"""Faulty rows added to the sample tables, so that validation has rows to drop and quarantine.

Every kind is named after the validation reason code it triggers. The faulty
rows are extra rows. Apart from the exact duplicates, which copy a row, each one
has a key or a reference that no clean row has. So validation keeps the same
rows with or without them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pa_compute

from creditlimit.features.contract import TABLES
from creditlimit.features.synthetic.frames import _arrow_table, _document_width, _format_ids

__all__ = ["FAULT_KINDS", "CSV_ONLY_FAULT_KINDS"]

FAULT_KINDS = (
    "exact_duplicate", "duplicate_key_conflict", "unknown_currency", "negative_invoice_amount",
    "due_before_issue", "unknown_document", "unknown_customer",
)
"""Kinds of faulty rows in the tables, named after their validation reason code."""
CSV_ONLY_FAULT_KINDS = ("invalid_date", "invalid_number")
"""Kinds of faulty rows that only a CSV file can hold: text in a date or amount column."""

# Kinds injected into each table, in this order.
_TABLE_KINDS = {
    "customers": ("exact_duplicate", "duplicate_key_conflict", "unknown_currency"),
    "financial_statements": (
        "exact_duplicate", "duplicate_key_conflict", "unknown_currency", "unknown_customer",
    ),
    "invoices": (
        "exact_duplicate", "duplicate_key_conflict", "unknown_currency",
        "negative_invoice_amount", "due_before_issue", "unknown_customer",
    ),
    "payments": (
        "exact_duplicate", "duplicate_key_conflict", "unknown_currency", "unknown_document",
        "unknown_customer",
    ),
}
# Date and amount column of the tables that get CSV-only rows.
_CSV_ONLY_COLUMNS = {"invoices": ("issued_on", "amount"), "payments": ("paid_on", "amount")}
_MAX_CSV_ONLY_ROWS = 5
_UNKNOWN_CURRENCY = "XYZ"
# Clean statements end on December 31, so a period end this many months earlier
# is a key no clean row has. Each kind gets its own month, so keys never collide.
_STATEMENT_KEY_SHIFT_MONTHS = {
    "duplicate_key_conflict": 6, "unknown_currency": 3, "unknown_customer": 9,
}
_LEDGER_COLUMNS = {"table": "str", "row": "int64", "kind": "str", "csv_only": "bool"}


@dataclass(frozen=True)
class _Faults:
    """Tables with the faulty rows inserted, the ledger of those rows and the CSV-only rows."""

    tables: dict[str, pd.DataFrame]
    ledger: pd.DataFrame
    csv_only_rows: dict[str, pd.DataFrame]


class _FreshIds:
    """Ids that no clean row uses: numbers after the last one of each prefix."""

    def __init__(self, customers: int, invoices: int, payments: int) -> None:
        self._next = {"C": customers + 1, "INV": invoices + 1, "PAY": payments + 1}
        self._min_width = {
            "C": max(6, len(str(customers))), "INV": _document_width(invoices),
            "PAY": _document_width(payments),
        }

    def take(self, prefix: str, count: int) -> np.ndarray:
        first = self._next[prefix]
        self._next[prefix] += count
        numbers = np.arange(first, first + count)
        width = max(self._min_width[prefix], len(str(first + count - 1)))
        return np.asarray(_format_ids(prefix, numbers, width).to_pylist(), dtype=object)


def _empty_ledger() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in _LEDGER_COLUMNS.items()})


def _inject_faults(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], *, share: float
) -> _Faults:
    """Insert faulty rows into customers, statements, invoices and payments.

    Each table gets ``floor(share x rows)`` faulty rows at random positions,
    split evenly over its kinds (a same-key pair takes two rows). Invoices and
    payments spend up to 5 of them on each CSV-only kind, one per 20 faulty rows.
    So the quarantined share of a table stays below ``share``.
    """
    if share == 0:
        return _Faults(tables=dict(tables), ledger=_empty_ledger(), csv_only_rows={})
    is_invoice = tables["invoices"]["document_type"] == "invoice"
    fresh = _FreshIds(
        len(tables["customers"]), int(is_invoice.sum()), len(tables["payments"])
    )
    result, ledgers, csv_only_rows = dict(tables), [], {}
    for name, kinds in _TABLE_KINDS.items():
        frame = tables[name]
        budget = int(share * len(frame))
        csv_count = min(_MAX_CSV_ONLY_ROWS, budget // 20) if name in _CSV_ONLY_COLUMNS else 0
        counts = _split_evenly(budget - len(CSV_ONLY_FAULT_KINDS) * csv_count, len(kinds))
        parts = [
            _faulty_rows(rng, name, kind, frame, count, fresh)
            for kind, count in zip(kinds, counts) if count > 0
        ]
        parts = [(kind, rows) for kind, rows in parts if len(rows)]
        if parts:
            result[name], positions, kind_of_row = _insert_rows(rng, frame, parts)
            ledgers.append(_ledger(name, positions, kind_of_row, csv_only=False))
        if csv_count:
            text, before_row = _csv_only_rows(
                rng, name, frame, len(result[name]), csv_count, fresh
            )
            csv_only_rows[name] = text
            kinds_text = np.repeat(np.array(CSV_ONLY_FAULT_KINDS, dtype=object), csv_count)
            ledgers.append(_ledger(name, before_row, kinds_text, csv_only=True))
    ledger = pd.concat(ledgers, ignore_index=True) if ledgers else _empty_ledger()
    return _Faults(tables=result, ledger=ledger, csv_only_rows=csv_only_rows)


def _split_evenly(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` whole numbers, the first ones larger by 1 where needed."""
    return [total // parts + (index < total % parts) for index in range(parts)]


def _faulty_rows(
    rng: np.random.Generator, name: str, kind: str, frame: pd.DataFrame, count: int,
    fresh: _FreshIds,
) -> tuple[str, pd.DataFrame]:
    """Build ``count`` rows of one kind from template rows of ``frame`` (an even count for pairs)."""
    if kind == "exact_duplicate":
        return kind, _templates(rng, frame, count)
    if kind == "duplicate_key_conflict":
        first = _with_fresh_key(name, kind, _templates(rng, frame, count // 2, name), fresh)
        return kind, pd.concat([first, _changed_copy(name, first)], ignore_index=True)
    rows = _with_fresh_key(name, kind, _templates(rng, frame, count, name), fresh)
    if kind == "unknown_currency":
        _set(rows, "currency", _UNKNOWN_CURRENCY)
    elif kind == "negative_invoice_amount":
        _set(rows, "amount", -rows["amount"].abs())
    elif kind == "due_before_issue":
        days_early = pd.to_timedelta(rng.integers(1, 31, size=count), unit="D")
        _set(rows, "due_on", rows["issued_on"] - days_early)
    elif kind == "unknown_document":
        _set(rows, "document_id", fresh.take("INV", count))
    elif kind == "unknown_customer":
        _set(rows, "customer_id", fresh.take("C", count))
    return kind, rows


def _templates(
    rng: np.random.Generator, frame: pd.DataFrame, count: int, name: str | None = None
) -> pd.DataFrame:
    """Copy ``count`` random rows; with ``name`` "invoices", only invoices, not credit notes."""
    candidates = np.arange(len(frame))
    if name == "invoices":
        candidates = np.flatnonzero(frame["document_type"].to_numpy() == "invoice")
    chosen = rng.choice(candidates, size=count, replace=count > candidates.size)
    return frame.iloc[np.sort(chosen)].reset_index(drop=True)


def _with_fresh_key(name: str, kind: str, rows: pd.DataFrame, fresh: _FreshIds) -> pd.DataFrame:
    """Give template rows a key that no clean row has."""
    rows = rows.copy()
    count = len(rows)
    if name == "customers":
        _set(rows, "customer_id", fresh.take("C", count))
    elif name == "financial_statements":
        shift = pd.DateOffset(months=_STATEMENT_KEY_SHIFT_MONTHS[kind])
        _set(rows, "period_end", rows["period_end"] - shift)
    elif name == "invoices":
        _set(rows, "document_id", fresh.take("INV", count))
        _set(rows, "reference_id", None)
    elif name == "payments":
        _set(rows, "payment_id", fresh.take("PAY", count))
    return rows


def _set(rows: pd.DataFrame, column: str, values: object) -> None:
    """Replace a column in place, keeping its dtype."""
    rows[column] = pd.Series(values, index=rows.index).astype(rows[column].dtype)


def _changed_copy(name: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Copy rows with one value changed, so the pair shares a key but not its content."""
    changed = rows.copy()
    if name == "customers":
        _set(changed, "payment_terms_days", changed["payment_terms_days"] + 15)
    elif name == "financial_statements":
        _set(changed, "revenue", changed["revenue"] + 1000.0)
    else:
        _set(changed, "amount", (changed["amount"] + 100.0).round(2))
    return changed


def _insert_rows(
    rng: np.random.Generator, frame: pd.DataFrame, parts: list[tuple[str, pd.DataFrame]]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Insert the rows of ``parts`` at random positions, keeping the order of ``frame``.

    Returns the new frame, the position of every inserted row in it and its kind.
    """
    extra = pd.concat([rows for _, rows in parts], ignore_index=True)
    kinds = np.concatenate([np.full(len(rows), kind, dtype=object) for kind, rows in parts])
    shuffle = rng.permutation(len(extra))
    extra, kinds = extra.iloc[shuffle].reset_index(drop=True), kinds[shuffle]

    # Inserted row j goes before clean row before[j], so it ends at before[j] + j.
    before = np.sort(rng.integers(0, len(frame) + 1, size=len(extra)))
    positions = before + np.arange(len(extra))
    is_extra = np.zeros(len(frame) + len(extra), dtype=bool)
    is_extra[positions] = True
    order = np.empty(is_extra.size, dtype=np.int64)
    order[~is_extra] = np.arange(len(frame))
    order[is_extra] = len(frame) + np.arange(len(extra))
    combined = pd.concat([frame, extra], ignore_index=True).iloc[order].reset_index(drop=True)
    return combined, positions, kinds


def _csv_only_rows(
    rng: np.random.Generator, name: str, frame: pd.DataFrame, row_count: int, count: int,
    fresh: _FreshIds,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Build ``count`` text rows with a US-style date and ``count`` with a thousands separator.

    The templates come from the clean ``frame``. Returns the rows as text (missing
    values as None) with a ``before_row`` column, the row of the table (of
    ``row_count`` rows) before which each row is written, and the ``before_row``
    of the rows in the order built.
    """
    date_column, amount_column = _CSV_ONLY_COLUMNS[name]
    rows = _with_fresh_key(name, "", _templates(rng, frame, 2 * count, name), fresh)
    text = _as_text(rows, TABLES[name].columns)
    dates = rows[date_column].iloc[:count].dt.strftime("%m/%d/%Y")
    text.loc[: count - 1, date_column] = dates.to_numpy(dtype=object)
    # Amounts of 1,000 or more, so that every text has a thousands separator.
    amounts = rows[amount_column].iloc[count:].abs().clip(lower=1000.0)
    text.loc[count:, amount_column] = [f"{amount:,.2f}" for amount in amounts]
    before_row = np.sort(rng.integers(0, row_count + 1, size=len(text)))
    order = rng.permutation(len(text))
    text = text.iloc[order].reset_index(drop=True)
    text["before_row"] = before_row
    return text, before_row[np.argsort(order)]


def _as_text(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Render rows as the text a CSV file holds: ISO dates, plain numbers, true/false."""
    table = _arrow_table(frame, kinds)
    columns = {
        name: pd.Series(pa_compute.cast(table[name], "string").to_pylist(), dtype=object)
        for name in table.column_names
    }
    return pd.DataFrame(columns)


def _ledger(name: str, rows: np.ndarray, kinds: np.ndarray, *, csv_only: bool) -> pd.DataFrame:
    return pd.DataFrame({
        "table": pd.Series(name, index=range(len(rows)), dtype="str"),
        "row": np.asarray(rows, dtype=np.int64),
        "kind": pd.Series(kinds, dtype="str"),
        "csv_only": np.full(len(rows), csv_only),
    })
