"""Tests for creditlimit.models.calibration: Platt and isotonic fits, choice, JSON, warnings."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from creditlimit.errors import InputDataError, ModelError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.calibration import (
    TIE_BREAK_WEIGHT,
    CalibrationWarning,
    Calibrator,
    FewPositivesWarning,
    choose_calibrator,
    fit_calibrator,
)


def logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture(scope="module")
def logistic_sample():
    """20,000 margins whose true PD is logistic(0.8 * margin - 0.5): about 1,500 bads."""
    rng = np.random.default_rng(11)
    margin = rng.normal(-3.0, 1.2, 20_000)
    y = (rng.random(margin.size) < logistic(0.8 * margin - 0.5)).astype(int)
    return margin, y


@pytest.fixture(scope="module")
def step_sample():
    """Margins whose true PD jumps from 2 % to 40 % at 0, a shape no sigmoid follows."""
    rng = np.random.default_rng(12)
    margin = rng.normal(-1.0, 1.0, 10_000)
    y = (rng.random(margin.size) < np.where(margin < 0.0, 0.02, 0.40)).astype(int)
    return margin, y


def test_sigmoid_recovers_true_parameters(logistic_sample):
    """Platt scaling on a large logistic sample recovers slope 0.8 and intercept -0.5."""
    calibrator = fit_calibrator(*logistic_sample, method="sigmoid")
    assert calibrator.method == "sigmoid"
    assert calibrator.slope == pytest.approx(0.8, abs=0.08)
    assert calibrator.intercept == pytest.approx(-0.5, abs=0.25)


def test_sigmoid_solves_the_platt_likelihood(logistic_sample):
    """At the fitted parameters the gradient of the Platt log loss is zero."""
    margin, y = logistic_sample
    calibrator = fit_calibrator(margin, y, method="sigmoid")
    n_bads = y.sum()
    n_goods = y.size - n_bads
    target = np.where(y == 1, (n_bads + 1) / (n_bads + 2), 1 / (n_goods + 2))
    residual = calibrator.predict(margin) - target
    assert abs(np.sum(residual * margin)) < 1e-6 * y.size
    assert abs(np.sum(residual)) < 1e-6 * y.size


def test_isotonic_follows_scikit_learn(step_sample):
    """Isotonic PDs equal scikit-learn's IsotonicRegression up to the tie-break weight."""
    margin, y = step_sample
    calibrator = fit_calibrator(margin, y, method="isotonic")
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margin, y)
    grid = np.linspace(-6.0, 4.0, 2001)
    gap = np.abs(calibrator.predict(grid) - reference.predict(grid))
    assert gap.max() <= 2 * TIE_BREAK_WEIGHT


def test_isotonic_is_strictly_increasing_even_on_plateaus(step_sample):
    """A higher margin always gets a strictly higher PD, inside and outside the fitted range."""
    calibrator = fit_calibrator(*step_sample, method="isotonic")
    grid = np.linspace(-12.0, 8.0, 200_001)
    pd_values = calibrator.predict(grid)
    assert np.all(np.diff(pd_values) > 0.0)
    assert pd_values.min() >= 0.0
    assert pd_values.max() <= 1.0


