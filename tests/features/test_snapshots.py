"""Tests for the DuckDB table views and the point-in-time feature builder."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.catalog import CATEGORICAL_FEATURES, CONTEXT_COLUMNS, FEATURE_NAMES, SNAPSHOT_KEYS
from creditlimit.features.snapshots import (
    DAYS_PER_MONTH,
    FeatureParams,
    build_features,
    monthly_as_of_dates,
)
from creditlimit.features.tables import clean_table_paths, connect_tables, require_tables
from creditlimit.i18n import use_locale

AS_OF = dt.date(2024, 7, 1)
D = pd.Timestamp


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def portfolio() -> dict[str, pd.DataFrame]:
    """Three customers seen at 2024-07-01, plus one onboarded that day; base currency CNY.

    C1 has statements and a varied payment history, C2 is a thin file with one
    overdue invoice and a default event, C3 has no invoices and only a stale
    statement, C4 is onboarded on as_of and gets no snapshot. Records dated on or
    after as_of are present so that the features must ignore them.
    """
    customers = _frame([
        {"customer_id": "C1", "industry": "manufacturing", "onboarded_on": D("2022-01-15"),
         "payment_terms_days": 30, "currency": "CNY", "region": "Zhejiang", "size_class": "medium",
         "group_id": "G1", "credit_limit": 100_000.0, "limit_locked": None, "limit_valid_to": D("2024-12-31")},
        {"customer_id": "C2", "industry": "retail", "onboarded_on": D("2024-02-01"),
         "payment_terms_days": 60, "currency": "CNY", "region": None, "size_class": None,
         "group_id": None, "credit_limit": np.nan, "limit_locked": False, "limit_valid_to": pd.NaT},
        {"customer_id": "C3", "industry": "services", "onboarded_on": D("2024-03-01"),
         "payment_terms_days": 45, "currency": "CNY", "region": "Jiangsu", "size_class": "small",
         "group_id": None, "credit_limit": 0.0, "limit_locked": True, "limit_valid_to": pd.NaT},
        {"customer_id": "C4", "industry": "retail", "onboarded_on": D("2024-07-01"),
         "payment_terms_days": 30, "currency": "CNY", "region": None, "size_class": None,
         "group_id": None, "credit_limit": np.nan, "limit_locked": None, "limit_valid_to": pd.NaT},
    ], ["customer_id", "industry", "onboarded_on", "payment_terms_days", "currency", "region",
        "size_class", "group_id", "credit_limit", "limit_locked", "limit_valid_to"])
    statement_columns = ["customer_id", "period_end", "published_on", "currency", "revenue", "net_profit",
                         "total_assets", "current_assets", "total_liabilities", "current_liabilities",
                         "equity", "operating_cash_flow", "operating_profit", "interest_expense", "inventory"]
    statements = _frame([
        {"customer_id": "C1", "period_end": D("2022-12-31"), "published_on": D("2023-04-30"), "currency": "CNY",
         "revenue": 800_000.0, "net_profit": 20_000.0, "total_assets": 1_800_000.0, "current_assets": 800_000.0,
         "total_liabilities": 1_100_000.0, "current_liabilities": 500_000.0, "equity": 700_000.0,
         "operating_cash_flow": 90_000.0, "operating_profit": 60_000.0, "interest_expense": 30_000.0,
         "inventory": 250_000.0},
        {"customer_id": "C1", "period_end": D("2023-12-31"), "published_on": D("2024-04-15"), "currency": "CNY",
         "revenue": 1_000_000.0, "net_profit": 50_000.0, "total_assets": 2_000_000.0, "current_assets": 900_000.0,
         "total_liabilities": 1_200_000.0, "current_liabilities": 600_000.0, "equity": 800_000.0,
         "operating_cash_flow": 120_000.0, "operating_profit": 90_000.0, "interest_expense": 30_000.0,
         "inventory": 300_000.0},
        # Published after as_of: invisible at 2024-07-01.
        {"customer_id": "C1", "period_end": D("2024-06-30"), "published_on": D("2024-08-20"), "currency": "CNY",
         "revenue": 1.0, "net_profit": 1.0, "total_assets": 1.0, "current_assets": 1.0,
         "total_liabilities": 1.0, "current_liabilities": 1.0, "equity": 1.0,
         "operating_cash_flow": 1.0, "operating_profit": 1.0, "interest_expense": 1.0, "inventory": 1.0},
        # Stale at 2024-07-01 (period end 30 months before as_of).
        {"customer_id": "C3", "period_end": D("2021-12-31"), "published_on": D("2022-03-01"), "currency": "CNY",
         "revenue": 500_000.0, "net_profit": 10_000.0, "total_assets": 400_000.0, "current_assets": 200_000.0,
         "total_liabilities": 300_000.0, "current_liabilities": 100_000.0, "equity": 100_000.0,
         "operating_cash_flow": 5_000.0, "operating_profit": 15_000.0, "interest_expense": 0.0,
         "inventory": np.nan},
    ], statement_columns)
    invoice_columns = ["document_id", "document_type", "customer_id", "issued_on", "due_on", "amount",
                       "currency", "reference_id", "disputed"]
    invoices = _frame([
        {"document_id": "I1", "document_type": "invoice", "customer_id": "C1", "issued_on": D("2023-05-01"),
         "due_on": D("2023-05-31"), "amount": 1000.0, "currency": "CNY", "disputed": False},
        {"document_id": "I2", "document_type": "invoice", "customer_id": "C1", "issued_on": D("2023-09-01"),
         "due_on": D("2023-10-01"), "amount": 2000.0, "currency": "CNY", "disputed": False},
        {"document_id": "I3", "document_type": "invoice", "customer_id": "C1", "issued_on": D("2024-01-10"),
         "due_on": D("2024-02-09"), "amount": 3000.0, "currency": "CNY", "disputed": None},
        {"document_id": "I4", "document_type": "invoice", "customer_id": "C1", "issued_on": D("2024-03-01"),
         "due_on": D("2024-03-31"), "amount": 4000.0, "currency": "CNY", "disputed": False},
        {"document_id": "CN1", "document_type": "credit_note", "customer_id": "C1", "issued_on": D("2024-03-15"),
         "due_on": D("2024-03-15"), "amount": -500.0, "currency": "CNY", "reference_id": "I4"},
        {"document_id": "I5", "document_type": "invoice", "customer_id": "C1", "issued_on": D("2024-05-01"),
         "due_on": D("2024-05-31"), "amount": 5000.0, "currency": "CNY", "disputed": False},
        {"document_id": "I6", "document_type": "invoice", "customer_id": "C1", "issued_on": D("2024-06-15"),
         "due_on": D("2024-07-15"), "amount": 6000.0, "currency": "CNY", "disputed": True},
        {"document_id": "I7", "document_type": "invoice", "customer_id": "C1", "issued_on": D("2024-07-10"),
         "due_on": D("2024-08-09"), "amount": 7000.0, "currency": "CNY", "disputed": True},
        {"document_id": "J1", "document_type": "invoice", "customer_id": "C2", "issued_on": D("2024-02-10"),
         "due_on": D("2024-04-10"), "amount": 800.0, "currency": "CNY", "disputed": None},
    ], invoice_columns)
    payments = _frame([
        {"payment_id": "P1", "customer_id": "C1", "paid_on": D("2023-06-10"), "amount": 1000.0,
         "currency": "CNY", "document_id": "I1"},
        {"payment_id": "P2", "customer_id": "C1", "paid_on": D("2023-11-15"), "amount": 2000.0,
         "currency": "CNY", "document_id": "I2"},
        {"payment_id": "P3a", "customer_id": "C1", "paid_on": D("2024-02-01"), "amount": 1000.0,
         "currency": "CNY", "document_id": "I3"},
        {"payment_id": "P3b", "customer_id": "C1", "paid_on": D("2024-02-09"), "amount": 2000.0,
         "currency": "CNY", "document_id": "I3"},
        {"payment_id": "P4", "customer_id": "C1", "paid_on": D("2024-04-05"), "amount": 3500.0,
         "currency": "CNY", "document_id": "I4"},
        {"payment_id": "P5", "customer_id": "C1", "paid_on": D("2024-06-10"), "amount": 2000.0,
         "currency": "CNY", "document_id": "I5"},
        {"payment_id": "PU", "customer_id": "C1", "paid_on": D("2024-06-20"), "amount": 700.0,
         "currency": "CNY", "document_id": None},
        {"payment_id": "P6", "customer_id": "C1", "paid_on": D("2024-07-20"), "amount": 6000.0,
         "currency": "CNY", "document_id": "I6"},
    ], ["payment_id", "customer_id", "paid_on", "amount", "currency", "document_id"])
    events = _frame([
        {"customer_id": "C1", "event_on": D("2023-08-01"), "event_type": "legal_action", "amount": np.nan},
        {"customer_id": "C2", "event_on": D("2024-06-01"), "event_type": "default", "amount": 800.0},
        {"customer_id": "C3", "event_on": D("2024-09-01"), "event_type": "bankruptcy", "amount": np.nan},
    ], ["customer_id", "event_on", "event_type", "amount"])
    fx_rates = _frame([], ["currency", "rate_on", "rate_to_base"])
    return {"customers": customers, "financial_statements": statements, "invoices": invoices,
            "payments": payments, "credit_events": events, "fx_rates": fx_rates}


def features_at(tables: dict[str, pd.DataFrame], as_of: dt.date = AS_OF, age: int = 24) -> pd.DataFrame:
    return build_features(connect_tables(tables), [as_of], max_statement_age_months=age)


def row(features: pd.DataFrame, customer_id: str) -> pd.Series:
    selected = features[features["customer_id"] == customer_id]
    assert len(selected) == 1
    return selected.iloc[0]


@pytest.fixture(scope="module")
def base_features() -> pd.DataFrame:
    return features_at(portfolio())


# Hand-computed values at 2024-07-01. Windows: 3 months from 2024-04-01, 6 months
# from 2024-01-01, 12 months from 2023-07-01, 90 days from 2024-04-02.
C1_EXPECTED = {
    # Statement 2023-12-31 (published 2024-04-15); previous: 2022-12-31.
    "debt_to_assets": 1_200_000 / 2_000_000,
    "current_ratio": 900_000 / 600_000,
    "quick_ratio": (900_000 - 300_000) / 600_000,
    "interest_coverage": 90_000 / 30_000,
    "ocf_to_liabilities": 120_000 / 1_200_000,
    "net_margin": 50_000 / 1_000_000,
    "roa": 50_000 / 2_000_000,
    "revenue_growth": 1_000_000 / 800_000 - 1,
    "log_revenue": math.log(1_000_000),
    "statement_age_months": 183 / DAYS_PER_MONTH,  # 2023-12-31 to 2024-07-01
    # I3 + I4 + CN1 + I5 + I6 (6 months); I5 + I6 (3 months); I2 as well (12 months).
    "invoiced_3m": 11_000.0,
    "invoiced_6m": 17_500.0,
    "invoiced_12m": 19_500.0,
    # Fully paid in the last 12 months: I2 45 days late, I3 0, I4 5 (paid on the
    # amount net of its credit note). I1 was paid before the window.
    "mean_days_late_12m": (45 + 0 + 5) / 3,
    "max_days_late_12m": 45.0,
    "share_paid_30p_late_12m": 1 / 3,
    # Open: I5 3000 (overdue since 2024-05-31), I6 6000 (not due); the
    # unallocated payment PU of 700 reduces the exposure.
    "overdue_amount": 3000.0,
    "max_dpd_now": 31.0,
    "open_exposure": 8300.0,
    "dso_days": 8300 / 11_000 * 90,
    "utilisation": 8300 / 100_000,
    # Disputed known for I2, I4, I5, I6; I6 disputed.
    "disputed_share_12m": 1 / 4,
    "months_since_last_late": 87 / DAYS_PER_MONTH,  # I4 paid 2024-04-05
    "tenure_months": 898 / DAYS_PER_MONTH,  # 2022-01-15 to 2024-07-01
    "invoice_count_12m": 5.0,
}

C2_EXPECTED = {
    **{name: np.nan for name in ("debt_to_assets", "current_ratio", "quick_ratio", "interest_coverage",
                                 "ocf_to_liabilities", "net_margin", "roa", "revenue_growth",
                                 "log_revenue", "statement_age_months")},
    "invoiced_3m": 0.0,
    "invoiced_6m": 800.0,
    "invoiced_12m": 800.0,
    "mean_days_late_12m": np.nan,
    "max_days_late_12m": np.nan,
    "share_paid_30p_late_12m": np.nan,
    "overdue_amount": 800.0,
    "max_dpd_now": 82.0,  # due 2024-04-10
    "open_exposure": 800.0,
    "dso_days": np.nan,  # nothing invoiced in the last 90 days
    "utilisation": np.nan,  # no limit
    "disputed_share_12m": np.nan,  # disputed unknown
    "months_since_last_late": np.nan,
    "tenure_months": 151 / DAYS_PER_MONTH,
    "invoice_count_12m": 1.0,
}

C3_EXPECTED = {
    "debt_to_assets": np.nan,  # only statement is stale
    "statement_age_months": np.nan,
    "invoiced_12m": 0.0,
    "open_exposure": 0.0,
    "overdue_amount": 0.0,
    "max_dpd_now": np.nan,  # never invoiced
    "utilisation": np.nan,  # limit 0
    "dso_days": np.nan,
    "disputed_share_12m": np.nan,
    "invoice_count_12m": 0.0,
    "tenure_months": 122 / DAYS_PER_MONTH,
}


@pytest.mark.parametrize("customer_id, expected", [("C1", C1_EXPECTED), ("C2", C2_EXPECTED), ("C3", C3_EXPECTED)])
def test_build_features_hand_computed_values(base_features, customer_id, expected):
    """Each feature of the tiny portfolio equals its hand-computed value (NaN where undefined)."""
    values = row(base_features, customer_id)
    for name, value in expected.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(values[name]), f"{customer_id}.{name} = {values[name]}, expected NaN"
        else:
            assert values[name] == pytest.approx(value, rel=1e-12), f"{customer_id}.{name}"


def test_build_features_context_columns(base_features):
    """Context columns carry the customer attributes, statement bases and default status."""
    c1, c2, c3 = (row(base_features, c) for c in ("C1", "C2", "C3"))
    assert c1["current_limit"] == 100_000.0
    assert not c1["limit_locked"]  # missing lock means not locked
    assert c3["limit_locked"]
    assert c1["limit_valid_to"] == pd.Timestamp("2024-12-31")
    assert pd.isna(c2["limit_valid_to"])
    assert c1["region"] == "Zhejiang"
    assert c2["region"] is None
    assert c1["group_id"] == "G1"
    assert c1["payment_terms_days"] == 30.0
    assert c1["equity_base"] == 800_000.0
    assert c1["revenue_base"] == 1_000_000.0
    assert c1["has_statements"]
    assert not c2["has_statements"]
    # A stale statement counts as published but gives no bases.
    assert c3["has_statements"]
    assert math.isnan(c3["equity_base"])
    assert c1["avg_monthly_invoiced_6m"] == pytest.approx(17_500 / 6)
    # legal_action is not a default event; C2 defaulted on 2024-06-01; C3's
    # bankruptcy lies after as_of.
    assert not c1["is_defaulted"]
    assert c2["is_defaulted"]
    assert not c3["is_defaulted"]


def test_build_features_rows_columns_and_dtypes(base_features):
    """One row per customer onboarded before as_of, documented columns and dtypes."""
    assert list(base_features["customer_id"]) == ["C1", "C2", "C3"]
    assert list(base_features.columns) == [*SNAPSHOT_KEYS, *FEATURE_NAMES, *CONTEXT_COLUMNS]
    assert base_features["as_of"].dtype == "datetime64[us]"
    assert (base_features["as_of"] == pd.Timestamp(AS_OF)).all()
    for name in FEATURE_NAMES:
        expected = object if name in CATEGORICAL_FEATURES else np.float64
        assert base_features[name].dtype == expected, name
    for name in ("limit_locked", "has_statements", "is_defaulted"):
        assert base_features[name].dtype == bool, name
    assert base_features["limit_valid_to"].dtype == "datetime64[us]"
    assert row(base_features, "C2")["size_class"] is None
    assert row(base_features, "C1")["industry"] == "manufacturing"


def test_build_features_batch_matches_single_dates():
    """Rows of a multi-date batch equal the rows built for each date alone."""
    tables = portfolio()
    dates = [dt.date(2024, 3, 1), dt.date(2024, 5, 1), AS_OF]
    batch = build_features(connect_tables(tables), dates, max_statement_age_months=24)
    assert list(batch["as_of"].drop_duplicates()) == [pd.Timestamp(day) for day in dates]
    for day in dates:
        alone = features_at(tables, day)
        part = batch[batch["as_of"] == pd.Timestamp(day)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone)


def test_build_features_sorted_by_as_of_then_customer():
    """Output is sorted by (as_of, customer_id) whatever order the dates come in."""
    features = build_features(
        connect_tables(portfolio()), [AS_OF, dt.date(2024, 5, 1), AS_OF], max_statement_age_months=24
    )
    keys = list(zip(features["as_of"], features["customer_id"]))
    assert keys == sorted(keys)
    assert features.duplicated(list(SNAPSHOT_KEYS)).sum() == 0


def _insert(tables, table, record):
    frame = tables[table]
    tables[table] = pd.concat([frame, pd.DataFrame([record], columns=frame.columns)], ignore_index=True)


def _leak_invoice(tables):
    # C3 has no earlier invoice, so its max_dpd_now must stay NaN.
    for customer in ("C1", "C3"):
        _insert(tables, "invoices", {"document_id": f"I9{customer}", "document_type": "invoice",
                                     "customer_id": customer, "issued_on": D("2024-07-01"),
                                     "due_on": D("2024-07-31"), "amount": 999.0, "currency": "CNY",
                                     "disputed": True})


def _leak_payment(tables):
    # Would settle I5 and J1 if counted.
    _insert(tables, "payments", {"payment_id": "P9", "customer_id": "C1", "paid_on": D("2024-07-01"),
                                 "amount": 3000.0, "currency": "CNY", "document_id": "I5"})
    _insert(tables, "payments", {"payment_id": "P10", "customer_id": "C2", "paid_on": D("2024-07-01"),
                                 "amount": 800.0, "currency": "CNY", "document_id": "J1"})


def _leak_unallocated_payment(tables):
    _insert(tables, "payments", {"payment_id": "P11", "customer_id": "C1", "paid_on": D("2024-07-01"),
                                 "amount": 5000.0, "currency": "CNY", "document_id": None})


def _leak_statement(tables):
    for customer in ("C1", "C2"):
        _insert(tables, "financial_statements", {
            "customer_id": customer, "period_end": D("2024-03-31"), "published_on": D("2024-07-01"),
            "currency": "CNY", "revenue": 5.0, "net_profit": 5.0, "total_assets": 5.0, "current_assets": 5.0,
            "total_liabilities": 5.0, "current_liabilities": 5.0, "equity": 5.0, "operating_cash_flow": 5.0,
            "operating_profit": 5.0, "interest_expense": 5.0, "inventory": 5.0})


def _leak_credit_event(tables):
    _insert(tables, "credit_events", {"customer_id": "C1", "event_on": D("2024-07-01"),
                                      "event_type": "default", "amount": 1.0})


def _leak_credit_note(tables):
    _insert(tables, "invoices", {"document_id": "CN9", "document_type": "credit_note", "customer_id": "C1",
                                 "issued_on": D("2024-07-01"), "due_on": D("2024-07-01"), "amount": -2500.0,
                                 "currency": "CNY", "reference_id": "I5"})


def _change_later_records(tables):
    payments = tables["payments"].copy()
    payments.loc[payments["payment_id"] == "P6", "amount"] = 1.0
    tables["payments"] = payments
    invoices = tables["invoices"].copy()
    invoices.loc[invoices["document_id"] == "I7", ["disputed", "amount"]] = [False, 1.0]
    tables["invoices"] = invoices


def _delete_later_records(tables):
    tables["payments"] = tables["payments"][tables["payments"]["paid_on"] < D("2024-07-01")]
    tables["invoices"] = tables["invoices"][tables["invoices"]["issued_on"] < D("2024-07-01")]
    statements = tables["financial_statements"]
    tables["financial_statements"] = statements[statements["published_on"] < D("2024-07-01")]
    tables["credit_events"] = tables["credit_events"][tables["credit_events"]["event_on"] < D("2024-07-01")]


@pytest.mark.parametrize("change", [
    _leak_invoice, _leak_payment, _leak_unallocated_payment, _leak_statement, _leak_credit_event,
    _leak_credit_note, _change_later_records, _delete_later_records,
])
@pytest.mark.parametrize("later_dates", [[], [dt.date(2024, 10, 1)]], ids=["alone", "in_batch"])
def test_build_features_ignores_later_records(base_features, change, later_dates):
    """Inserting, changing or deleting records dated on or after as_of changes no feature.

    The batch case matters because a build keeps only records dated before its
    last as_of: with a later date in the batch, records dated on as_of are loaded.
    """
    tables = portfolio()
    change(tables)
    features = build_features(connect_tables(tables), [AS_OF, *later_dates], max_statement_age_months=24)
    features = features[features["as_of"] == pd.Timestamp(AS_OF)].reset_index(drop=True)
    pd.testing.assert_frame_equal(features, base_features)


def test_build_features_see_records_the_day_before():
    """A payment dated the day before as_of is counted, so the leakage test can fail."""
    tables = portfolio()
    _insert(tables, "payments", {"payment_id": "P9", "customer_id": "C1", "paid_on": D("2024-06-30"),
                                 "amount": 3000.0, "currency": "CNY", "document_id": "I5"})
    c1 = row(features_at(tables), "C1")
    assert c1["overdue_amount"] == 0.0
    assert c1["max_dpd_now"] == 0.0
    assert c1["open_exposure"] == 6000.0 - 700.0
    # I5 (due 2024-05-31) is now fully paid 30 days late.
    assert c1["max_days_late_12m"] == 45.0
    assert c1["share_paid_30p_late_12m"] == pytest.approx(2 / 4)
    assert c1["months_since_last_late"] == pytest.approx(1 / DAYS_PER_MONTH)


def test_build_features_statement_age_limit():
    """A statement older than max_statement_age_months is ignored; a larger limit admits it."""
    strict = row(features_at(portfolio(), age=24), "C3")
    loose = row(features_at(portfolio(), age=36), "C3")
    assert math.isnan(strict["debt_to_assets"])
    assert loose["debt_to_assets"] == pytest.approx(0.75)
    # interest_expense 0 and inventory missing give NaN, never 0.
    assert math.isnan(loose["interest_coverage"])
    assert math.isnan(loose["quick_ratio"])
    assert loose["statement_age_months"] == pytest.approx(913 / DAYS_PER_MONTH)


def test_build_features_zero_denominators_are_nan():
    """Zero total assets, liabilities, revenue and previous revenue give NaN ratios."""
    tables = portfolio()
    statements = tables["financial_statements"].copy()
    latest = (statements["customer_id"] == "C1") & (statements["period_end"] == D("2023-12-31"))
    statements.loc[latest, ["total_assets", "current_liabilities", "revenue", "total_liabilities"]] = 0.0
    previous = (statements["customer_id"] == "C1") & (statements["period_end"] == D("2022-12-31"))
    statements.loc[previous, "revenue"] = 0.0
    tables["financial_statements"] = statements
    c1 = row(features_at(tables), "C1")
    for name in ("debt_to_assets", "current_ratio", "quick_ratio", "ocf_to_liabilities", "net_margin",
                 "roa", "revenue_growth", "log_revenue"):
        assert math.isnan(c1[name]), name
    assert c1["interest_coverage"] == pytest.approx(3.0)


def test_build_features_foreign_currency_invoice_settles():
    """A USD invoice paid in full in USD at a moved rate is settled, not left open by the FX move."""
    tables = portfolio()
    invoices = tables["invoices"].assign(original_currency="CNY", fx_rate_to_base=1.0)
    payments = tables["payments"].assign(original_currency="CNY", fx_rate_to_base=1.0)
    usd_invoice = {"document_id": "U1", "document_type": "invoice", "customer_id": "C2",
                   "issued_on": D("2024-03-01"), "due_on": D("2024-03-31"), "amount": 700.0, "currency": "CNY",
                   "reference_id": None, "disputed": False, "original_currency": "USD", "fx_rate_to_base": 7.0}
    usd_payment = {"payment_id": "PU1", "customer_id": "C2", "paid_on": D("2024-04-10"), "amount": 720.0,
                   "currency": "CNY", "document_id": "U1", "original_currency": "USD", "fx_rate_to_base": 7.2}
    tables["invoices"] = pd.concat([invoices, pd.DataFrame([usd_invoice])], ignore_index=True)
    tables["payments"] = pd.concat([payments, pd.DataFrame([usd_payment])], ignore_index=True)
    c2 = row(features_at(tables), "C2")
    assert c2["open_exposure"] == 800.0
    assert c2["max_days_late_12m"] == 10.0
    assert c2["invoiced_12m"] == 1500.0


def test_build_features_partial_fx_payment():
    """The open part of a foreign-currency invoice is valued at the invoice's rate."""
    tables = portfolio()
    tables["invoices"] = tables["invoices"].assign(original_currency="CNY", fx_rate_to_base=1.0)
    tables["payments"] = tables["payments"].assign(original_currency="CNY", fx_rate_to_base=1.0)
    _insert(tables, "invoices", {"document_id": "U1", "document_type": "invoice", "customer_id": "C3",
                                 "issued_on": D("2024-05-01"), "due_on": D("2024-06-15"), "amount": 700.0,
                                 "currency": "CNY", "original_currency": "USD", "fx_rate_to_base": 7.0})
    # 40 USD paid at 7.5: 60 USD stay open, worth 420 at the invoice's rate.
    _insert(tables, "payments", {"payment_id": "PU1", "customer_id": "C3", "paid_on": D("2024-06-01"),
                                 "amount": 300.0, "currency": "CNY", "document_id": "U1",
                                 "original_currency": "USD", "fx_rate_to_base": 7.5})
    c3 = row(features_at(tables), "C3")
    assert c3["open_exposure"] == pytest.approx(420.0)
    assert c3["overdue_amount"] == pytest.approx(420.0)
    assert c3["max_dpd_now"] == 16.0


