"""Tests for creditlimit.models.calibration: Platt and isotonic fits, choice, JSON, warnings."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from creditlimit.errors import InputDataError, ModelError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models import calibration
from creditlimit.models.calibration import (
    BRIER_TOLERANCE,
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


def test_isotonic_keeps_scikit_learn_plateau_rates(step_sample):
    """At each plateau centre the PD is that plateau's default rate from scikit-learn's PAV."""
    margin, y = step_sample
    calibrator = fit_calibrator(margin, y, method="isotonic")
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margin, y)
    plateau_rates = np.unique(reference.predict(margin))
    centres = np.asarray(calibrator.x_thresholds)
    assert centres.size == plateau_rates.size
    inner = (plateau_rates > 0.0) & (plateau_rates < 1.0)
    np.testing.assert_allclose(calibrator.predict(centres)[inner], plateau_rates[inner], rtol=1e-9)
    np.testing.assert_allclose(reference.predict(centres)[inner], plateau_rates[inner])


def test_isotonic_is_strictly_increasing_even_on_plateaus(step_sample):
    """A higher margin always gets a strictly higher PD, inside and outside the fitted range."""
    calibrator = fit_calibrator(*step_sample, method="isotonic")
    grid = np.linspace(-12.0, 8.0, 200_001)
    pd_values = calibrator.predict(grid)
    assert np.all(np.diff(pd_values) > 0.0)
    assert pd_values.min() >= 0.0
    assert pd_values.max() <= 1.0


def test_isotonic_rate_zero_plateau_stays_positive():
    """A plateau without bads gets a small positive PD below the next plateau's rate."""
    margin = np.linspace(-3.0, 3.0, 400)
    y = (margin > 1.0).astype(int)
    y[[100, 380]] = [1, 0]
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margin, y)
    assert reference.predict(margin).min() == 0.0
    assert reference.predict(margin).max() == 1.0
    calibrator = fit_calibrator(margin, y, method="isotonic")
    rates = np.asarray(calibrator.y_thresholds)
    assert rates[0] > 0.0
    assert rates[-1] < 1.0
    assert np.all(np.diff(rates) > 0.0)


def _master_scale_grades(pd_values):
    """Grades 1 (best) to 10 of the params.yaml master scale."""
    bounds = [0.003, 0.006, 0.012, 0.02, 0.035, 0.06, 0.10, 0.16, 0.25, 1.0]
    return np.searchsorted(bounds, pd_values) + 1


def _credit_validation_sample(seed):
    """A validation part shaped like the sample portfolio: 2,500 to 12,000 rows, 3 % to 7 % bads.

    The margin is the true log-odds, so ``logistic(margin)`` is each customer's true PD.
    """
    rng = np.random.default_rng(seed)
    margin = rng.normal(rng.uniform(-3.8, -2.8), 1.1, int(rng.integers(2_500, 12_000)))
    y = (rng.random(margin.size) < logistic(margin)).astype(int)
    return margin, y


@pytest.mark.parametrize("seed", [0, 8, 9, 10])
def test_isotonic_wide_plateau_spans_grades(seed):
    """Customers on one wide isotonic plateau, a log-odds or more apart, do not share a grade.

    The seeds are samples whose plain isotonic fit has such a plateau inside grades 2 to 9.
    """
    margin, y = _credit_validation_sample(seed)
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margin, y)
    fitted = reference.predict(margin)
    calibrator = fit_calibrator(margin, y, method="isotonic")
    grades = _master_scale_grades(calibrator.predict(margin))
    wide = 0
    for rate in np.unique(fitted):
        members = np.sort(margin[fitted == rate])
        plain_grade = _master_scale_grades([rate])[0]
        if members[-1] - members[0] < 1.0 or plain_grade in (1, 10):
            continue  # narrow plateau, or a grade open at one end
        wide += 1
        ends = calibrator.predict([members[0], members[-1]])
        assert _master_scale_grades(ends)[0] < _master_scale_grades(ends)[1], (
            f"plateau at PD {rate:.4f} spanning margins {members[0]:.2f} to {members[-1]:.2f} "
            "puts both ends in one grade"
        )
    assert wide >= 1, "the sample should contain a wide isotonic plateau inside the scale"
    assert np.unique(grades).size >= 9


