"""Tests for creditlimit.models.metrics: hand-computed values, undefined metrics, JSON output."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta
from sklearn.metrics import roc_auc_score

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.metrics import (
    MetricValue,
    auc,
    brier,
    default_rate_by_grade,
    evaluate,
    evaluate_by_segment,
    expected_calibration_error,
    gini,
    grade_calibration_test,
    ks,
    log_loss,
)

# Six rows with ties across classes: goods score 0.1, 0.2, 0.3; bads 0.2, 0.3, 0.4.
TIED_Y = [0, 0, 1, 0, 1, 1]
TIED_SCORE = [0.1, 0.2, 0.2, 0.3, 0.3, 0.4]


def test_ks_groups_tied_scores():
    """KS on the six-row example is 1/3 when ties are grouped (2/3 row by row)."""
    # Cumulative shares at the distinct scores 0.1, 0.2, 0.3, 0.4:
    # goods 1/3, 2/3, 1, 1 and bads 0, 1/3, 2/3, 1, so the maximum gap is 1/3.
    # Walking row by row with the good first inside a tie would reach 2/3 at 0.2.
    assert ks(TIED_Y, TIED_SCORE).value == pytest.approx(1 / 3, abs=1e-12)


def test_ks_ignores_row_order_within_ties():
    """Reordering tied rows does not change KS."""
    order = [5, 2, 1, 4, 3, 0]
    y = np.asarray(TIED_Y)[order]
    score = np.asarray(TIED_SCORE)[order]
    assert ks(y, score).value == pytest.approx(1 / 3, abs=1e-12)


def test_ks_perfect_separation_is_one():
    """KS is 1 when every bad scores above every good."""
    assert ks([0, 0, 1, 1], [1.0, 2.0, 3.0, 4.0]).value == pytest.approx(1.0)


def test_auc_hand_computed_with_ties():
    """AUC on the six-row example is 7/9, ties counting one half."""
    # Bad 0.2 beats 1 good and ties 1 (1.5), bad 0.3 beats 2 and ties 1 (2.5),
    # bad 0.4 beats 3: (1.5 + 2.5 + 3) / 9.
    assert auc(TIED_Y, TIED_SCORE).value == pytest.approx(7 / 9, abs=1e-12)


def test_auc_matches_scikit_learn():
    """AUC equals scikit-learn's roc_auc_score on a random sample with many ties."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 2000)
    score = rng.integers(0, 30, 2000) + 3 * y
    assert auc(y, score).value == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_gini_is_twice_auc_minus_one():
    """Gini equals 2 * AUC - 1."""
    assert gini(TIED_Y, TIED_SCORE).value == pytest.approx(2 * 7 / 9 - 1, abs=1e-12)


@pytest.mark.parametrize("metric", [auc, gini, ks])
def test_metric_one_class_is_undefined(metric):
    """With goods only, AUC, Gini and KS are undefined with a reason, never 0."""
    result = metric([0, 0, 0], [0.1, 0.2, 0.3])
    assert result.value is None
    assert not result.defined
    assert result.reason == "undefined: one class (3 goods, 0 bads)"
    assert np.isnan(float(result))


def test_metric_bads_only_reason_counts_bads():
    """With bads only, the reason counts 0 goods and the bads."""
    assert auc([1, 1], [0.5, 0.6]).reason == "undefined: one class (0 goods, 2 bads)"


def test_metric_reason_in_chinese():
    """The undefined reason renders in zh_CN."""
    result = ks([1, 1], [0.5, 0.6])
    assert result.reason_text("zh_CN") == "未定义：只有一个类别（0 个正常，2 个违约）"
    with use_locale("zh_CN"):
        assert result.reason_text() == "未定义：只有一个类别（0 个正常，2 个违约）"


def test_brier_hand_computed():
    """Brier of PDs 0.2 (good) and 0.6 (bad) is (0.04 + 0.16) / 2."""
    assert brier([0, 1], [0.2, 0.6]).value == pytest.approx(0.1)


