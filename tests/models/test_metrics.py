"""Tests for creditlimit.models.metrics: hand-computed values, undefined metrics, JSON output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from creditlimit.errors import InputDataError
from creditlimit.i18n import use_locale
from creditlimit.models.metrics import (
    MetricValue,
    auc,
    brier,
    default_rate_by_grade,
    evaluate,
    expected_calibration_error,
    gini,
    ks,
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
