"""Tests of the policy simulation: moves per customer, totals by segment and the rendered report."""

from __future__ import annotations

import pandas as pd
import pytest

from creditlimit.i18n import use_locale
from creditlimit.serving.simulation import render_report, simulate_moves

BASELINE = pd.DataFrame({
    "customer_id": ["A", "B", "C", "D"],
    "grade": ["1", "2", "2", "D"],
    "pd_12m": [0.01, 0.02, 0.02, 1.0],
    "exposure": [50_000.0, 80_000.0, float("nan"), 10_000.0],
    "new_limit": [100_000.0, 100_000.0, 40_000.0, 0.0],
})
SCENARIO = pd.DataFrame({
    "customer_id": ["A", "B", "C", "D"],
    "grade": ["1", "3", "2", "D"],
    "pd_12m": [0.01, 0.04, 0.02, 1.0],
    "new_limit": [150_000.0, 60_000.0, 0.0, 0.0],
})
INDUSTRIES = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "industry": ["retail", "retail", None, "mining"]})


def simulate(**kwargs):
    return simulate_moves(BASELINE, SCENARIO, industries=INDUSTRIES, grade_order=("1", "2", "3", "D"),
                          lgd=0.5, scenario_lgd=0.4, **kwargs)


def test_simulate_moves_per_customer():
    """Each customer has both limits, the move, the cut-to-zero mark and both expected losses."""
    moves = simulate().moves.set_index("customer_id")
    assert moves["move"].tolist() == ["increase", "decrease", "decrease", "unchanged"]
    assert moves["limit_change"].tolist() == [50_000.0, -40_000.0, -40_000.0, 0.0]
    assert moves["cut_to_zero"].tolist() == [False, False, True, False]
    assert moves.loc["B", "expected_loss"] == pytest.approx(0.02 * 0.5 * 100_000)
    assert moves.loc["B", "scenario_expected_loss"] == pytest.approx(0.04 * 0.4 * 60_000)
    assert moves.loc["C", "industry"] == "(missing)"


def test_simulate_overall_totals():
    """Counts, amounts, limit, exposure and expected-loss totals match hand-computed values."""
    overall = simulate().overall
    assert overall["customers"] == 4
    assert (overall["increases"], overall["increase_amount"]) == (1, 50_000.0)
    assert (overall["decreases"], overall["decrease_amount"]) == (2, 80_000.0)
    assert overall["cut_to_zero"] == 1
    assert overall["limit_total"] == 240_000.0
    assert overall["scenario_limit_total"] == 210_000.0
    assert overall["limit_change"] == -30_000.0
    # min(exposure, limit): A 50000, B 80000 → 60000, C missing (left out), D 0.
    assert overall["covered_exposure"] == 130_000.0
    assert overall["scenario_covered_exposure"] == 110_000.0
    assert overall["covered_exposure_change"] == -20_000.0
    assert overall["over_limit_exposure"] == 10_000.0
    assert overall["scenario_over_limit_exposure"] == 30_000.0
    baseline_el = 0.01 * 0.5 * 100_000 + 0.02 * 0.5 * 100_000 + 0.02 * 0.5 * 40_000
    scenario_el = 0.01 * 0.4 * 150_000 + 0.04 * 0.4 * 60_000
    assert overall["expected_loss"] == pytest.approx(baseline_el)
    assert overall["expected_loss_change"] == pytest.approx(scenario_el - baseline_el)


def test_simulate_segments_by_grade_and_industry():
    """Segments use the current grade in scale order and the industry, adding up to the totals."""
    report = simulate()
    assert report.by_grade["segment"].tolist() == ["1", "2", "D"]
    assert report.by_grade["customers"].tolist() == [1, 2, 1]
    assert report.by_grade.set_index("segment").loc["2", "cut_to_zero"] == 1
    assert set(report.by_industry["segment"]) == {"retail", "mining", "(missing)"}
    assert report.by_industry["limit_change"].sum() == report.overall["limit_change"]


def test_render_report_in_both_languages():
    """The printed report follows the active locale and shows the totals and both segment tables."""
    report = simulate()
    header = {"as_of": "2026-01-01", "baseline_params": "params.yaml", "scenario_params": "other.yaml",
              "baseline_policy": "2026.1", "scenario_policy": "2026.2", "baseline_model": "m v1",
              "scenario_model": "m v2"}
    with use_locale("en"):
        text = render_report(report, header=header, currency="CNY")
    assert "1 increases (+50,000), 2 decreases (-80,000), 1 cut to zero" in text
    assert "Total limits 240,000 -> 210,000 (-30,000)" in text
    assert "By industry:" in text
    with use_locale("zh_CN"):
        text = render_report(report, header=header, currency="CNY")
    assert "上调 1 户（+50,000），下调 2 户（-80,000），降为零 1 户" in text
    assert "按等级（现行参数）" in text
