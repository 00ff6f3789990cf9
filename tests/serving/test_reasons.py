"""Tests of reason codes: value formatting, ranking, texts and the additivity check."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import ModelError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.serving.reasons import ReasonCodes, format_value, reason_codes

FEATURES = ["debt_to_assets", "max_dpd_now", "industry", "invoiced_6m"]


def build(contributions, *, values=None, ids=None, bias=None, margin_shift=None, top_k=3, **kwargs) -> ReasonCodes:
    """Run reason_codes on a small hand-made batch whose margins add up unless shifted."""
    contributions = np.asarray(contributions, dtype=float)
    n_rows = contributions.shape[0]
    bias = np.full(n_rows, -2.0) if bias is None else np.asarray(bias, dtype=float)
    margin = bias + np.nansum(contributions, axis=1)
    if margin_shift is not None:
        margin = margin + np.asarray(margin_shift, dtype=float)
    if values is None:
        values = pd.DataFrame({
            "debt_to_assets": [0.725] * n_rows,
            "max_dpd_now": [45.0] * n_rows,
            "industry": ["retail"] * n_rows,
            "invoiced_6m": [1_234_567.8] * n_rows,
        })
    ids = [f"C{i}" for i in range(n_rows)] if ids is None else ids
    return reason_codes(contributions, bias, margin, FEATURES, values, ids, top_k=top_k, **kwargs)


# ---------------------------------------------------------------- formatting

FORMAT_CASES = [
    (0.725, "percent", "72.5 %", "72.5%"),
    (45.0, "days", "45 days", "45天"),
    (1.0, "days", "1 day", "1天"),
    (12.34, "days", "12.3 days", "12.3天"),
    (7.0, "months", "7 months", "7个月"),
    (1.0, "months", "1 month", "1个月"),
    (1.3456, "ratio", "1.35", "1.35"),
    (12.0, "count", "12", "12"),
    ("retail", "category", "retail", "retail"),
    (np.nan, "percent", "missing", "缺失"),
    (None, "category", "missing", "缺失"),
    (pd.NA, "amount", "missing", "缺失"),
]


@pytest.mark.parametrize(("value", "unit", "english", "chinese"), FORMAT_CASES)
def test_format_value_by_unit_and_locale(value, unit, english, chinese):
    """Each unit is written the documented way in en and zh_CN."""
    assert format_value(value, unit, locale="en") == english
    assert format_value(value, unit, locale="zh_CN") == chinese


def test_format_value_amount_with_currency():
    """Amounts get thousands separators, no decimals and the currency code."""
    assert format_value(1_234_567.8, "amount", locale="en", base_currency="CNY") == "CNY 1,234,568"
    assert format_value(1_234_567.8, "amount", locale="zh_CN", base_currency="CNY") == "CNY 1,234,568"
    assert format_value(-500.0, "amount", locale="en") == "-500"


def test_format_value_rejects_unknown_unit():
    """An unknown unit is a programming error."""
    with pytest.raises(ValueError, match="unit must be one of"):
        format_value(1.0, "kilograms", locale="en")


# ---------------------------------------------------------------- ranking and texts


def test_reason_codes_example_texts():
    """Reason texts name the feature, its formatted value and the effect on the PD."""
    result = build([[0.5, 0.3, 0.2, 0.1]], base_currency="CNY")
    texts = result.explanations.set_index("feature")
    assert texts.loc["debt_to_assets", "text_en"] == "debt to assets is 72.5 %, which raises the PD"
    assert texts.loc["debt_to_assets", "text_zh"] == "资产负债率为72.5%，推高违约概率"
    assert texts.loc["max_dpd_now", "text_en"] == "days past due today is 45 days, which raises the PD"
    assert texts.loc["max_dpd_now", "text_zh"] == "当前最长逾期天数为45天，推高违约概率"
    assert texts.loc["industry", "text_en"] == "industry is retail, which raises the PD"
    assert pd.isna(texts.loc["invoiced_6m", "text_en"])  # rank 4 is past top_k = 3


def test_reason_codes_amount_text_uses_currency():
    """An amount reason shows the base currency and thousands separators."""
    result = build([[0.0, 0.0, 0.0, 0.4]], base_currency="CNY", top_k=1)
    assert result.top.loc[0, "reason_1_en"] == "invoiced in the last 6 months is CNY 1,234,568, which raises the PD"


def test_reason_codes_missing_value_text():
    """A missing value is worded as missing in both languages."""
    values = pd.DataFrame({"debt_to_assets": [np.nan], "max_dpd_now": [0.0], "industry": [None],
                           "invoiced_6m": [0.0]})
    result = build([[0.6, 0.0, 0.3, 0.0]], values=values)
    assert result.top.loc[0, "reason_1_en"] == "debt to assets is missing, which raises the PD"
    assert result.top.loc[0, "reason_1_zh"] == "资产负债率缺失，推高违约概率"
    assert result.top.loc[0, "reason_2_en"] == "industry is missing, which raises the PD"


def test_reason_codes_rank_over_all_features():
    """Rank orders every feature by contribution, largest first, including negatives."""
    result = build([[-0.2, 0.5, 0.1, -0.4]])
    explanations = result.explanations
    assert explanations["feature"].tolist() == ["max_dpd_now", "industry", "debt_to_assets", "invoiced_6m"]
    assert explanations["rank"].tolist() == [1, 2, 3, 4]
    assert explanations["contribution"].tolist() == [0.5, 0.1, -0.2, -0.4]


def test_reason_codes_ties_follow_catalog_order():
    """Equal contributions rank in feature catalog order, whatever the model's column order."""
    result = build([[0.3, 0.3, 0.3, 0.3], [0.1, 0.2, 0.2, 0.1]])
    first = result.explanations[result.explanations["customer_id"] == "C0"]
    second = result.explanations[result.explanations["customer_id"] == "C1"]
    # Catalog order: debt_to_assets, invoiced_6m, max_dpd_now, industry.
    assert first["feature"].tolist() == ["debt_to_assets", "invoiced_6m", "max_dpd_now", "industry"]
    assert second["feature"].tolist() == ["max_dpd_now", "industry", "debt_to_assets", "invoiced_6m"]
    assert result.top.loc[0, "reason_1"] == "debt_to_assets"
    assert result.top.loc[0, "reason_3"] == "max_dpd_now"