def test_brier_no_rows_is_undefined():
    """Brier on an empty sample is undefined."""
    result = brier([], [])
    assert result.value is None
    assert result.reason == "undefined: no rows"


def test_expected_calibration_error_hand_computed():
    """ECE with two equal-frequency bins matches the hand computation."""
    # Quantile edges 0.1, 0.25, 0.5: bin 1 = {0.1, 0.2} observed 0.5, mean PD 0.15;
    # bin 2 = {0.3, 0.5} observed 0.5, mean PD 0.4. ECE = 0.5 * 0.35 + 0.5 * 0.1.
    result = expected_calibration_error([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.5], n_bins=2)
    assert result.value == pytest.approx(0.225)


def test_expected_calibration_error_keeps_ties_in_one_bin():
    """Identical PDs share one bin, so ECE is |default rate - PD|."""
    result = expected_calibration_error([0, 0, 0, 1], [0.1] * 4, n_bins=10)
    assert result.value == pytest.approx(0.15)


def test_expected_calibration_error_uniform_bins():
    """Equal-width bins over [0, 1] group PDs by value range."""
    # Bins [0, 0.5) and [0.5, 1]: {0.1, 0.2} observed 0 vs 0.15; {0.8} observed 1 vs 0.8.
    result = expected_calibration_error(
        [0, 0, 1], [0.1, 0.2, 0.8], n_bins=2, strategy="uniform"
    )
    assert result.value == pytest.approx(2 / 3 * 0.15 + 1 / 3 * 0.2)


def test_expected_calibration_error_rejects_bad_binning():
    """An invalid bin count or strategy raises a message naming the value."""
    with pytest.raises(InputDataError, match=r"n_bins must be an integer >= 1; got 0"):
        expected_calibration_error([0, 1], [0.1, 0.2], n_bins=0)
    with pytest.raises(InputDataError, match=r"strategy must be 'quantile' or 'uniform'"):
        expected_calibration_error([0, 1], [0.1, 0.2], strategy="kmeans")


def test_evaluate_is_json_safe_with_undefined_metrics():
    """evaluate returns plain JSON: undefined metrics are null and carry a reason."""
    result = evaluate([0, 0, 0, 0], [0.1, 0.2, 0.1, 0.3], [1.0, 2.0, 3.0, 4.0])
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text) == result
    assert result["auc"] is None
    assert result["gini"] is None
    assert result["ks"] is None
    assert result["undefined"]["auc"] == "undefined: one class (4 goods, 0 bads)"
    assert result["brier"] == pytest.approx((0.01 + 0.04 + 0.01 + 0.09) / 4)
    assert result["n_rows"] == 4
    assert result["n_bads"] == 0


def test_evaluate_ranks_by_score_calibrates_by_pd():
    """AUC comes from the score and Brier from the PD, even when they disagree."""
    y = [0, 0, 1, 1]
    pd_values = [0.5, 0.5, 0.5, 0.5]  # a flat PD cannot rank
    score = [1.0, 2.0, 3.0, 4.0]
    result = evaluate(y, pd_values, score)
    assert result["auc"] == pytest.approx(1.0)
    assert result["brier"] == pytest.approx(0.25)
    assert result["undefined"] == {}
    assert all(type(result[name]) is float for name in ("auc", "gini", "ks", "brier", "ece"))


def test_default_rate_by_grade_includes_empty_grades():
    """Rates per grade are counted, and a grade with no rows has NaN rates."""
    table = default_rate_by_grade(
        [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.5], ["1", "1", "3", "D"], grade_order=["1", "2", "3", "D"]
    )
    assert table["grade"].tolist() == ["1", "2", "3", "D"]
    assert table["n_rows"].tolist() == [2, 0, 1, 1]
    assert table["n_bads"].tolist() == [1, 0, 0, 1]
    assert table["observed_default_rate"].iloc[0] == pytest.approx(0.5)
    assert np.isnan(table["observed_default_rate"].iloc[1])
    assert np.isnan(table["mean_pd"].iloc[1])
    assert table["mean_pd"].iloc[0] == pytest.approx(0.15)