def test_build_features_late_credit_note_paid_date():
    """A credit note that closes an underpaid invoice dates its full payment at the last payment."""
    tables = portfolio()
    # I5 gets a credit note of 3000: the 2000 paid on 2024-06-10 now cover the net 2000.
    _insert(tables, "invoices", {"document_id": "CN5", "document_type": "credit_note", "customer_id": "C1",
                                 "issued_on": D("2024-06-25"), "due_on": D("2024-06-25"), "amount": -3000.0,
                                 "currency": "CNY", "reference_id": "I5"})
    c1 = row(features_at(tables), "C1")
    assert c1["overdue_amount"] == 0.0
    assert c1["open_exposure"] == 6000.0 - 700.0
    # I5: due 2024-05-31, fully paid 2024-06-10, 10 days late.
    assert c1["mean_days_late_12m"] == pytest.approx((45 + 0 + 5 + 10) / 4)
    assert c1["months_since_last_late"] == pytest.approx(21 / DAYS_PER_MONTH)
    assert c1["invoiced_3m"] == 8000.0


def test_build_features_credit_balance_floors_exposure():
    """Unallocated payments beyond the open invoices give zero exposure, not a negative one."""
    tables = portfolio()
    _insert(tables, "payments", {"payment_id": "PX", "customer_id": "C2", "paid_on": D("2024-05-01"),
                                 "amount": 5000.0, "currency": "CNY", "document_id": None})
    c2 = row(features_at(tables), "C2")
    assert c2["open_exposure"] == 0.0
    assert c2["overdue_amount"] == 0.0
    # Lateness still counts the unpaid invoice.
    assert c2["max_dpd_now"] == 82.0