def test_reason_codes_ties_outside_catalog_follow_names():
    """Features outside the catalog tie after catalog features, in feature_names order."""
    names = ["zeta_extra", "alpha_extra", "max_dpd_now"]
    values = pd.DataFrame({name: [1.0] for name in names})
    result = reason_codes(np.array([[0.2, 0.2, 0.2]]), np.array([0.0]), np.array([0.6]), names, values,
                          ["C0"], top_k=3)
    assert result.explanations["feature"].tolist() == ["max_dpd_now", "zeta_extra", "alpha_extra"]


def test_reason_codes_only_positive_contributions():
    """A customer with fewer positive contributions than top_k gets fewer reasons."""
    result = build([[0.4, -0.1, 0.0, -0.3], [-0.1, -0.2, -0.3, -0.4]])
    top = result.top
    assert top.loc[0, "reason_1"] == "debt_to_assets"
    assert pd.isna(top.loc[0, "reason_2"])
    assert pd.isna(top.loc[0, "reason_2_en"])
    assert top[["reason_1", "reason_2", "reason_3"]].iloc[1].isna().all()
    reasons = result.explanations["text_en"].notna()
    assert reasons.sum() == 1


def test_reason_codes_top_frame_layout():
    """The wide frame has customer_id, three columns per reason and additivity_ok."""
    result = build([[0.5, 0.3, 0.2, 0.1]], top_k=2)
    assert list(result.top.columns) == [
        "customer_id", "reason_1", "reason_1_zh", "reason_1_en",
        "reason_2", "reason_2_zh", "reason_2_en", "additivity_ok",
    ]
    assert result.top.loc[0, "reason_2"] == "max_dpd_now"


