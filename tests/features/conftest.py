"""Fixtures for the loading, validation and fx tests: a tiny valid raw portfolio as text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditlimit.features.contract import TABLES

# Base currency CNY; customer C002 trades in USD. Every row below is valid.
_TINY_PORTFOLIO = {
    "fx_rates": [
        {"currency": "USD", "rate_on": "2023-12-01", "rate_to_base": "7.0"},
        {"currency": "USD", "rate_on": "2024-01-01", "rate_to_base": "7.1"},
        {"currency": "USD", "rate_on": "2024-02-01", "rate_to_base": "7.2"},
    ],
    "customers": [
        {"customer_id": "C001", "industry": "manufacturing", "onboarded_on": "2023-06-01",
         "payment_terms_days": "30", "currency": "CNY", "name": "Acme", "region": "Guangdong",
         "size_class": "medium", "credit_limit": "100000", "limit_locked": ""},
        {"customer_id": "C002", "industry": "retail", "onboarded_on": "2023-07-01",
         "payment_terms_days": "60", "currency": "USD", "credit_limit": "20000",
         "limit_locked": "true", "limit_valid_to": "2024-12-31"},
    ],
    "financial_statements": [
        {"customer_id": "C001", "period_end": "2023-12-31", "published_on": "2024-03-15",
         "currency": "CNY", "revenue": "1000000", "net_profit": "50000",
         "total_assets": "800000", "current_assets": "300000", "total_liabilities": "500000",
         "current_liabilities": "200000", "equity": "300000", "operating_cash_flow": "60000",
         "interest_expense": "", "audited": "yes"},
        {"customer_id": "C002", "period_end": "2023-12-31", "published_on": "2024-04-01",
         "currency": "USD", "revenue": "200000", "net_profit": "-1000",
         "total_assets": "150000", "current_assets": "90000", "total_liabilities": "100000",
         "current_liabilities": "70000", "equity": "50000", "operating_cash_flow": "2000"},
    ],
    "invoices": [
        {"document_id": "INV1", "document_type": "invoice", "customer_id": "C001",
         "issued_on": "2024-01-05", "due_on": "2024-02-04", "amount": "1000", "currency": "CNY"},
        {"document_id": "INV2", "document_type": "invoice", "customer_id": "C002",
         "issued_on": "2024-01-10", "due_on": "2024-03-10", "amount": "500", "currency": "USD"},
        {"document_id": "INV3", "document_type": "invoice", "customer_id": "C002",
         "issued_on": "2024-02-10", "due_on": "2024-04-10", "amount": "300", "currency": "USD",
         "disputed": "true"},
        {"document_id": "CN1", "document_type": "credit_note", "customer_id": "C002",
         "issued_on": "2024-02-15", "due_on": "2024-02-15", "amount": "-100", "currency": "USD",
         "reference_id": "INV2"},
    ],
    "payments": [
        {"payment_id": "P1", "customer_id": "C001", "paid_on": "2024-02-01", "amount": "1000",
         "currency": "CNY", "document_id": "INV1"},
        {"payment_id": "P2", "customer_id": "C002", "paid_on": "2024-03-01", "amount": "400",
         "currency": "USD", "document_id": "INV2"},
        {"payment_id": "P3", "customer_id": "C001", "paid_on": "2024-02-20", "amount": "50",
         "currency": "CNY"},
    ],
    "credit_events": [
        {"customer_id": "C002", "event_on": "2024-03-15", "event_type": "legal_action",
         "amount": "5000"},
        {"customer_id": "C001", "event_on": "2024-03-20", "event_type": "default"},
    ],
}


@pytest.fixture
def raw_tables() -> dict[str, pd.DataFrame]:
    """A tiny valid portfolio: one text frame per canonical table, every contract column."""
    tables = {}
    for name, rows in _TINY_PORTFOLIO.items():
        columns = list(TABLES[name].columns)
        frame = pd.DataFrame(rows, columns=columns).astype(object).fillna("")
        tables[name] = frame.astype(str)
    return tables


def _write_tables(tables: Mapping[str, pd.DataFrame], folder: Path, file_format: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if file_format == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
        else:
            arrow_table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
            pq.write_table(arrow_table, folder / f"{name}.parquet")
    return folder


@pytest.fixture
def write_raw(tmp_path: Path) -> Callable[..., Path]:
    """Write text frames as ``<table>.csv`` (or ``.parquet``) into a fresh folder."""
    counter = iter(range(1_000))

    def write(tables: Mapping[str, pd.DataFrame], file_format: str = "csv") -> Path:
        return _write_tables(tables, tmp_path / f"raw{next(counter)}", file_format)

    return write