def test_isotonic_tie_break_separates_plateau_members(step_sample):
    """Two margins on one isotonic plateau get different PDs in margin order."""
    calibrator = fit_calibrator(*step_sample, method="isotonic")
    knots_x = np.asarray(calibrator.x_thresholds)
    knots_y = np.asarray(calibrator.y_thresholds)
    flat = np.flatnonzero((np.diff(knots_y) == 0.0) & (np.diff(knots_x) > 0.1))
    assert flat.size > 0, "the step sample should produce at least one wide plateau"
    start, end = knots_x[flat[0]], knots_x[flat[0] + 1]
    low, high = calibrator.predict([start + 0.25 * (end - start), start + 0.75 * (end - start)])
    assert high > low
    assert high - low < TIE_BREAK_WEIGHT


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrator_handles_extreme_margins(step_sample, method):
    """Margins far outside the fitted range still give finite PDs in [0, 1], in order."""
    calibrator = fit_calibrator(*step_sample, method=method)
    pd_values = calibrator.predict([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    assert np.all(np.isfinite(pd_values))
    assert np.all((pd_values >= 0.0) & (pd_values <= 1.0))
    assert np.all(np.diff(pd_values) >= 0.0)


def test_choose_auto_picks_lower_out_of_fold_brier(step_sample):
    """auto reports both out-of-fold Brier scores and keeps the lower one (isotonic for a step)."""
    calibrator = choose_calibrator(*step_sample, method="auto", seed=3)
    assert set(calibrator.selection_brier) == {"isotonic", "sigmoid"}
    assert calibrator.selection_brier["isotonic"] < calibrator.selection_brier["sigmoid"]
    assert calibrator.method == "isotonic"
    assert calibrator.n_rows == 10_000


def test_choose_auto_refits_on_all_validation(step_sample):
    """The chosen calibrator is fitted on every validation row, not on one fold."""
    chosen = choose_calibrator(*step_sample, method="auto", seed=3)
    direct = fit_calibrator(*step_sample, method=chosen.method)
    grid = np.linspace(-4.0, 3.0, 101)
    np.testing.assert_array_equal(chosen.predict(grid), direct.predict(grid))


def test_choose_auto_is_deterministic(logistic_sample):
    """The same seed gives the same choice and the same out-of-fold scores."""
    first = choose_calibrator(*logistic_sample, method="auto", seed=5)
    second = choose_calibrator(*logistic_sample, method="auto", seed=5)
    assert first == second


def test_choose_given_method_skips_selection(logistic_sample):
    """An explicit method is fitted directly and records no selection scores."""
    calibrator = choose_calibrator(*logistic_sample, method="isotonic")
    assert calibrator.method == "isotonic"
    assert dict(calibrator.selection_brier) == {}


def test_few_positives_warns_and_auto_uses_sigmoid():
    """With fewer than 50 bads, auto warns and picks sigmoid without comparing."""
    rng = np.random.default_rng(4)
    margin = rng.normal(size=400)
    y = np.zeros(400, dtype=int)
    y[np.argsort(margin)[-20:]] = 1
    with pytest.warns(FewPositivesWarning, match=r"only 20 bads \(fewer than 50\); the sigmoid"):
        calibrator = choose_calibrator(margin, y, method="auto")
    assert calibrator.method == "sigmoid"
    assert dict(calibrator.selection_brier) == {}


def test_few_positives_warns_for_explicit_isotonic():
    """An explicit isotonic choice on few bads is kept but warned about, in zh_CN too."""
    margin = np.linspace(-3, 3, 200)
    y = (margin > 2.5).astype(int)
    with use_locale("zh_CN"), pytest.warns(FewPositivesWarning, match=r"验证集只有 \d+ 个违约样本"):
        calibrator = choose_calibrator(margin, y, method="isotonic")
    assert calibrator.method == "isotonic"


def test_enough_positives_does_not_warn(logistic_sample):
    """With enough bads no calibration warning is raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        choose_calibrator(*logistic_sample, method="auto")


def test_negative_slope_warns_and_flattens():
    """Margins that rank backwards give a flat PD at the validation default rate, with a warning."""
    rng = np.random.default_rng(8)
    margin = rng.normal(size=5000)
    y = (rng.random(5000) < logistic(-1.5 * margin - 2.0)).astype(int)
    with pytest.warns(CalibrationWarning, match=r"slope of -\d"):
        calibrator = fit_calibrator(margin, y, method="sigmoid")
    assert calibrator.slope == 0.0
    pd_values = calibrator.predict([-2.0, 0.0, 2.0])
    assert np.ptp(pd_values) == 0.0
    assert pd_values[0] == pytest.approx(y.mean(), rel=0.01)


def test_calibration_improves_brier_of_a_shifted_margin(logistic_sample):
    """Calibrating a margin that overstates risk lowers the Brier score."""
    margin, y = logistic_sample
    shifted = margin + 1.5
    calibrator = choose_calibrator(shifted, y, method="auto")
    raw_brier = np.mean((logistic(shifted) - y) ** 2)
    calibrated_brier = np.mean((calibrator.predict(shifted) - y) ** 2)
    assert calibrated_brier < raw_brier


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrator_json_round_trip(step_sample, method):
    """to_dict is plain JSON (no pickle) and from_dict predicts identically."""
    calibrator = choose_calibrator(*step_sample, method=method)
    restored = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict(), allow_nan=False)))
    grid = np.linspace(-5, 5, 1001)
    np.testing.assert_array_equal(restored.predict(grid), calibrator.predict(grid))
    assert restored.method == method


def test_calibrator_from_dict_rejects_decreasing_knots(step_sample):
    """Stored isotonic knots that decrease are rejected."""
    data = fit_calibrator(*step_sample, method="isotonic").to_dict()
    data["y_thresholds"] = list(reversed(data["y_thresholds"]))
    with pytest.raises(ModelError, match=r"Stored calibrator is invalid: isotonic knots decrease"):
        Calibrator.from_dict(data)


def test_calibrator_from_dict_rejects_missing_field(logistic_sample):
    """A stored calibrator missing a field raises ModelError in zh_CN too."""
    data = fit_calibrator(*logistic_sample, method="sigmoid").to_dict()
    del data["slope"]
    with use_locale("zh_CN"), pytest.raises(ModelError, match=r"模型中保存的校准器无效"):
        Calibrator.from_dict(data)


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"train.calibration must be one of auto, isotonic, sigmoid; got 'platt'"),
        ("zh_CN", r"train.calibration 必须是 auto, isotonic, sigmoid 之一；实际为 'platt'"),
    ],
)
def test_choose_rejects_unknown_method(logistic_sample, locale, message):
    """An unknown method raises ParamsError in both locales."""
    with use_locale(locale), pytest.raises(ParamsError, match=message):
        choose_calibrator(*logistic_sample, method="platt")


def test_calibration_needs_both_classes():
    """Validation with goods only cannot be calibrated."""
    with pytest.raises(InputDataError, match=r"got 0 bads and 3 goods"):
        choose_calibrator([0.1, 0.2, 0.3], [0, 0, 0])


def test_calibration_rejects_non_finite_margin():
    """A NaN margin in validation raises."""
    with pytest.raises(InputDataError, match=r"a margin is not finite"):
        fit_calibrator([0.1, np.nan, 0.3, 0.4], [0, 1, 0, 1], method="sigmoid")


def test_predict_rejects_missing_margin(logistic_sample):
    """Scoring a NaN margin raises instead of returning NaN."""
    calibrator = fit_calibrator(*logistic_sample, method="sigmoid")
    with pytest.raises(InputDataError, match=r"1 invalid values \(first: nan\)"):
        calibrator.predict([0.0, np.nan])