def test_build_features_prepayment_applies_from_invoice_issue():
    """A payment dated before its invoice is unapplied cash until the invoice is issued."""
    tables = portfolio()
    _insert(tables, "invoices", {"document_id": "I8", "document_type": "invoice", "customer_id": "C3",
                                 "issued_on": D("2024-08-01"), "due_on": D("2024-08-31"), "amount": 900.0,
                                 "currency": "CNY"})
    _insert(tables, "payments", {"payment_id": "P8", "customer_id": "C3", "paid_on": D("2024-06-01"),
                                 "amount": 900.0, "currency": "CNY", "document_id": "I8"})
    con = connect_tables(tables)
    features = build_features(con, [AS_OF, dt.date(2024, 9, 1)], max_statement_age_months=24)
    before = features[(features["customer_id"] == "C3") & (features["as_of"] == D(AS_OF))].iloc[0]
    after = features[(features["customer_id"] == "C3") & (features["as_of"] == D("2024-09-01"))].iloc[0]
    assert before["open_exposure"] == 0.0
    assert before["max_dpd_now"] != before["max_dpd_now"]  # NaN: no invoice yet
    assert after["open_exposure"] == 0.0
    assert after["max_dpd_now"] == 0.0
    assert after["mean_days_late_12m"] == 0.0