def test_reason_codes_top_k_larger_than_features():
    """top_k above the number of features leaves the extra reasons empty."""
    result = build([[0.5, 0.3, 0.2, 0.1]], top_k=6)
    assert result.top.loc[0, "reason_4"] == "invoiced_6m"
    assert pd.isna(result.top.loc[0, "reason_6"])


def test_reason_codes_explanations_layout():
    """The long frame has one row per customer and feature with the documented columns."""
    result = build([[0.5, 0.3, 0.2, 0.1], [0.1, 0.1, 0.1, 0.1]], bias=[-2.0, -1.5])
    explanations = result.explanations
    assert list(explanations.columns) == [
        "customer_id", "feature", "value", "value_category", "contribution", "rank",
        "base_value", "text_zh", "text_en", "additivity_ok",
    ]
    assert len(explanations) == 8
    assert explanations["customer_id"].tolist() == ["C0"] * 4 + ["C1"] * 4
    assert explanations["base_value"].tolist() == [-2.0] * 4 + [-1.5] * 4
    industry = explanations[explanations["feature"] == "industry"].iloc[0]
    assert industry["value_category"] == "retail"
    assert np.isnan(industry["value"])
    debt = explanations[explanations["feature"] == "debt_to_assets"].iloc[0]
    assert debt["value"] == 0.725
    assert pd.isna(debt["value_category"])


def test_reason_codes_values_matched_by_position():
    """Feature values are matched to rows by position, not by index label."""
    values = pd.DataFrame({"debt_to_assets": [0.1, 0.9], "max_dpd_now": [0.0, 0.0],
                           "industry": ["a", "b"], "invoiced_6m": [0.0, 0.0]}, index=[7, 3])
    result = build([[0.5, 0, 0, 0], [0.5, 0, 0, 0]], values=values)
    assert result.top["reason_1_en"].tolist() == [
        "debt to assets is 10.0 %, which raises the PD",
        "debt to assets is 90.0 %, which raises the PD",
    ]


def test_reason_codes_unknown_feature_uses_its_name():
    """A feature outside the catalog is labelled with its name and formatted by dtype."""
    values = pd.DataFrame({"altman_z": [1.8], "sector": ["mining"]})
    result = reason_codes(np.array([[0.4, 0.2]]), np.array([0.0]), np.array([0.6]),
                          ["altman_z", "sector"], values, ["X"], top_k=2)
    assert result.top.loc[0, "reason_1_en"] == "altman_z is 1.80, which raises the PD"
    assert result.top.loc[0, "reason_2_zh"] == "sector为mining，推高违约概率"


# ---------------------------------------------------------------- additivity


def test_reason_codes_additivity_failure_is_marked(caplog):
    """A row whose contributions miss its margin keeps its reasons, marked, with a warning."""
    with caplog.at_level(logging.WARNING, logger="creditlimit.serving.reasons"):
        result = build([[0.5, 0.3, 0.2, 0.1], [0.5, 0.3, 0.2, 0.1]], margin_shift=[0.0, 0.01])
    assert result.top["additivity_ok"].tolist() == [True, False]
    assert result.top.loc[1, "reason_1"] == "debt_to_assets"
    second = result.explanations[result.explanations["customer_id"] == "C1"]
    assert not second["additivity_ok"].any()
    assert "1 of 2 rows fail SHAP additivity" in caplog.text
    assert "C1" in caplog.text


def test_reason_codes_additivity_tolerance():
    """A gap within the tolerance passes, one just above fails."""
    within = build([[0.5, 0.3, 0.2, 0.1]], margin_shift=[5e-7])
    assert within.top.loc[0, "additivity_ok"]
    above = build([[0.5, 0.3, 0.2, 0.1]], margin_shift=[2e-6])
    assert not above.top.loc[0, "additivity_ok"]
    loose = build([[0.5, 0.3, 0.2, 0.1]], margin_shift=[2e-6], tolerance=1e-5)
    assert loose.top.loc[0, "additivity_ok"]