@pytest.mark.parametrize("seed", range(10))
def test_isotonic_master_scale_never_skips_a_grade(seed):
    """Sorted by margin, neighbouring customers are never more than one grade apart.

    Plain isotonic plateaus jump from one PD level to the next and leave whole grades
    empty (measured: 19 of 30 such samples), so customers of the skipped grade's risk
    are lumped into the neighbouring grades.
    """
    margin, y = _credit_validation_sample(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewPositivesWarning)
        calibrator = fit_calibrator(margin, y, method="isotonic")
    grades = _master_scale_grades(calibrator.predict(np.sort(margin)))
    assert np.diff(grades).max() <= 1


def test_isotonic_format_one_still_loads():
    """A calibrator stored by the earlier format (PD knots plus a tie-break) predicts as before."""
    data = {
        "format_version": 1, "method": "isotonic", "slope": None, "intercept": None,
        "x_thresholds": [-2.0, 0.0, 2.0], "y_thresholds": [0.01, 0.05, 0.05],
        "tie_break_center": 0.0, "tie_break_scale": 1.0, "tie_break_weight": TIE_BREAK_WEIGHT,
        "n_rows": 100, "n_positives": 5, "selection_brier": {},
    }
    calibrator = Calibrator.from_dict(data)
    expected = (1 - TIE_BREAK_WEIGHT) * 0.03 + TIE_BREAK_WEIGHT * logistic(-1.0)
    assert calibrator.predict([-1.0])[0] == pytest.approx(expected, rel=1e-12)
    assert calibrator.to_dict() == data


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


def test_choose_auto_records_out_of_fold_ece(step_sample):
    """auto also records each candidate's out-of-fold ECE, and it survives the JSON round trip."""
    calibrator = choose_calibrator(*step_sample, method="auto", seed=3)
    assert set(calibrator.selection_ece) == {"isotonic", "sigmoid"}
    assert all(0.0 <= value <= 1.0 for value in calibrator.selection_ece.values())
    assert Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict()))) == calibrator


@pytest.mark.parametrize(
    ("brier", "ece", "winner"),
    [
        ({"isotonic": 0.0600, "sigmoid": 0.0700}, {"isotonic": 0.05, "sigmoid": 0.01}, "isotonic"),
        ({"isotonic": 0.0700, "sigmoid": 0.0600}, {"isotonic": 0.01, "sigmoid": 0.05}, "sigmoid"),
        # Brier within the tolerance: the lower calibration error decides.
        ({"isotonic": 0.06002, "sigmoid": 0.0600}, {"isotonic": 0.010, "sigmoid": 0.020}, "isotonic"),
        ({"isotonic": 0.0600, "sigmoid": 0.06002}, {"isotonic": 0.020, "sigmoid": 0.010}, "sigmoid"),
        # A tie of both keeps sigmoid.
        ({"isotonic": 0.0600, "sigmoid": 0.0600}, {"isotonic": 0.010, "sigmoid": 0.010}, "sigmoid"),
    ],
)
def test_choose_auto_rule_brier_then_ece(brier, ece, winner):
    """The stated rule: lower Brier wins unless within BRIER_TOLERANCE, then lower ECE."""
    assert BRIER_TOLERANCE * 0.06 > 0.00002
    assert calibration._better_candidate(brier, ece) == winner


def test_calibrator_without_selection_ece_still_loads(logistic_sample):
    """A calibrator stored before selection_ece was recorded reads with an empty mapping."""
    record = choose_calibrator(*logistic_sample, method="auto", seed=5).to_dict()
    del record["selection_ece"]
    assert dict(Calibrator.from_dict(record).selection_ece) == {}


def test_min_positives_is_a_parameter():
    """A higher minimum warns on a sample the default accepts, and auto then uses sigmoid."""
    rng = np.random.default_rng(4)
    margin = rng.normal(size=4_000)
    y = np.zeros(margin.size, dtype=int)
    y[np.argsort(margin)[-80:]] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewPositivesWarning)
        choose_calibrator(margin, y, method="auto")
    with pytest.warns(FewPositivesWarning, match=r"only 80 bads \(fewer than 100\)"):
        calibrator = choose_calibrator(margin, y, method="auto", min_positives=100)
    assert calibrator.method == "sigmoid"


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