def test_build_features_prepayment_before_issue_on_as_of():
    """A payment for an invoice issued on as_of still reduces the exposure as unapplied cash."""
    tables = portfolio()
    _insert(tables, "invoices", {"document_id": "I8", "document_type": "invoice", "customer_id": "C1",
                                 "issued_on": D("2024-07-01"), "due_on": D("2024-07-31"), "amount": 900.0,
                                 "currency": "CNY"})
    _insert(tables, "payments", {"payment_id": "P8", "customer_id": "C1", "paid_on": D("2024-06-01"),
                                 "amount": 900.0, "currency": "CNY", "document_id": "I8"})
    c1 = row(features_at(tables), "C1")
    assert c1["open_exposure"] == 8300.0 - 900.0
    assert c1["invoice_count_12m"] == 5.0


def test_build_features_old_late_payment_counts():
    """months_since_last_late looks back past the 12-month window."""
    tables = portfolio()
    _insert(tables, "invoices", {"document_id": "K1", "document_type": "invoice", "customer_id": "C3",
                                 "issued_on": D("2023-01-01"), "due_on": D("2023-01-31"), "amount": 50.0,
                                 "currency": "CNY"})
    _insert(tables, "payments", {"payment_id": "PK1", "customer_id": "C3", "paid_on": D("2023-03-02"),
                                 "amount": 50.0, "currency": "CNY", "document_id": "K1"})
    c3 = row(features_at(tables), "C3")
    assert c3["months_since_last_late"] == pytest.approx(487 / DAYS_PER_MONTH)  # 2023-03-02 to 2024-07-01
    assert math.isnan(c3["mean_days_late_12m"])
    assert c3["max_dpd_now"] == 0.0