def test_default_rate_by_grade_orders_grades_numerically():
    """Without an order, numeric grades sort as numbers and D comes last."""
    table = default_rate_by_grade([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.5], ["10", "2", "D", "1"])
    assert table["grade"].tolist() == ["1", "2", "10", "D"]


@pytest.mark.parametrize(
    ("locale", "message"),
    [("en", r"only 0 and 1 .* 1 invalid values \(first: 2\)"), ("zh_CN", r"只能取 0 或 1")],
)
def test_metrics_reject_invalid_outcome(locale, message):
    """An outcome other than 0/1 raises in both locales."""
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        auc([0, 1, 2], [0.1, 0.2, 0.3])


def test_metrics_reject_missing_outcome():
    """A missing outcome is invalid, not counted as good."""
    with pytest.raises(InputDataError, match=r"1 invalid values"):
        brier([0, None, 1], [0.1, 0.2, 0.3])


def test_metrics_reject_missing_score():
    """A missing score raises instead of being dropped."""
    with pytest.raises(InputDataError, match=r"score must be finite .* 1 invalid values"):
        ks([0, 1, 1], [0.1, np.nan, 0.3])


def test_metrics_reject_pd_outside_unit_interval():
    """A PD above 1 raises."""
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"pd 必须位于 \[0, 1\]"):
        brier([0, 1], [0.1, 1.2])


def test_metrics_reject_length_mismatch():
    """Inputs of different lengths raise, naming both lengths."""
    with pytest.raises(InputDataError, match=r"score has 2 values but y has 3"):
        auc([0, 1, 1], [0.1, 0.2])


def test_metric_value_wraps_plain_float():
    """MetricValue.of stores a Python float, not a NumPy scalar."""
    value = MetricValue.of(np.float64(0.5))
    assert type(value.value) is float
    assert value.defined
    assert value.reason is None


def test_log_loss_hand_computed():
    """Log loss of PDs 0.2 (good) and 0.6 (bad) is -(ln 0.8 + ln 0.6) / 2."""
    result = log_loss([0, 1], [0.2, 0.6])
    assert result.value == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, abs=1e-12)


def test_log_loss_clips_certain_wrong_pd():
    """A PD of 0 for a bad costs -ln(eps) instead of an infinite loss."""
    result = log_loss([1, 0], [0.0, 0.0], eps=1e-6)
    # The bad's PD becomes 1e-6 and the good's PD also becomes 1e-6 (likelihood 1 - 1e-6).
    expected = -(math.log(1e-6) + math.log(1 - 1e-6)) / 2
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(result.value)


def test_log_loss_no_rows_is_undefined():
    """Log loss on an empty sample is undefined."""
    result = log_loss([], [])
    assert result.value is None
    assert result.reason == "undefined: no rows"


@pytest.mark.parametrize(
    ("locale", "message"),
    [("en", r"eps must be a number with 0 < eps < 0\.5; got 0\.7"), ("zh_CN", r"eps 必须是满足")],
)
def test_log_loss_rejects_invalid_eps(locale, message):
    """An eps outside (0, 0.5) raises ParamsError in both locales."""
    with use_locale(locale), pytest.raises(ParamsError, match=message):
        log_loss([0, 1], [0.1, 0.2], eps=0.7)


def test_evaluate_reports_log_loss():
    """evaluate includes the log loss of the PD."""
    result = evaluate([0, 1], [0.2, 0.6], [1.0, 2.0])
    assert result["log_loss"] == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    assert type(result["log_loss"]) is float


