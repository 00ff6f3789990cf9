"""Tests of the recent payment and dispute measures used by the early-warning flags."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from test_snapshots import AS_OF, portfolio

from creditlimit.features.recent_behaviour import RECENT_COLUMNS, recent_behaviour
from creditlimit.features.tables import connect_tables


def test_recent_behaviour_hand_computed():
    """Three months before 2024-07-01: I4 paid 5 days late; I5 and I6 issued, I6 disputed."""
    recent = recent_behaviour(connect_tables(portfolio()), AS_OF, months=3)
    assert list(recent.columns) == list(RECENT_COLUMNS)
    # C2's only invoice is older than the window and unpaid; C3 has none.
    assert recent["customer_id"].tolist() == ["C1"]
    c1 = recent.iloc[0]
    assert c1["mean_days_late_recent"] == pytest.approx(5.0)
    assert c1["paid_invoices_recent"] == 1.0
    assert c1["disputed_share_recent"] == pytest.approx(0.5)
    assert c1["disputed_invoices_recent"] == 1.0


def test_recent_behaviour_ignores_records_from_as_of_on():
    """Payments and invoices dated on or after as_of are invisible (I6 is paid and I7 issued later)."""
    recent = recent_behaviour(connect_tables(portfolio()), dt.date(2024, 7, 1), months=1)
    c1 = recent.set_index("customer_id").loc["C1"]
    # In June 2024 only I6 was issued (disputed) and nothing was fully paid.
    assert c1["paid_invoices_recent"] == 0.0
    assert math.isnan(c1["mean_days_late_recent"])
    assert c1["disputed_share_recent"] == 1.0


def test_recent_behaviour_longer_window_counts_more():
    """Six months before as_of also count I3 (paid on its due date) and its issue."""
    recent = recent_behaviour(connect_tables(portfolio()), AS_OF, months=6)
    c1 = recent.set_index("customer_id").loc["C1"]
    assert c1["paid_invoices_recent"] == 2.0
    assert c1["mean_days_late_recent"] == pytest.approx(2.5)
    # I3 (disputed unknown), I4, I5 known False, I6 True: 1 of 3 known.
    assert c1["disputed_share_recent"] == pytest.approx(1 / 3)
