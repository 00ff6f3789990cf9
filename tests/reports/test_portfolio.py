"""Portfolio page of the credit usage report, on a hand-made three-customer run."""

import re

import pandas as pd
from tiny_run import make_inputs, report_params

from creditlimit.reports.page import Formatter
from creditlimit.reports.portfolio import (
    ageing_table, grade_sort_key, limit_change_table, migration_matrix, render_portfolio,
)


def _render(inputs, locale="en"):
    return render_portfolio(inputs, report_params(), Formatter(locale, "CNY"),
                            customer_href=lambda cid: f"customers/{cid}.{locale}.html",
                            other_href="report.zh_CN.html")


def test_grade_order_puts_default_last():
    """Grades sort numerically with D after the numbered grades."""
    assert sorted(["10", "D", "2", "1"], key=grade_sort_key) == ["1", "2", "10", "D"]


def test_ageing_buckets_split_by_days_past_due():
    """Open amounts fall into not due, 1-30, 31-60, 61-90 and over 90 days."""
    ageing = pd.DataFrame({"customer_id": ["A", "A", "B", "B", "C", "C"],
                           "days_past_due": [-3, 0, 1, 30, 31, 91],
                           "open_amount": [10.0, 5.0, 7.0, 3.0, 2.0, 100.0]})
    table = ageing_table(ageing, (30, 60, 90))
    assert table["amount"].tolist() == [15.0, 10.0, 2.0, 0.0, 100.0]
    assert table["customers"].tolist() == [1, 1, 1, 0, 1]


def test_limit_changes_per_action():
    """Counts and net change per action add up to the run's totals."""
    inputs = make_inputs()
    table = limit_change_table(inputs.run.limits)
    assert table.loc["decrease", "change"] == -60000.0
    assert table.loc["new", "change"] == 30000.0
    assert table["customers"].sum() == 3


def test_migration_from_previous_run():
    """Without the run's migration table the two runs' grades are joined; new customers count as new."""
    inputs = make_inputs(with_optional=False)
    matrix = migration_matrix(inputs.run.limits, inputs.previous.limits)
    assert matrix.loc["5", "7"] == 1
    assert matrix.loc["2", "2"] == 1
    assert matrix.loc["new", "4"] == 1
    assert int(matrix.to_numpy().sum()) == 3


def test_migration_uses_run_table_when_present():
    """The run's grade_migration table wins over recomputing."""
    inputs = make_inputs()
    table = inputs.run.extra["grade_migration"].assign(customers=[4, 5, 6])
    matrix = migration_matrix(inputs.run.limits, None, table)
    assert matrix.loc["5", "7"] == 4
    assert matrix.loc["new", "4"] == 6


def test_migration_without_previous_run():
    """No previous run and no table: no matrix."""
    assert migration_matrix(make_inputs().run.limits, None) is None


def test_summary_figures_match_limits():
    """The summary tiles carry the run's totals as data values."""
    inputs = make_inputs()
    html = _render(inputs)
    assert 'id="kpi-customers" data-value="3"' in html
    assert 'id="kpi-current_limits" data-value="250000"' in html
    assert 'id="kpi-new_limits" data-value="220000"' in html
    assert "CNY 220.00 k" in html


def test_every_section_present_in_both_languages():
    """Each section has its heading in both languages and every customer is linked."""
    inputs = make_inputs()
    en, zh = _render(inputs, "en"), _render(inputs, "zh_CN")
    for section in ("summary", "ageing", "grades", "migration", "changes", "movers", "alerts", "pending",
                    "reviews", "drift", "quality", "model", "customers"):
        assert f'<section id="{section}">' in en
        assert f'<section id="{section}">' in zh
    assert "信用使用情况报告" in zh
    assert "Credit usage report" in en
    for customer in ("C1", "C2", "C3"):
        assert f'href="customers/{customer}.en.html"' in en


def test_pending_and_reviews():
    """The pending decrease shows its notice and effective dates; reviews list both kinds."""
    html = _render(make_inputs())
    pending = re.search(r'<table id="pending-table"[^>]*>.*?</table>', html).group(0)
    assert "C1" in pending
    assert "1 Jan 2026" in pending
    assert "31 Jan 2026" in pending
    reviews = re.search(r'<table id="reviews-table"[^>]*>.*?</table>', html).group(0)
    assert "C2" in reviews
    assert "needs review now" in reviews
    assert "C1" not in reviews  # next review 2026-06-30 is beyond the 90-day horizon


def test_alerts_and_quality_counts():
    """Alerts count by severity and kind; quarantined rows list their reasons."""
    html = _render(make_inputs())
    assert 'data-code="pd_jump">PD jump<' in html
    assert "unknown_currency: 4" in html


def test_drift_reports_status_against_thresholds():
    """Score PSI against the previous run and feature CSI against training carry a status."""
    html = _render(make_inputs())
    assert '<table id="score-psi">' in html
    csi = re.search(r'<table id="feature-csi"[^>]*>.*?</table>', html).group(0)
    assert 'data-feature="debt_to_assets"' in csi
    assert 'data-status="' in csi


def test_missing_optional_pieces_say_not_available():
    """A run without the optional columns, tables and files renders and names what is missing."""
    inputs = make_inputs(with_previous=False, with_optional=False)
    inputs = inputs.__class__(**{**inputs.__dict__, "validation_report": None, "training": None, "metrics": None})
    html = _render(inputs)
    assert "No earlier run to compare with." in html
    assert html.count('data-unavailable="1"') >= 3


def test_change_without_current_limit():
    """A customer without a current limit changes by its whole new limit; a missing new limit stays missing."""
    from creditlimit.reports.portfolio import limit_change

    limits = pd.DataFrame({"current_limit": [100.0, float("nan"), 50.0], "new_limit": [80.0, 30.0, float("nan")]})
    change = limit_change(limits)
    assert change.iloc[0] == -20.0
    assert change.iloc[1] == 30.0
    assert pd.isna(change.iloc[2])