@pytest.mark.parametrize("period_end, used", [("2022-07-01", True), ("2022-06-30", False)])
def test_build_features_statement_age_boundary(period_end, used):
    """A statement exactly max_statement_age_months old is used; one day older is not."""
    tables = portfolio()
    statements = tables["financial_statements"].copy()
    statements.loc[statements["customer_id"] == "C3", "period_end"] = D(period_end)
    tables["financial_statements"] = statements
    c3 = row(features_at(tables, age=24), "C3")
    assert math.isnan(c3["debt_to_assets"]) != used


def test_build_features_parameter_errors():
    """Bad dates or statement ages raise ParamsError with the value in the message."""
    con = connect_tables(portfolio())
    with pytest.raises(ParamsError, match="No as_of dates"):
        build_features(con, [], max_statement_age_months=24)
    with pytest.raises(ParamsError, match="is not a calendar date"):
        build_features(con, ["2024-07-01"], max_statement_age_months=24)
    with pytest.raises(ParamsError, match="is not a calendar date"):
        build_features(con, [dt.datetime(2024, 7, 1, 12, 0)], max_statement_age_months=24)
    with pytest.raises(ParamsError, match=r"max_statement_age_months must be a whole number >= 1; got 0"):
        build_features(con, [AS_OF], max_statement_age_months=0)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match="必须是大于等于 1 的整数；实际为 0"):
        build_features(con, [AS_OF], max_statement_age_months=0)


