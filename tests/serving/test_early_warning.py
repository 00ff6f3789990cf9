"""Tests of the early-warning flags that need the previous run, recent months, the book or the quarantine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_flags import FLAGS_SECTION

from creditlimit.serving.early_warning import EARLY_WARNING_CODES, grade_notches, raise_early_warnings
from creditlimit.serving.flags import FLAG_COLUMNS, FlagParams

# A half share of the book keeps equal exposures in small test books quiet.
PARAMS = FlagParams.from_mapping({**FLAGS_SECTION, "concentration_share": 0.5})
GRADES = tuple(str(g) for g in range(1, 11)) + ("D",)

# A customer that raises none of the flags here.
QUIET = {
    "customer_id": "C0", "pd_12m": 0.02, "grade": "4", "open_exposure": 1_000.0,
    "mean_days_late_12m": 5.0, "mean_days_late_recent": 6.0, "paid_invoices_recent": 10.0,
    "disputed_share_12m": 0.05, "disputed_share_recent": 0.05, "disputed_invoices_recent": 1.0,
}


def book(*changes: dict, size: int | None = None) -> pd.DataFrame:
    """One customer per change; padded with quiet customers up to ``size``."""
    rows = [{**QUIET, "customer_id": f"C{i}", **change} for i, change in enumerate(changes)]
    for i in range(len(rows), size or len(rows)):
        rows.append({**QUIET, "customer_id": f"C{i}"})
    return pd.DataFrame(rows)


def warnings_for(scored: pd.DataFrame, **kwargs) -> pd.DataFrame:
    limits = kwargs.pop("limits", scored[["customer_id"]])
    return raise_early_warnings(scored, limits=limits, params=PARAMS, grade_order=GRADES, **kwargs)


def previous_of(scored: pd.DataFrame, **changes) -> pd.DataFrame:
    previous = scored[["customer_id", "pd_12m", "grade"]].copy()
    for column, values in changes.items():
        previous[column] = values
    return previous


def test_quiet_book_raises_nothing():
    """A book of quiet customers, with every optional input given, raises no flag."""
    scored = book(size=5)
    flags = warnings_for(scored, previous_limits=previous_of(scored), previous_as_of="2025-12-01",
                         quarantine=pd.DataFrame(columns=["customer_id", "table", "reason_code", "rows"]))
    assert flags.empty
    assert list(flags.columns) == list(FLAG_COLUMNS)


def test_pd_jump_needs_rise_and_ratio():
    """PD jump: both the absolute rise and the ratio to the previous PD must be reached."""
    scored = book({"pd_12m": 0.05}, {"pd_12m": 0.025}, {"pd_12m": 0.2})
    previous = previous_of(scored, pd_12m=[0.02, 0.01, 0.15])
    flags = warnings_for(scored, previous_limits=previous, previous_as_of="2025-12-01")
    jumps = flags[flags["code"] == "pd_jump"]
    # C0: +3 points and 2.5x; C1: +1.5 points and 2.5x; C2: +5 points but only 1.33x.
    assert jumps["customer_id"].tolist() == ["C0", "C1"]
    assert jumps["value"].tolist() == pytest.approx([0.03, 0.015])
    assert jumps["threshold"].tolist() == [0.01, 0.01]
    assert "2.0 % to 5.0 %" in jumps["text_en"].iloc[0]
    assert "2025-12-01" in jumps["text_zh"].iloc[0]


def test_grade_downgrade_counts_notches_and_default():
    """Two notches or more is a downgrade; D is the notch after the worst grade."""
    scored = book({"grade": "6"}, {"grade": "5"}, {"grade": "D"})
    previous = previous_of(scored, grade=["4", "4", "9"])
    flags = warnings_for(scored, previous_limits=previous)
    downgrades = flags[flags["code"] == "grade_downgrade"]
    assert downgrades["customer_id"].tolist() == ["C0", "C2"]
    assert downgrades["value"].tolist() == [2.0, 2.0]
    assert downgrades["severity"].unique().tolist() == ["high"]
    assert "from 4 to 6" in downgrades["text_en"].iloc[0]
    assert "由4级降至6级" in downgrades["text_zh"].iloc[0]


def test_previous_run_flags_skip_new_customers():
    """A customer absent from the previous run gets no PD jump or downgrade."""
    scored = book({"pd_12m": 0.5, "grade": "10"})
    previous = pd.DataFrame({"customer_id": ["OTHER"], "pd_12m": [0.001], "grade": ["1"]})
    assert warnings_for(scored, previous_limits=previous).empty


def test_worsening_payment_trend():
    """Recent mean days late at least trend_min_increase_days above the 12-month mean, over enough payments."""
    scored = book(
        {"mean_days_late_recent": 15.0},                              # +10 days
        {"mean_days_late_recent": 14.9},                              # +9.9 days
        {"mean_days_late_recent": 40.0, "paid_invoices_recent": 2.0},  # too few payments
        {"mean_days_late_recent": np.nan},                            # nothing paid recently
    )
    flags = warnings_for(scored)
    trend = flags[flags["code"] == "worsening_payment_trend"]
    assert trend["customer_id"].tolist() == ["C0"]
    assert trend["value"].tolist() == [10.0]
    assert trend["text_en"].iloc[0] == (
        "Invoices paid in the last 3 months were 15 days late on average (10 invoices), "
        "against 5 days over 12 months (threshold: 10 days more)."
    )
    assert trend["text_zh"].iloc[0].startswith("近3个月付清的发票平均逾期15天")


def test_dispute_spike():
    """A dispute spike needs the share, the ratio to the 12-month share and enough disputed invoices."""
    scored = book(
        {"disputed_share_recent": 0.3, "disputed_invoices_recent": 3.0, "disputed_share_12m": 0.1},
        {"disputed_share_recent": 0.3, "disputed_invoices_recent": 3.0, "disputed_share_12m": 0.25},
        {"disputed_share_recent": 0.5, "disputed_invoices_recent": 1.0, "disputed_share_12m": 0.1},
        {"disputed_share_recent": 0.15, "disputed_invoices_recent": 5.0, "disputed_share_12m": 0.0},
    )
    spikes = warnings_for(scored).query("code == 'dispute_spike'")
    assert spikes["customer_id"].tolist() == ["C0"]
    assert spikes["value"].tolist() == [0.3]


def test_concentration_share_of_book():
    """Concentration compares each exposure with the book's total; small books raise nothing."""
    scored = book({"open_exposure": 1_000_000.0}, size=10)
    flags = warnings_for(scored).query("code == 'concentration'")
    assert flags["customer_id"].tolist() == ["C0"]
    assert flags["value"].iloc[0] == pytest.approx(1_000_000 / 1_009_000)
    assert "CNY 1,000,000" in warnings_for(scored, base_currency="CNY").query("code == 'concentration'")[
        "text_en"].iloc[0]
    # Below concentration_min_customers (3) the share does not measure concentration.
    assert warnings_for(book({"open_exposure": 1_000_000.0}, size=2)).empty