# Grade 1: 4 rows, 2 bads, PD 0.25. Grade 2: 10 rows, 3 bads, PD 0.1.
# Grade 3: 10 rows, 3 bads, PD 0.05. Grade 4 is listed but has no rows.
GRADE_Y = [1, 1, 0, 0] + [1, 1, 1] + [0] * 7 + [1, 1, 1] + [0] * 7
GRADE_PD = [0.25] * 4 + [0.1] * 10 + [0.05] * 10
GRADE_LABELS = ["1"] * 4 + ["2"] * 10 + ["3"] * 10


def _grade_test_table():
    return grade_calibration_test(
        GRADE_Y, GRADE_PD, GRADE_LABELS, grade_order=["1", "2", "3", "4"]
    )


def test_grade_calibration_test_jeffreys_interval_matches_scipy():
    """The interval is the Beta(d + 0.5, n - d + 0.5) 2.5 % and 97.5 % quantiles."""
    table = _grade_test_table()
    expected_lower = beta.ppf(0.025, [2.5, 3.5, 3.5], [2.5, 7.5, 7.5])
    expected_upper = beta.ppf(0.975, [2.5, 3.5, 3.5], [2.5, 7.5, 7.5])
    assert table["interval_lower"].iloc[:3].to_numpy() == pytest.approx(expected_lower, abs=1e-12)
    assert table["interval_upper"].iloc[:3].to_numpy() == pytest.approx(expected_upper, abs=1e-12)
    # Values from scipy 1.17.1 for Beta(3.5, 7.5), kept to catch a change of method.
    assert table["interval_lower"].iloc[1] == pytest.approx(0.09269459, abs=1e-8)
    assert table["interval_upper"].iloc[1] == pytest.approx(0.60581832, abs=1e-8)


def test_grade_calibration_test_flags_mean_pd_outside():
    """Mean PD 0.05 lies below grade 3's interval, 0.1 and 0.25 lie inside theirs."""
    table = _grade_test_table()
    assert bool(table["mean_pd_in_interval"].iloc[0])
    assert bool(table["mean_pd_in_interval"].iloc[1])
    assert not bool(table["mean_pd_in_interval"].iloc[2])
    assert table["mean_pd_in_interval"].dtype == "boolean"


def test_grade_calibration_test_binomial_p_value_hand_computed():
    """The p-value is P(X >= d) for X ~ Binomial(n, mean PD)."""
    table = _grade_test_table()
    # Grade 1: 1 - P(X = 0) - P(X = 1) with n = 4, p = 0.25.
    grade_1 = 1 - 0.75**4 - 4 * 0.25 * 0.75**3
    assert grade_1 == pytest.approx(0.26171875)
    assert table["p_value_above"].iloc[0] == pytest.approx(grade_1, abs=1e-12)
    # Grade 3: 1 - P(X <= 2) with n = 10, p = 0.05.
    grade_3 = 1 - sum(math.comb(10, k) * 0.05**k * 0.95 ** (10 - k) for k in range(3))
    assert table["p_value_above"].iloc[2] == pytest.approx(grade_3, abs=1e-12)


def test_grade_calibration_test_empty_grade_is_missing():
    """A grade with no rows has counts of 0 and missing test values."""
    row = _grade_test_table().iloc[3]
    assert row["grade"] == "4"
    assert row["n_rows"] == 0
    assert np.isnan(row["interval_lower"])
    assert np.isnan(row["interval_upper"])
    assert row["mean_pd_in_interval"] is pd.NA
    assert np.isnan(row["p_value_above"])


def test_grade_calibration_test_alpha_sets_level():
    """alpha = 0.10 gives the 5 % and 95 % quantiles."""
    table = grade_calibration_test([1, 0, 0, 0], [0.2] * 4, ["1"] * 4, alpha=0.10)
    assert table["interval_lower"].iloc[0] == pytest.approx(beta.ppf(0.05, 1.5, 3.5))
    assert table["interval_upper"].iloc[0] == pytest.approx(beta.ppf(0.95, 1.5, 3.5))