def test_build_features_accepts_timestamps_at_midnight(base_features):
    """pd.Timestamp and numpy datetime64 dates at midnight work like datetime.date."""
    con = connect_tables(portfolio())
    for value in (pd.Timestamp(AS_OF), np.datetime64("2024-07-01")):
        pd.testing.assert_frame_equal(build_features(con, [value], max_statement_age_months=24), base_features)


def test_build_features_duplicate_customer_rejected():
    """A repeated customer_id raises InputDataError naming it, in both locales."""
    tables = portfolio()
    tables["customers"] = pd.concat([tables["customers"], tables["customers"].iloc[[0]]], ignore_index=True)
    con = connect_tables(tables)
    with pytest.raises(InputDataError, match="1 duplicated customer_id value.*'C1'"):
        build_features(con, [AS_OF], max_statement_age_months=24)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="重复的 customer_id，例如“C1”"):
        build_features(con, [AS_OF], max_statement_age_months=24)


def test_build_features_missing_table_rejected():
    """A connection without a table the features read raises InputDataError naming it."""
    tables = portfolio()
    del tables["credit_events"]
    with pytest.raises(InputDataError, match="no view for table\\(s\\) credit_events"):
        build_features(connect_tables(tables), [AS_OF], max_statement_age_months=24)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="缺少数据表视图：credit_events"):
        require_tables(connect_tables(tables), ["credit_events"])


