"""Tests for the label definition, the label rule and the training table join."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.labels import LABEL_COLUMNS, LabelDefinition, build_labels, training_table
from creditlimit.features.snapshots import build_features
from creditlimit.features.tables import connect_tables
from creditlimit.i18n import use_locale

D = pd.Timestamp
AS_OF = D("2024-01-01")  # window [2024-01-01, 2024-04-01), last day 2024-03-31
OBSERVATION_END = dt.date(2024, 4, 1)
DEFINITION = LabelDefinition(horizon_months=3, dpd_threshold=30, min_amount=100.0, event_types=("default",))

INVOICE_COLUMNS = ["document_id", "document_type", "customer_id", "issued_on", "due_on", "amount", "currency",
                   "reference_id", "original_currency", "fx_rate_to_base"]
PAYMENT_COLUMNS = ["payment_id", "customer_id", "paid_on", "amount", "currency", "document_id",
                   "original_currency", "fx_rate_to_base"]


def _invoice(document_id, customer_id, due_on, amount, *, issued_on=None, currency="CNY", rate=1.0,
             document_type="invoice", reference_id=None):
    issued = D(issued_on) if issued_on else D(due_on) - pd.Timedelta(days=30)
    return {"document_id": document_id, "document_type": document_type, "customer_id": customer_id,
            "issued_on": issued, "due_on": D(due_on), "amount": amount, "currency": "CNY",
            "reference_id": reference_id, "original_currency": currency, "fx_rate_to_base": rate}


def _payment(payment_id, customer_id, paid_on, amount, document_id, *, currency="CNY", rate=1.0):
    return {"payment_id": payment_id, "customer_id": customer_id, "paid_on": D(paid_on), "amount": amount,
            "currency": "CNY", "document_id": document_id, "original_currency": currency, "fx_rate_to_base": rate}


# Each customer is one case of the label rule at as_of 2024-01-01.
EXPECTED = {
    # customer: (is_bad, in_default_at_as_of)
    "A_LAST_DAY": (1, False),       # reaches 30 dpd on 2024-03-31, the window's last day
    "B_DAY_AFTER": (0, False),      # reaches 30 dpd on 2024-04-01, the window end
    "C_PARTIAL": (0, False),        # 950 of 1000 paid before the day: 50 open < 100
    "C_PAID_ON_DAY": (1, False),    # the payment dated on the day itself does not count
    "D_CREDIT_NOTE": (0, False),    # 500 paid and a 450 credit note leave 50 open
    "D_NO_CREDIT_NOTE": (1, False),  # the same without the credit note: 500 open
    "E_DEFAULT": (1, False),        # default event inside the window
    "E_LEGAL_ACTION": (0, False),   # event type not in the definition
    "F_OVERDUE_BEFORE": (0, True),  # 61 dpd at as_of; reached the threshold before the window
    "F_EVENT_BEFORE": (0, True),    # default event before as_of
    "F_EVENT_ON_AS_OF": (1, False),  # default event on as_of: inside the window, not before it
    "G_ON_AS_OF": (1, True),        # reaches 30 dpd on as_of itself
    "H_MIN_EXACT": (1, False),      # exactly min_amount open
    "I_USD_SETTLED": (0, False),    # 100 USD paid in full at another rate: nothing open
    "J_CLEAN": (0, False),          # paid on time
}


def label_tables() -> dict[str, pd.DataFrame]:
    invoices = [
        _invoice("A1", "A_LAST_DAY", "2024-03-01", 1000.0),
        _invoice("B1", "B_DAY_AFTER", "2024-03-02", 1000.0),
        _invoice("C1", "C_PARTIAL", "2024-01-15", 1000.0),
        _invoice("C2", "C_PAID_ON_DAY", "2024-01-15", 1000.0),
        _invoice("D1", "D_CREDIT_NOTE", "2024-01-15", 1000.0),
        _invoice("DC", "D_CREDIT_NOTE", "2024-02-05", -450.0, issued_on="2024-02-05",
                 document_type="credit_note", reference_id="D1"),
        _invoice("D2", "D_NO_CREDIT_NOTE", "2024-01-15", 1000.0),
        _invoice("F1", "F_OVERDUE_BEFORE", "2023-11-01", 1000.0),
        _invoice("G1", "G_ON_AS_OF", "2023-12-02", 1000.0),
        _invoice("H1", "H_MIN_EXACT", "2024-01-20", 100.0),
        _invoice("I1", "I_USD_SETTLED", "2024-01-15", 700.0, currency="USD", rate=7.0),
        _invoice("J1", "J_CLEAN", "2024-01-15", 1000.0),
    ]
    payments = [
        _payment("PC1", "C_PARTIAL", "2024-02-10", 950.0, "C1"),
        _payment("PC2", "C_PAID_ON_DAY", "2024-02-14", 950.0, "C2"),
        _payment("PD1", "D_CREDIT_NOTE", "2024-02-01", 500.0, "D1"),
        _payment("PD2", "D_NO_CREDIT_NOTE", "2024-02-01", 500.0, "D2"),
        # 100 USD booked at 7.0 and paid at 6.0: 600 in base currency settles it.
        _payment("PI1", "I_USD_SETTLED", "2024-02-01", 600.0, "I1", currency="USD", rate=6.0),
        _payment("PJ1", "J_CLEAN", "2024-01-10", 1000.0, "J1"),
    ]
    events = pd.DataFrame([
        {"customer_id": "E_DEFAULT", "event_on": D("2024-02-20"), "event_type": "default"},
        {"customer_id": "E_LEGAL_ACTION", "event_on": D("2024-02-20"), "event_type": "legal_action"},
        {"customer_id": "F_EVENT_BEFORE", "event_on": D("2023-12-15"), "event_type": "default"},
        {"customer_id": "F_EVENT_ON_AS_OF", "event_on": D("2024-01-01"), "event_type": "default"},
    ])
    customers = pd.DataFrame({
        "customer_id": list(EXPECTED), "industry": "retail", "onboarded_on": D("2022-01-01"),
        "payment_terms_days": 30, "currency": "CNY",
    })
    return {
        "customers": customers,
        "financial_statements": pd.DataFrame(columns=["customer_id", "period_end", "published_on", "currency",
                                                      "revenue", "net_profit", "total_assets", "current_assets",
                                                      "total_liabilities", "current_liabilities", "equity",
                                                      "operating_cash_flow"]),
        "invoices": pd.DataFrame(invoices, columns=INVOICE_COLUMNS),
        "payments": pd.DataFrame(payments, columns=PAYMENT_COLUMNS),
        "credit_events": events,
    }


def snapshots(as_of=AS_OF) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(EXPECTED), "as_of": as_of})


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return build_labels(connect_tables(label_tables()), snapshots(), definition=DEFINITION,
                        observation_end=OBSERVATION_END)


@pytest.mark.parametrize("customer_id", list(EXPECTED))
def test_build_labels_rule_edges(labels, customer_id):
    """Each hand-built case gets its expected is_bad and in_default_at_as_of."""
    found = labels[labels["customer_id"] == customer_id]
    assert len(found) == 1
    expected_bad, expected_in_default = EXPECTED[customer_id]
    assert found["is_bad"].iloc[0] == expected_bad
    assert found["in_default_at_as_of"].iloc[0] == expected_in_default


def test_build_labels_columns_and_dtypes(labels):
    """Labels have the documented columns, dtypes and order."""
    assert tuple(labels.columns) == LABEL_COLUMNS
    assert labels["is_bad"].dtype == np.int64
    assert labels["in_default_at_as_of"].dtype == bool
    assert labels["as_of"].dtype == "datetime64[us]"
    assert labels["customer_id"].dtype == object
    assert list(labels["customer_id"]) == sorted(EXPECTED)


def test_build_labels_window_moves_with_as_of():
    """The same invoice is outside the window of an earlier as_of."""
    early = build_labels(connect_tables(label_tables()), snapshots(D("2023-12-01")), definition=DEFINITION,
                         observation_end=OBSERVATION_END)
    by_customer = early.set_index("customer_id")
    # A1 reaches 30 dpd on 2024-03-31, after the window [2023-12-01, 2024-03-01).
    assert by_customer.at["A_LAST_DAY", "is_bad"] == 0
    # F1 reaches 30 dpd on 2023-12-01, the first day of this window.
    assert by_customer.at["F_OVERDUE_BEFORE", "is_bad"] == 1
    assert by_customer.at["F_OVERDUE_BEFORE", "in_default_at_as_of"]


def test_build_labels_incomplete_window_left_out(caplog):
    """Snapshots whose window ends after the observation end are not labelled, and are counted."""
    frame = pd.concat([snapshots(), snapshots(D("2024-02-01"))], ignore_index=True)
    with caplog.at_level(logging.INFO, logger="creditlimit.features.labels"):
        labels = build_labels(connect_tables(label_tables()), frame, definition=DEFINITION,
                              observation_end=OBSERVATION_END)
    assert len(labels) == len(EXPECTED)
    assert (labels["as_of"] == AS_OF).all()
    assert f"({len(EXPECTED)} with an incomplete window left out)" in caplog.text


def test_build_labels_window_end_on_observation_end():
    """A window ending exactly on the observation end is labelled; one day earlier it is not."""
    con = connect_tables(label_tables())
    complete = build_labels(con, snapshots(), definition=DEFINITION, observation_end=dt.date(2024, 4, 1))
    incomplete = build_labels(con, snapshots(), definition=DEFINITION, observation_end=dt.date(2024, 3, 31))
    assert len(complete) == len(EXPECTED)
    assert incomplete.empty


def test_build_labels_higher_min_amount_and_threshold():
    """Raising min_amount or dpd_threshold turns cases good."""
    con = connect_tables(label_tables())
    strict = LabelDefinition(horizon_months=3, dpd_threshold=30, min_amount=600.0, event_types=("default",))
    by_customer = build_labels(con, snapshots(), definition=strict, observation_end=OBSERVATION_END).set_index(
        "customer_id")
    assert by_customer.at["D_NO_CREDIT_NOTE", "is_bad"] == 0  # 500 open < 600
    assert by_customer.at["H_MIN_EXACT", "is_bad"] == 0
    assert by_customer.at["A_LAST_DAY", "is_bad"] == 1
    later = LabelDefinition(horizon_months=3, dpd_threshold=31, min_amount=100.0, event_types=())
    by_customer = build_labels(con, snapshots(), definition=later, observation_end=OBSERVATION_END).set_index(
        "customer_id")
    assert by_customer.at["A_LAST_DAY", "is_bad"] == 0  # 31 dpd on 2024-04-01
    assert by_customer.at["E_DEFAULT", "is_bad"] == 0  # no listed events
    assert not by_customer.at["F_EVENT_BEFORE", "in_default_at_as_of"]


def test_build_labels_after_features_on_same_connection():
    """Labels built after features on one connection equal labels from a fresh connection."""
    con = connect_tables(label_tables())
    features = build_features(con, [AS_OF.date()], max_statement_age_months=24)
    after = build_labels(con, features[["customer_id", "as_of"]], definition=DEFINITION,
                         observation_end=OBSERVATION_END)
    fresh = build_labels(connect_tables(label_tables()), snapshots(), definition=DEFINITION,
                         observation_end=OBSERVATION_END)
    pd.testing.assert_frame_equal(after, fresh)


def test_build_labels_empty_and_bad_input():
    """No snapshots give an empty frame; missing columns and bad dates raise."""
    con = connect_tables(label_tables())
    empty = build_labels(con, snapshots().iloc[:0], definition=DEFINITION, observation_end=OBSERVATION_END)
    assert empty.empty
    assert tuple(empty.columns) == LABEL_COLUMNS
    with pytest.raises(InputDataError, match="snapshots frame is missing column\\(s\\) as_of"):
        build_labels(con, snapshots().drop(columns=["as_of"]), definition=DEFINITION,
                     observation_end=OBSERVATION_END)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="snapshots 数据框缺少列 as_of"):
        build_labels(con, snapshots().drop(columns=["as_of"]), definition=DEFINITION,
                     observation_end=OBSERVATION_END)
    with pytest.raises(ParamsError, match="observation_end '2024-04-01' is not a calendar date"):
        build_labels(con, snapshots(), definition=DEFINITION, observation_end="2024-04-01")


def test_training_table_drops_in_default_and_counts():
    """The training table keeps labelled snapshots not in default and counts every drop."""
    con = connect_tables(label_tables())
    features = build_features(con, [AS_OF.date(), dt.date(2024, 2, 1)], max_statement_age_months=24)
    labels = build_labels(con, features[["customer_id", "as_of"]], definition=DEFINITION,
                          observation_end=OBSERVATION_END)
    table, counts = training_table(features, labels)
    in_default = {c for c, (_, flag) in EXPECTED.items() if flag}
    assert counts == {
        "features_in": 2 * len(EXPECTED),
        "labels_in": len(EXPECTED),
        "no_label": len(EXPECTED),
        "labels_without_features": 0,
        "in_default_at_as_of": len(in_default),
        "rows_out": len(EXPECTED) - len(in_default),
        "bad": sum(bad for c, (bad, flag) in EXPECTED.items() if not flag),
    }
    assert set(table["customer_id"]) == set(EXPECTED) - in_default
    assert list(table.columns) == [*features.columns, "is_bad"]
    assert table["is_bad"].dtype == np.int64
    keys = list(zip(table["as_of"], table["customer_id"]))
    assert keys == sorted(keys)


def test_training_table_counts_labels_without_features():
    """A label whose snapshot has no feature row is counted, not joined."""
    con = connect_tables(label_tables())
    features = build_features(con, [AS_OF.date()], max_statement_age_months=24)
    labels = build_labels(con, snapshots(), definition=DEFINITION, observation_end=OBSERVATION_END)
    _, counts = training_table(features[features["customer_id"] != "J_CLEAN"], labels)
    assert counts["labels_without_features"] == 1
    assert counts["rows_out"] == len(EXPECTED) - 3 - 1


def test_training_table_missing_column():
    """A labels frame without is_bad raises InputDataError naming the column."""
    with pytest.raises(InputDataError, match="labels frame is missing column\\(s\\) is_bad"):
        training_table(snapshots(), snapshots().assign(in_default_at_as_of=False))


def test_label_definition_from_mapping_and_to_dict():
    """A valid label section round-trips through from_mapping and to_dict."""
    section = {"horizon_months": 12, "dpd_threshold": 90, "min_amount": 100,
               "event_types": ["default", "write_off", "bankruptcy"]}
    definition = LabelDefinition.from_mapping(section)
    assert definition == LabelDefinition(12, 90, 100.0, ("default", "write_off", "bankruptcy"))
    assert definition.to_dict() == {**section, "min_amount": 100.0}
    assert LabelDefinition.from_mapping(definition.to_dict()) == definition
    assert LabelDefinition.from_mapping({**section, "event_types": []}).event_types == ()


@pytest.mark.parametrize("change, message", [
    ({"horizon_months": 0}, r"label.horizon_months must be a whole number >= 1; got 0"),
    ({"horizon_months": True}, r"label.horizon_months must be a whole number >= 1; got True"),
    ({"dpd_threshold": 30.0}, r"label.dpd_threshold must be a whole number >= 1; got 30.0"),
    ({"min_amount": 0.0}, r"label.min_amount must be a finite number > 0 \(base currency\); got 0.0"),
    ({"min_amount": float("nan")}, r"label.min_amount must be a finite number > 0.*got nan"),
    ({"min_amount": "100"}, r"label.min_amount must be a finite number > 0.*got '100'"),
    ({"event_types": ["default", "late"]}, r"label.event_types must be a list of distinct credit event types"),
    ({"event_types": ["default", "default"]}, r"distinct credit event types.*got \('default', 'default'\)"),
    ({"event_types": "default"}, r"label.event_types must be a list.*got 'default'"),
])
def test_label_definition_invalid_values(change, message):
    """Each broken rule raises ParamsError naming the parameter and value."""
    section = {"horizon_months": 12, "dpd_threshold": 90, "min_amount": 100.0, "event_types": ["default"]}
    with pytest.raises(ParamsError, match=message):
        LabelDefinition.from_mapping({**section, **change})


def test_label_definition_missing_and_unknown_keys():
    """Missing and unknown keys raise ParamsError in both locales."""
    section = {"horizon_months": 12, "dpd_threshold": 90, "min_amount": 100.0, "event_types": ["default"]}
    without = {k: v for k, v in section.items() if k != "dpd_threshold"}
    with pytest.raises(ParamsError, match="label.dpd_threshold is missing"):
        LabelDefinition.from_mapping(without)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match="缺少参数 label.dpd_threshold"):
        LabelDefinition.from_mapping(without)
    with pytest.raises(ParamsError, match=r"label: unknown parameter\(s\) horizon"):
        LabelDefinition.from_mapping({**section, "horizon": 6})
    with use_locale("zh_CN"), pytest.raises(ParamsError, match="min_amount 必须是大于 0 的有限数值"):
        LabelDefinition.from_mapping({**section, "min_amount": -1.0})
