"""Customer pages of the credit usage report, on a hand-made three-customer run."""

import re

from tiny_run import make_inputs, report_params

from creditlimit.reports.customer_pages import CustomerIndex, render_customer_page
from creditlimit.reports.page import Formatter


def _page(customer_id, locale="en", **options):
    inputs = make_inputs(**options)
    index = CustomerIndex.build(inputs)
    return render_customer_page(customer_id, index, inputs, report_params(), Formatter(locale, "CNY"),
                                other_href="x.html", report_href="../report.en.html")


def test_decision_shows_limits_and_notice():
    """The decision carries grade, PD and limits as data values and the notice in the page's language."""
    html = _page("C1")
    assert 'id="cust-grade" data-value="7"' in html
    assert 'id="cust-new-limit" data-value="140000">CNY 140,000<' in html
    assert 'id="cust-pd" data-value="0.081">8.10 %<' in html
    assert "your limit will decrease" in html
    assert "额度将下调" in _page("C1", "zh_CN")


def test_calculation_log_steps_are_translated():
    """Calculation steps show translated names and formatted values."""
    html = _page("C1", "zh_CN")
    steps = re.search(r'<table id="steps-table"[^>]*>.*?</table>', html).group(0)
    assert "需求额度" in steps
    assert "150,000 元" in steps


def test_waterfall_and_reasons():
    """The SHAP waterfall is inline SVG with the base, the largest steps, the rest and the total."""
    html = _page("C1")
    chart = re.search(r'<div class="charts" id="waterfall">(<svg.*?</svg>)</div>', html).group(1)
    assert "average (base value)" in chart
    assert "debt to assets = 70.0 %" in chart
    assert "1 other features" in chart
    assert "this customer" in chart
    assert "debt_to_assets raises the PD" in re.search(r'<ol id="reasons">.*?</ol>', html).group(0)


def test_flags_in_page_language():
    """Flags show severity, kind and the text of the page's language."""
    zh = _page("C1", "zh_CN")
    flags = re.search(r'<table id="flags-table"[^>]*>.*?</table>', zh).group(0)
    assert "违约概率骤升" in flags
    assert "高" in flags
    assert 'id="no-flags"' in _page("C2")


def test_change_and_restore_when_present():
    """Why it changed and what would restore it come from the run's columns."""
    html = _page("C1")
    assert "Grade fell from 5 to 7" in html
    assert "Paying the overdue amount would restore grade 5." in html
    restore = re.search(r'<table id="restore-table"[^>]*>.*?</table>', html).group(0)
    assert "days past due today" in restore
    assert "45 days" in restore
    previous = re.search(r'<table id="previous-table"[^>]*>.*?</table>', html).group(0)
    assert "CNY 200,000" in previous
    assert "CNY 140,000" in previous


def test_missing_explanation_columns_say_not_available():
    """Without the change and restore columns the page renders and marks them not available."""
    html = _page("C1", with_optional=False)
    changed = re.search(r'<section id="changed">.*?</section>', html).group(0)
    restore = re.search(r'<section id="restore">.*?</section>', html).group(0)
    assert 'data-unavailable="1"' in changed
    assert 'data-unavailable="1"' in restore


def test_new_customer_without_previous_run():
    """A customer absent from the previous run is shown as such."""
    assert "The customer has no result in an earlier run." in _page("C3")


def test_history_charts_and_ratios():
    """Monthly flows, the limit history and the ratios render as charts and tables."""
    html = _page("C1", "zh_CN")
    assert re.search(r'<div class="charts" id="flows-chart"><svg', html)
    assert re.search(r'<div class="charts" id="limit-chart"><svg', html)
    ratios = re.search(r'<table id="ratios-table"[^>]*>.*?</table>', html).group(0)
    assert ratios.count("<tr>") == 3  # header, 70 % and then 75 % debt to assets
    assert "2025年12月" in html


def test_customer_text_is_escaped():
    """Text from the data can never inject markup."""
    html = _page("C2")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