def test_feature_params_from_mapping():
    """FeatureParams validates the features section of params.yaml."""
    params = FeatureParams.from_mapping({"min_history_months": 12, "max_statement_age_months": 24})
    assert params == FeatureParams(min_history_months=12, max_statement_age_months=24)
    with pytest.raises(ParamsError, match="features.max_statement_age_months is missing"):
        FeatureParams.from_mapping({"min_history_months": 12})
    with pytest.raises(ParamsError, match=r"unknown parameter\(s\) max_age"):
        FeatureParams.from_mapping({"min_history_months": 1, "max_statement_age_months": 2, "max_age": 3})
    with pytest.raises(ParamsError, match="features.min_history_months must be a whole number >= 0; got True"):
        FeatureParams.from_mapping({"min_history_months": True, "max_statement_age_months": 24})
    with pytest.raises(ParamsError, match="got 1.5"):
        FeatureParams.from_mapping({"min_history_months": 1.5, "max_statement_age_months": 24})
    with use_locale("zh_CN"), pytest.raises(ParamsError, match="缺少参数 features.min_history_months"):
        FeatureParams.from_mapping({"max_statement_age_months": 24})


def _history_tables(first_invoice: str, last_payment: str) -> dict[str, pd.DataFrame]:
    tables = portfolio()
    tables["invoices"] = _frame([
        {"document_id": "A", "document_type": "invoice", "customer_id": "C1", "issued_on": D(first_invoice),
         "due_on": D(first_invoice) + pd.Timedelta(days=30), "amount": 10.0, "currency": "CNY"},
    ], list(tables["invoices"].columns))
    tables["payments"] = _frame([
        {"payment_id": "PA", "customer_id": "C1", "paid_on": D(last_payment), "amount": 10.0,
         "currency": "CNY", "document_id": "A"},
    ], list(tables["payments"].columns))
    tables["credit_events"] = tables["credit_events"].iloc[:0]
    return tables