@pytest.mark.parametrize(
    ("locale", "keyword", "message"),
    [
        ("en", {"method": "wilson"}, r"method must be 'jeffreys'; got 'wilson'"),
        ("zh_CN", {"method": "wilson"}, r"method 必须是 'jeffreys'"),
        ("en", {"alpha": 1.5}, r"alpha must be a number with 0 < alpha < 1"),
        ("zh_CN", {"alpha": 0}, r"alpha 必须是满足 0 < alpha < 1"),
    ],
)
def test_grade_calibration_test_rejects_invalid_parameters(locale, keyword, message):
    """An unknown method or an alpha outside (0, 1) raises ParamsError in both locales."""
    with use_locale(locale), pytest.raises(ParamsError, match=message):
        grade_calibration_test([0, 1], [0.1, 0.2], ["1", "1"], **keyword)


SEGMENT_FRAME = pd.DataFrame({
    "is_bad": [0, 1, 0, 1, 0, 0, 1],
    "pd": [0.1, 0.6, 0.2, 0.7, 0.1, 0.3, 0.5],
    "margin": [-2.0, 1.0, -1.0, 2.0, -2.5, -0.5, 0.5],
    "industry": ["retail", "retail", "retail", "retail", "services", "services", None],
})


def _segment_table():
    return evaluate_by_segment(
        SEGMENT_FRAME, y="is_bad", pd_column="pd", score_column="margin",
        segment_columns=["industry"],
    )


def test_evaluate_by_segment_one_row_per_value():
    """Each segment value gets one row, the missing segment last as None."""
    table = _segment_table()
    assert table["segment_column"].tolist() == ["industry"] * 3
    assert table["segment_value"].tolist() == ["retail", "services", None]
    assert table["n_rows"].tolist() == [4, 2, 1]
    assert table["n_bads"].tolist() == [2, 0, 1]


def test_evaluate_by_segment_matches_evaluate():
    """A segment's metrics equal evaluate on that segment's rows."""
    retail = SEGMENT_FRAME.iloc[:4]
    expected = evaluate(retail["is_bad"], retail["pd"], retail["margin"])
    row = _segment_table().iloc[0]
    for name, value in expected.items():
        assert row[name] == value, name
    assert row["auc"] == pytest.approx(1.0)


def test_evaluate_by_segment_one_class_is_undefined():
    """A segment with goods only reports AUC, Gini and KS as None with the reason."""
    row = _segment_table().iloc[1]
    assert row["auc"] is None
    assert row["gini"] is None
    assert row["ks"] is None
    assert row["undefined"]["auc"] == "undefined: one class (2 goods, 0 bads)"
    assert row["brier"] == pytest.approx((0.01 + 0.09) / 2)


def test_evaluate_by_segment_is_json_safe():
    """The rows convert to strict JSON with undefined metrics as null."""
    records = _segment_table().to_dict(orient="records")
    text = json.dumps(records, allow_nan=False)
    assert json.loads(text)[1]["auc"] is None


def test_evaluate_by_segment_several_columns():
    """Two segment columns give their rows one after the other, not crossed."""
    frame = SEGMENT_FRAME.assign(size_class=["small"] * 7)
    table = evaluate_by_segment(
        frame, y="is_bad", pd_column="pd", score_column="margin",
        segment_columns=["industry", "size_class"],
    )
    assert table["segment_column"].tolist() == ["industry"] * 3 + ["size_class"]
    assert table["n_rows"].iloc[3] == 7


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"Column 'region' named by segment_columns is missing from the frame"),
        ("zh_CN", r"参数 segment_columns 指定的列“region”不在数据表中"),
    ],
)
def test_evaluate_by_segment_rejects_missing_column(locale, message):
    """A segment column absent from the frame raises in both locales."""
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        evaluate_by_segment(
            SEGMENT_FRAME, y="is_bad", pd_column="pd", score_column="margin",
            segment_columns=["region"],
        )
