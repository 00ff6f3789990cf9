"""Tests of the change attribution: which customers changed and the causes, in order and in both languages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditlimit.serving.attribution import (
    CHANGE_COLUMNS, attribute_changes, contributions_table, feature_values_table,
)
from creditlimit.serving.explain_params import ExplainParams

PARAMS = ExplainParams.from_mapping({
    "top_causes": 2,
    "min_contribution_change": 0.05,
    "min_relative_change": 0.05,
    "restore_steps": [0.5, 1.0],
    "restore_max_actions": 1,
    "restore_actions": {"pay_overdue": {"max_dpd_now": 0}},
})
FEATURES = ["debt_to_assets", "max_dpd_now", "overdue_amount"]


def explanations(values: dict[str, list[float]], contributions: dict[str, list[float]]) -> pd.DataFrame:
    """Long explanations of two customers, C0 and C1, with base value -3."""
    rows = []
    for i, customer_id in enumerate(["C0", "C1"]):
        for feature in FEATURES:
            rows.append({"customer_id": customer_id, "feature": feature, "value": values[feature][i],
                         "value_category": None, "contribution": contributions[feature][i], "base_value": -3.0})
    return pd.DataFrame(rows)


def limits(grades, pds, proposed, need=(100_000.0, 100_000.0), capacity=(np.nan, np.nan)) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["C0", "C1"], "grade": grades, "pd_12m": pds, "proposed_limit": proposed,
                         "need_limit": list(need), "capacity_limit": list(capacity)})


BEFORE_VALUES = {"debt_to_assets": [0.5, 0.4], "max_dpd_now": [0.0, 0.0], "overdue_amount": [0.0, 0.0]}
BEFORE_CONTRIB = {"debt_to_assets": [0.1, 0.0], "max_dpd_now": [-0.2, -0.2], "overdue_amount": [0.0, 0.0]}
AFTER_VALUES = {"debt_to_assets": [0.5, 0.4], "max_dpd_now": [45.0, 0.0], "overdue_amount": [12_000.0, 0.0]}
AFTER_CONTRIB = {"debt_to_assets": [0.12, 0.0], "max_dpd_now": [0.9, -0.2], "overdue_amount": [0.3, 0.0]}


def attribute(before_limits, after_limits, versions=None, params=PARAMS):
    before, after = explanations(BEFORE_VALUES, BEFORE_CONTRIB), explanations(AFTER_VALUES, AFTER_CONTRIB)
    margin = pd.Series([0.0, 0.0], index=["C0", "C1"])
    previous_contributions = contributions_table(before, margin, FEATURES).set_index("customer_id")
    return attribute_changes(
        after_limits, contributions=contributions_table(after, margin, FEATURES),
        values=feature_values_table(after), previous_limits=before_limits,
        previous_contributions=previous_contributions, previous_values=feature_values_table(before),
        versions=versions or {"model_version": ("5", "5"), "policy_version": ("2026.1", "2026.1")},
        params=params, base_currency="CNY",
    )


def test_contributions_table_is_wide():
    """The wide table contains base value, raw margin and one column per feature, in model order."""
    table = contributions_table(explanations(AFTER_VALUES, AFTER_CONTRIB),
                                pd.Series([1.0, 2.0], index=["C0", "C1"]), FEATURES)
    assert list(table.columns) == ["customer_id", "base_value", "raw_margin", *FEATURES]
    assert table["raw_margin"].tolist() == [1.0, 2.0]
    assert table.loc[0, "max_dpd_now"] == 0.9


def test_unchanged_customers_have_no_changes():
    """Customers with the same grade and proposed limit get no summary and no cause."""
    same = limits(["4", "4"], [0.02, 0.02], [100_000.0, 50_000.0])
    changes, summary = attribute(same, same)
    assert changes.empty
    assert summary.empty
    assert list(changes.columns) == list(CHANGE_COLUMNS)


def test_feature_causes_largest_first():
    """Feature causes follow the size of the contribution move; small moves are left out."""
    before = limits(["4", "4"], [0.02, 0.02], [100_000.0, 50_000.0])
    after = limits(["6", "4"], [0.05, 0.02], [60_000.0, 50_000.0])
    changes, summary = attribute(before, after)
    assert summary["customer_id"].tolist() == ["C0"]
    features = changes[changes["cause_kind"] == "feature"]
    # max_dpd_now moved +1.1, overdue_amount +0.3, debt_to_assets only +0.02.
    assert features["cause"].tolist() == ["max_dpd_now", "overdue_amount"]
    assert features["delta"].tolist() == pytest.approx([1.1, 0.3])
    assert features["text_en"].iloc[0] == "days past due today 0 days → 45 days raised the PD (+1.10 log-odds)"
    assert features["text_zh"].iloc[0] == "当前最长逾期天数由0天变为45天，推高违约概率（对数几率+1.10）"
    assert summary["change_summary_en"].iloc[0].startswith(
        "Grade 4 → 6, PD 2.0 % → 5.0 %, proposed limit CNY 100,000 → CNY 60,000. Causes: days past due")
    assert summary["change_summary_zh"].iloc[0].startswith("等级由4级变为6级")


def test_top_causes_caps_feature_count():
    """At most top_causes features are listed."""
    before = limits(["4", "4"], [0.02, 0.02], [100_000.0, 50_000.0])
    after = limits(["6", "4"], [0.05, 0.02], [60_000.0, 50_000.0])
    one = ExplainParams.from_mapping({**PARAMS.__dict__, "restore_steps": [1.0],
                                      "restore_actions": {"pay_overdue": {"max_dpd_now": 0}}, "top_causes": 1})
    changes, _ = attribute(before, after, params=one)
    assert changes["cause"].tolist() == ["max_dpd_now"]


def test_version_and_need_causes():
    """A model or policy version change comes first; a need move past the threshold is listed."""
    before = limits(["4", "4"], [0.02, 0.02], [100_000.0, 50_000.0], need=(100_000.0, 80_000.0))
    after = limits(["4", "4"], [0.02, 0.02], [100_000.0, 40_000.0], need=(100_000.0, 60_000.0))
    changes, summary = attribute(before, after, versions={"model_version": ("4", "5"),
                                                          "policy_version": ("2026.1", "2026.1")})
    assert changes["customer_id"].unique().tolist() == ["C1"]
    assert changes["cause_kind"].tolist() == ["model_version", "need"]
    assert changes["delta"].iloc[1] == -20_000.0
    assert changes["text_en"].tolist() == [
        "model version 4 → 5", "trading need (recent invoiced volume) CNY 80,000 → CNY 60,000"]
    assert summary["change_summary_en"].iloc[0].startswith("Grade 4 unchanged")


def test_no_cause_past_thresholds_is_stated():
    """A change with no cause past the thresholds states so in both languages."""
    before = limits(["4", "4"], [0.02, 0.02], [100_000.0, 50_000.0])
    after = limits(["4", "4"], [0.02, 0.02], [100_000.0, 49_000.0])
    changes, summary = attribute(before, after)
    assert changes.empty
    assert "no single input moved past the thresholds" in summary["change_summary_en"].iloc[0]
    assert "没有单项输入的变化超过阈值" in summary["change_summary_zh"].iloc[0]