def test_group_over_cap_reads_policy_columns():
    """Every member of a group whose exposure passes the group cap is flagged."""
    scored = book(size=3)
    limits = pd.DataFrame({
        "customer_id": ["C0", "C1", "C2"], "group_id": ["G1", "G1", None],
        "group_cap": [100_000.0, 100_000.0, np.nan], "group_exposure": [150_000.0, 150_000.0, np.nan],
    })
    flags = warnings_for(scored, limits=limits).query("code == 'group_over_cap'")
    assert flags["customer_id"].tolist() == ["C0", "C1"]
    assert flags["threshold"].tolist() == [100_000.0, 100_000.0]
    assert "G1" in flags["text_zh"].iloc[0]


def test_group_flag_skipped_without_group_columns():
    """Limits without the group columns raise no group flag and no error."""
    assert warnings_for(book(size=3)).empty


def test_quarantined_input_counts_rows():
    """Customers with quarantined rows are flagged with the count and the reasons."""
    scored = book(size=2)
    quarantine = pd.DataFrame({
        "customer_id": ["C1", "C1", "UNSCORED"], "table": ["invoices", "payments", "invoices"],
        "reason_code": ["due_before_issue", "unknown_document", "unknown_currency"], "rows": [2, 1, 5],
    })
    flags = warnings_for(scored, quarantine=quarantine)
    assert flags["customer_id"].tolist() == ["C1"]
    assert flags["code"].tolist() == ["quarantined_input"]
    assert flags["value"].tolist() == [3.0]
    assert "invoices due_before_issue: 2" in flags["text_en"].iloc[0]
    assert flags["text_zh"].iloc[0].startswith("该客户有3行输入数据被校验隔离")


def test_missing_recent_columns_skip_trend_flags():
    """Without the recent-behaviour columns the trend and dispute rules raise nothing."""
    scored = book({"mean_days_late_recent": 90.0}).drop(
        columns=["mean_days_late_recent", "disputed_share_recent"])
    assert warnings_for(scored).empty


def test_every_early_warning_code_has_a_severity():
    """Each code raised here has a severity in the shared table."""
    from creditlimit.serving.flags import SEVERITIES, SEVERITY
    for code in EARLY_WARNING_CODES:
        assert SEVERITY[code] in SEVERITIES


def test_grade_notches_positions():
    """Grades map to their position on the scale; unknown grades are NaN."""
    positions = grade_notches(["1", "10", "D", None, "X"], GRADES)
    assert positions[:3].tolist() == [0.0, 9.0, 10.0]
    assert np.isnan(positions[3:]).all()