def test_monthly_as_of_dates_bounds():
    """Dates run from the first month start after the minimum history to the last complete window."""
    con = connect_tables(_history_tables("2022-01-03", "2025-12-31"))
    dates, observation_end = monthly_as_of_dates(con, min_history_months=12, horizon_months=12)
    assert observation_end == dt.date(2026, 1, 1)
    assert dates[0] == dt.date(2023, 2, 1)  # 2022-01-03 + 12 months, next month start
    assert dates[-1] == dt.date(2025, 1, 1)  # 2025-01-01 + 12 months == observation end
    assert len(dates) == 24
    assert all(day.day == 1 for day in dates)


def test_monthly_as_of_dates_first_of_month():
    """An earliest invoice on the 1st gives exactly min_history_months before the first as_of."""
    con = connect_tables(_history_tables("2022-01-01", "2023-06-14"))
    dates, observation_end = monthly_as_of_dates(con, min_history_months=12, horizon_months=3)
    assert observation_end == dt.date(2023, 6, 15)
    assert dates == [dt.date(2023, 1, 1), dt.date(2023, 2, 1), dt.date(2023, 3, 1)]


def test_monthly_as_of_dates_event_sets_end():
    """A credit event later than every invoice and payment sets the observation end."""
    tables = _history_tables("2022-01-01", "2022-06-30")
    tables["credit_events"] = _frame([{"customer_id": "C2", "event_on": D("2023-03-31"), "event_type": "default"}],
                                     ["customer_id", "event_on", "event_type", "amount"])
    _, observation_end = monthly_as_of_dates(connect_tables(tables), min_history_months=0, horizon_months=1)
    assert observation_end == dt.date(2023, 4, 1)


def test_monthly_as_of_dates_history_too_short():
    """Too little history for one complete window raises InputDataError with the dates and fix."""
    con = connect_tables(_history_tables("2022-01-03", "2022-12-31"))
    with pytest.raises(InputDataError, match=r"first as_of would be 2023-02-01.*Lower features.min_history_months"):
        monthly_as_of_dates(con, min_history_months=12, horizon_months=6)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="历史数据太短"):
        monthly_as_of_dates(con, min_history_months=12, horizon_months=6)


def test_monthly_as_of_dates_no_records():
    """Empty ledgers raise InputDataError."""
    tables = _history_tables("2022-01-03", "2022-12-31")
    for name in ("invoices", "payments"):
        tables[name] = tables[name].iloc[:0]
    with pytest.raises(InputDataError, match="hold no dated records"):
        monthly_as_of_dates(connect_tables(tables), min_history_months=1, horizon_months=1)


def test_connect_tables_fills_optional_columns():
    """A source without optional columns gets them as NULL and typed views."""
    tables = portfolio()
    tables["customers"] = tables["customers"][["customer_id", "industry", "onboarded_on",
                                               "payment_terms_days", "currency"]]
    con = connect_tables(tables)
    described = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE customers)").fetchall())
    assert described["credit_limit"] == "DOUBLE"
    assert described["limit_locked"] == "BOOLEAN"
    assert described["onboarded_on"] == "DATE"
    assert described["original_currency"] == "VARCHAR"
    assert described["fx_rate_to_base"] == "DOUBLE"
    assert con.execute("SELECT count(*) FROM customers WHERE credit_limit IS NULL").fetchall() == [(4,)]


def test_connect_tables_errors():
    """Unknown tables and missing required columns are named in the error, in both locales."""
    with pytest.raises(ParamsError, match="'invoice' is not a canonical table"):
        connect_tables({"invoice": portfolio()["invoices"]})
    tables = portfolio()
    tables["payments"] = tables["payments"].drop(columns=["paid_on"])
    with pytest.raises(InputDataError, match="DataFrame 'payments': required column 'paid_on' of table 'payments'"):
        connect_tables(tables)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="缺少必需列“paid_on”"):
        connect_tables(tables)


def _write_parquet(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    folder.mkdir()
    for name, frame in tables.items():
        table = pa.Table.from_pandas(frame, preserve_index=False)
        # Clean tables store dates as date32.
        for index, field in enumerate(table.schema):
            if pa.types.is_timestamp(field.type):
                table = table.set_column(index, field.name, table.column(index).cast(pa.date32()))
        pq.write_table(table, folder / f"{name}.parquet")


def test_connect_tables_parquet_matches_dataframes(tmp_path, base_features):
    """Features from clean Parquet files (date32 dates) equal features from DataFrames."""
    _write_parquet(portfolio(), tmp_path / "clean")
    paths = clean_table_paths(tmp_path / "clean")
    assert sorted(paths) == sorted(portfolio())
    features = build_features(connect_tables(paths), [AS_OF], max_statement_age_months=24)
    pd.testing.assert_frame_equal(features, base_features)


def test_clean_table_paths_missing_file(tmp_path):
    """A missing clean table file raises InputDataError naming the path and the fix."""
    _write_parquet({"customers": portfolio()["customers"]}, tmp_path / "clean")
    with pytest.raises(InputDataError, match=r"fx_rates\.parquet: the clean table file is missing.*creditlimit validate"):
        clean_table_paths(tmp_path / "clean")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="缺少清洗后的数据表文件"):
        connect_tables({"fx_rates": tmp_path / "clean" / "fx_rates.parquet"})