def test_reason_codes_nan_contribution_fails_additivity():
    """A NaN contribution ranks last and marks the row as failing additivity."""
    result = build([[np.nan, 0.3, 0.2, 0.1]])
    assert not result.top.loc[0, "additivity_ok"]
    assert result.explanations["feature"].tolist()[-1] == "debt_to_assets"
    assert result.top.loc[0, "reason_1"] == "max_dpd_now"


def test_reason_codes_lightgbm_contributions_add_up():
    """Contributions from a real LightGBM booster reconstruct its raw margin."""
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(7)
    features = pd.DataFrame({
        "debt_to_assets": rng.uniform(0, 1, 400),
        "max_dpd_now": rng.integers(0, 120, 400).astype(float),
        "current_ratio": rng.uniform(0.2, 3, 400),
    })
    logit = 3 * features["debt_to_assets"] + features["max_dpd_now"] / 40 - 3
    target = (rng.uniform(size=400) < 1 / (1 + np.exp(-logit))).astype(int)
    model = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1).fit(features, target)
    output = model.booster_.predict(features, pred_contrib=True)
    margin = model.booster_.predict(features, raw_score=True)
    assert output.shape == (400, 4)

    result = reason_codes(output[:, :-1], output[:, -1], margin, list(features.columns), features,
                          [f"C{i}" for i in range(400)], top_k=3)
    assert result.top["additivity_ok"].all()
    assert len(result.explanations) == 1200


# ---------------------------------------------------------------- input checks


def test_reason_codes_rejects_shape_mismatch():
    """Mismatched shapes raise ModelError naming the array, in en and zh_CN."""
    values = pd.DataFrame({name: [0.0] for name in FEATURES})
    with pytest.raises(ModelError, match=r"contributions has shape \(1, 3\), expected \(n_customers, 4\)"):
        reason_codes(np.zeros((1, 3)), np.zeros(1), np.zeros(1), FEATURES, values, ["C0"], top_k=3)
    with pytest.raises(ModelError, match=r"bias has shape \(2,\), expected \(1,\)"):
        reason_codes(np.zeros((1, 4)), np.zeros(2), np.zeros(1), FEATURES, values, ["C0"], top_k=3)
    with use_locale("zh_CN"), pytest.raises(ModelError, match=r"customer_ids的形状为\(2,\)，应为\(1,\)"):
        reason_codes(np.zeros((1, 4)), np.zeros(1), np.zeros(1), FEATURES, values, ["C0", "C1"], top_k=3)


def test_reason_codes_rejects_missing_and_repeated_features():
    """A feature without values, or named twice, raises ModelError."""
    values = pd.DataFrame({name: [0.0] for name in FEATURES[:3]})
    with pytest.raises(ModelError, match=r"lacks the model features \['invoiced_6m'\]"):
        reason_codes(np.zeros((1, 4)), np.zeros(1), np.zeros(1), FEATURES, values, ["C0"], top_k=3)
    repeated = ["debt_to_assets", "debt_to_assets"]
    with use_locale("zh_CN"), pytest.raises(ModelError, match=r"feature_names 中 \['debt_to_assets'\] 重复"):
        reason_codes(np.zeros((1, 2)), np.zeros(1), np.zeros(1), repeated, values, ["C0"], top_k=3)


@pytest.mark.parametrize("top_k", [0, -1, 1.5, True])
def test_reason_codes_rejects_invalid_top_k(top_k):
    """top_k must be a whole number of at least 1."""
    with pytest.raises(ParamsError, match=r"score\.top_reasons: it must be a whole number of at least 1"):
        build([[0.1, 0.1, 0.1, 0.1]], top_k=top_k)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"参数 score\.top_reasons 无效"):
        build([[0.1, 0.1, 0.1, 0.1]], top_k=top_k)


def test_reason_codes_rejects_negative_tolerance():
    """A negative or NaN tolerance is rejected."""
    for tolerance in (-1e-6, float("nan")):
        with pytest.raises(ParamsError, match="additivity tolerance"):
            build([[0.1, 0.1, 0.1, 0.1]], tolerance=tolerance)
