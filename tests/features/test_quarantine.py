"""Tests of the per-customer count of quarantined input rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from creditlimit.features.quarantine import QUARANTINE_SUMMARY_COLUMNS, quarantine_summary


def write(folder, table: str, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(folder / f"{table}.csv", index=False, encoding="utf-8")


def test_quarantine_summary_counts_by_customer_table_reason(tmp_path):
    """Rows are counted per customer, table and reason; future-dated rows are left out."""
    write(tmp_path, "invoices", [
        {"document_id": "I1", "customer_id": "C1", "issued_on": "2025-11-02", "reason_code": "due_before_issue"},
        {"document_id": "I2", "customer_id": "C1", "issued_on": "2025-11-03", "reason_code": "due_before_issue"},
        {"document_id": "I3", "customer_id": "C2", "issued_on": "03/01/2024", "reason_code": "invalid_date"},
        {"document_id": "I4", "customer_id": "C2", "issued_on": "2026-01-01", "reason_code": "unknown_currency"},
    ])
    write(tmp_path, "payments", [
        {"payment_id": "P1", "customer_id": "C1", "paid_on": "2025-10-01", "reason_code": "unknown_document"},
        {"payment_id": "P2", "customer_id": "", "paid_on": "2025-10-01", "reason_code": "missing_key"},
    ])
    write(tmp_path, "fx_rates", [{"currency": "XYZ", "rate_on": "2025-01-01", "reason_code": "duplicate_key"}])

    summary = quarantine_summary(tmp_path, dt.date(2026, 1, 1))
    assert list(summary.columns) == list(QUARANTINE_SUMMARY_COLUMNS)
    assert summary.to_dict("records") == [
        {"customer_id": "C1", "table": "invoices", "reason_code": "due_before_issue", "rows": 2},
        {"customer_id": "C1", "table": "payments", "reason_code": "unknown_document", "rows": 1},
        # An unreadable date cannot show the row lies in the future, so it counts.
        {"customer_id": "C2", "table": "invoices", "reason_code": "invalid_date", "rows": 1},
    ]


def test_quarantine_summary_missing_folder_is_empty(tmp_path):
    """No quarantine folder means no quarantined rows."""
    summary = quarantine_summary(tmp_path / "absent", dt.date(2026, 1, 1))
    assert summary.empty
    assert list(summary.columns) == list(QUARANTINE_SUMMARY_COLUMNS)
