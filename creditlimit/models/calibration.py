"""Calibration of the raw LightGBM margin into a 12-month PD, stored as plain JSON.

Two methods, both fitted on the validation part:

- ``sigmoid`` (Platt scaling): ``pd = 1 / (1 + exp(-(slope * margin + intercept)))``,
  fitted by Newton's method on Platt's smoothed targets.
- ``isotonic``: scikit-learn's ``IsotonicRegression`` (pool adjacent violators)
  fixes one default rate per plateau of margins. The PD then runs through the
  plateau centres, linear in log-odds between them and with the Platt slope beyond
  the first and last one. It is therefore strictly increasing in the margin, and no
  plateau puts customers of clearly different risk into one grade (see
  :class:`Calibrator`).

:func:`choose_calibrator` picks the method by Brier score and calibration error on validation.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from creditlimit.errors import InputDataError, ModelError, ParamsError
from creditlimit.i18n import register, translate
from creditlimit.models.metrics import expected_calibration_error

__all__ = [
    "CALIBRATION_METHODS",
    "MIN_POSITIVES",
    "BRIER_TOLERANCE",
    "TIE_BREAK_WEIGHT",
    "CalibrationWarning",
    "FewPositivesWarning",
    "Calibrator",
    "fit_calibrator",
    "choose_calibrator",
]

CALIBRATION_METHODS: tuple[str, ...] = ("auto", "isotonic", "sigmoid")

# Below this many bads in validation, isotonic steps follow noise, so `auto` uses
# sigmoid and every method warns (the default of train.calibration_min_positives).
MIN_POSITIVES = 50

# `auto` treats two out-of-fold Brier scores within this share of the larger one as
# equal, and then lets the lower out-of-fold calibration error decide.
BRIER_TOLERANCE = 0.01

# Weight of the tie-break term of format-1 isotonic calibrators (stored by earlier
# versions; still read so that an older champion can be compared and scored).
TIE_BREAK_WEIGHT = 1e-6

# Format 2 stores isotonic calibrators as plateau centres and rates (see Calibrator).
_FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)
# Tail slope used when the Platt slope is not positive (a model that does not rank).
_MIN_TAIL_SLOPE = 1e-3

register({
    "model.calibration.few_positives": {
        "en": (
            "Validation has only {positives} bads (fewer than {minimum}); the {method} "
            "calibration may be unstable. Add validation months (train.valid_months) "
            "or accept the sigmoid calibration."
        ),
        "zh_CN": "验证集只有 {positives} 个违约样本（少于 {minimum} 个）；{method} 校准可能不稳定。请增加验证月份（train.valid_months），或接受 sigmoid 校准。",
    },
    "model.calibration.negative_slope": {
        "en": (
            "Sigmoid calibration found a slope of {slope:.4g} (higher margin, lower PD) "
            "on validation; the slope is set to 0 so every row gets the validation "
            "default rate. The model does not rank validation customers: review it."
        ),
        "zh_CN": "sigmoid 校准在验证集上得到的斜率为 {slope:.4g}（原始分越高，PD 越低）；斜率已置为 0，所有样本均取验证集违约率。模型无法对验证集客户排序，请复核模型。",
    },
    "model.calibration.invalid_method": {
        "en": "train.calibration must be one of {choices}; got {value!r}.",
        "zh_CN": "train.calibration 必须是 {choices} 之一；实际为 {value!r}。",
    },
    "model.calibration.one_class": {
        "en": (
            "Calibration needs bads and goods in validation; got {bads} bads and "
            "{goods} goods. Move the split boundaries (train.valid_months)."
        ),
        "zh_CN": "校准要求验证集同时包含违约和正常样本；实际有 {bads} 个违约和 {goods} 个正常样本。请调整切分边界（train.valid_months）。",
    },
    "model.calibration.invalid_input": {
        "en": (
            "Calibration input is invalid: {problem}. Pass one finite raw margin and "
            "one 0/1 outcome per validation row."
        ),
        "zh_CN": "校准输入无效：{problem}。请为每个验证样本提供一个有限的原始分和一个 0/1 结果。",
    },
    "model.calibration.invalid_margin": {
        "en": (
            "Raw margins to calibrate must be finite numbers; got {count} invalid values "
            "(first: {example})."
        ),
        "zh_CN": "待校准的原始分必须是有限数值；发现 {count} 个无效值（第一个：{example}）。",
    },
    "model.calibration.corrupt": {
        "en": "Stored calibrator is invalid: {problem}. Retrain and register the model.",
        "zh_CN": "模型中保存的校准器无效：{problem}。请重新训练并注册模型。",
    },
})


class CalibrationWarning(UserWarning):
    """Calibration continued, but its PDs may be unreliable."""


class FewPositivesWarning(CalibrationWarning):
    """Validation has fewer bads than the minimum (train.calibration_min_positives)."""


@dataclass(frozen=True)
class Calibrator:
    """A fitted map from raw margin (log-odds) to PD in [0, 1].

    Attributes
    ----------
    method : {"isotonic", "sigmoid"}
        Calibration method.
    slope, intercept : float
        Platt parameters (sigmoid only; NaN for isotonic).
    x_thresholds, y_thresholds : tuple of float
        Isotonic knots (isotonic only; empty for sigmoid). Format 2: the mean
        margin of each isotonic plateau and its default rate, both strictly
        increasing. Format 1: scikit-learn's knots, interpolated linearly in PD.
    tail_slope : float
        Format 2 isotonic: log-odds slope beyond the first and last knot, the
        Platt slope of the same sample (NaN otherwise).
    tie_break_center, tie_break_scale : float
        Format 1 isotonic only: mean and standard deviation of the validation
        margins used by its tie-break (NaN otherwise).
    n_rows, n_positives : int
        Size of the validation sample the calibrator was fitted on.
    selection_brier, selection_ece : Mapping[str, float]
        Out-of-fold Brier score and expected calibration error of each candidate
        when the method was chosen by ``auto``; empty when the method was given
        (and ``selection_ece`` in calibrators stored before it was recorded).
    format_version : int
        2 for every new fit; 1 for isotonic calibrators stored by earlier versions.

    Notes
    -----
    Isotonic regression is only non-decreasing. Its plateaus give one PD to
    customers with clearly different raw margins, and a wide plateau then puts
    customers two or three master-scale grades apart into one grade. Format 2
    therefore keeps only the plateaus' default rates and places each at its mean
    margin ``c_k``. The PD is ``logistic(l(m))`` where ``l`` interpolates
    ``logit(rate_k)`` linearly between the centres and continues with
    ``tail_slope`` below the first and above the last centre. Every piece is
    strictly increasing, so a higher raw margin always gets a strictly higher PD,
    and the PD stays in (0, 1). A plateau with a rate of exactly 0 or 1 (no bads or
    no goods) gets half a bad or half a good, ``0.5 / (n + 1)`` from the boundary,
    kept below (above) its neighbour's rate.
    """

    method: str
    slope: float = math.nan
    intercept: float = math.nan
    x_thresholds: tuple[float, ...] = ()
    y_thresholds: tuple[float, ...] = ()
    tie_break_center: float = math.nan
    tie_break_scale: float = math.nan
    n_rows: int = 0
    n_positives: int = 0
    selection_brier: Mapping[str, float] = field(default_factory=dict)
    selection_ece: Mapping[str, float] = field(default_factory=dict)
    tail_slope: float = math.nan
    format_version: int = _FORMAT_VERSION

    def predict(self, raw_margin: object) -> np.ndarray:
        """Map raw margins (log-odds) to PDs.

        Parameters
        ----------
        raw_margin : array-like of shape (n_rows,)
            Raw booster output in log-odds.

        Returns
        -------
        numpy.ndarray of float64, shape (n_rows,)
            PD in [0, 1], non-decreasing in the margin.

        Raises
        ------
        InputDataError
            If a margin is missing or infinite.
        """
        margin = _finite_margin(raw_margin)
        if self.method == "sigmoid":
            return _logistic(self.slope * margin + self.intercept)
        if self.format_version == 1:
            isotonic = np.interp(margin, self.x_thresholds, self.y_thresholds)
            tie_break = _logistic((margin - self.tie_break_center) / self.tie_break_scale)
            blended = (1.0 - TIE_BREAK_WEIGHT) * isotonic + TIE_BREAK_WEIGHT * tie_break
            return np.clip(blended, 0.0, 1.0)
        return _logistic(self._isotonic_logit(margin))

    def _isotonic_logit(self, margin: np.ndarray) -> np.ndarray:
        centers = np.asarray(self.x_thresholds, dtype=np.float64)
        logits = _logit(np.asarray(self.y_thresholds, dtype=np.float64))
        inside = np.interp(margin, centers, logits)
        below = logits[0] + self.tail_slope * (margin - centers[0])
        above = logits[-1] + self.tail_slope * (margin - centers[-1])
        return np.where(margin < centers[0], below, np.where(margin > centers[-1], above, inside))

    def to_dict(self) -> dict:
        """Return every fitted value as a JSON-safe dictionary (no pickle)."""
        record = {
            "format_version": self.format_version,
            "method": self.method,
            "slope": _json_float(self.slope),
            "intercept": _json_float(self.intercept),
            "x_thresholds": list(self.x_thresholds),
            "y_thresholds": list(self.y_thresholds),
            "tie_break_center": _json_float(self.tie_break_center),
            "tie_break_scale": _json_float(self.tie_break_scale),
            "n_rows": self.n_rows,
            "n_positives": self.n_positives,
            "selection_brier": dict(self.selection_brier),
        }
        if self.selection_ece:
            record["selection_ece"] = dict(self.selection_ece)
        if self.format_version == 1:
            record["tie_break_weight"] = TIE_BREAK_WEIGHT
        else:
            record["tail_slope"] = _json_float(self.tail_slope)
        return record

    @classmethod
    def from_dict(cls, data: Mapping) -> Calibrator:
        """Rebuild a calibrator from :meth:`to_dict` output.

        Raises
        ------
        ModelError
            If the version, method or fitted values are invalid.
        """
        version = data.get("format_version") if isinstance(data, Mapping) else None
        if version not in _READABLE_VERSIONS:
            raise ModelError("model.calibration.corrupt", problem="unknown format_version")
        if version == 1 and data.get("tie_break_weight") != TIE_BREAK_WEIGHT:
            raise ModelError("model.calibration.corrupt", problem="unexpected tie_break_weight")
        try:
            calibrator = cls(
                method=str(data["method"]),
                slope=_stored_float(data["slope"]),
                intercept=_stored_float(data["intercept"]),
                x_thresholds=tuple(float(v) for v in data["x_thresholds"]),
                y_thresholds=tuple(float(v) for v in data["y_thresholds"]),
                tie_break_center=_stored_float(data["tie_break_center"]),
                tie_break_scale=_stored_float(data["tie_break_scale"]),
                n_rows=int(data["n_rows"]),
                n_positives=int(data["n_positives"]),
                selection_brier={str(k): float(v) for k, v in data["selection_brier"].items()},
                selection_ece={str(k): float(v) for k, v in data.get("selection_ece", {}).items()},
                tail_slope=_stored_float(data.get("tail_slope")),
                format_version=int(version),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ModelError("model.calibration.corrupt", problem=repr(error)) from error
        calibrator._check_fitted()
        return calibrator

    def _check_fitted(self) -> None:
        if self.method == "sigmoid":
            if not (math.isfinite(self.slope) and math.isfinite(self.intercept)):
                raise ModelError("model.calibration.corrupt", problem="slope or intercept missing")
            if self.slope < 0:
                raise ModelError("model.calibration.corrupt", problem="negative slope")
            return
        if self.method != "isotonic":
            raise ModelError("model.calibration.corrupt", problem=f"method {self.method!r}")
        x, y = np.asarray(self.x_thresholds), np.asarray(self.y_thresholds)
        if x.size == 0 or x.size != y.size:
            raise ModelError("model.calibration.corrupt", problem="isotonic knots missing")
        if np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
            raise ModelError("model.calibration.corrupt", problem="isotonic knots decrease")
        if self.format_version == 1:
            valid = np.all((y >= 0) & (y <= 1)) and self.tie_break_scale > 0
        else:
            strict = np.all(np.diff(x) > 0) and np.all(np.diff(y) > 0)
            valid = strict and np.all((y > 0) & (y < 1)) and self.tail_slope > 0
        if not valid:
            raise ModelError("model.calibration.corrupt", problem="isotonic values out of range")


def fit_calibrator(
    raw_margin: object, y: object, *, method: str, min_positives: int = MIN_POSITIVES
) -> Calibrator:
    """Fit one calibration method on validation margins and outcomes.

    Parameters
    ----------
    raw_margin : array-like of shape (n_rows,)
        Raw booster margins (log-odds) of the validation rows.
    y : array-like of shape (n_rows,)
        Outcomes, 1 bad and 0 good; both classes must be present.
    method : {"isotonic", "sigmoid"}
        Calibration method.
    min_positives : int, default MIN_POSITIVES
        Fewer bads than this give a :class:`FewPositivesWarning`.

    Returns
    -------
    Calibrator

    Warns
    -----
    FewPositivesWarning
        If there are fewer than ``min_positives`` bads.
    CalibrationWarning
        If the sigmoid slope comes out negative and is set to 0.
    """
    if method not in ("isotonic", "sigmoid"):
        raise ParamsError(
            "model.calibration.invalid_method", choices="isotonic, sigmoid", value=method
        )
    margin, outcome = _validation_sample(raw_margin, y)
    _warn_if_few_positives(outcome, method, min_positives)
    return _fit(margin, outcome, method)


def choose_calibrator(
    raw_valid: object,
    y_valid: object,
    *,
    method: str = "auto",
    seed: int = 0,
    min_positives: int = MIN_POSITIVES,
) -> Calibrator:
    """Fit the calibrator of ``method``, or for ``auto`` the better of the two.

    For ``auto``, validation is split into two folds, stratified by outcome with a
    seeded shuffle. Each candidate is fitted on one fold and scored on the other,
    both ways round, giving its out-of-fold Brier score and expected calibration
    error (ECE, deciles of PD). The lower Brier score wins; when the two are within
    :data:`BRIER_TOLERANCE` of the larger one, the lower ECE wins, and sigmoid wins
    a tie of both. The winner is then refitted on all of validation. Scoring out of
    fold keeps isotonic, which fits its own sample closely, from winning on the
    same rows it was fitted on.

    Parameters
    ----------
    raw_valid : array-like of shape (n_rows,)
        Raw booster margins (log-odds) of the validation rows.
    y_valid : array-like of shape (n_rows,)
        Outcomes, 1 bad and 0 good.
    method : {"auto", "isotonic", "sigmoid"}, default "auto"
        Method to use; ``auto`` chooses by out-of-fold Brier score and ECE.
    seed : int, default 0
        Seed of the fold assignment.
    min_positives : int, default MIN_POSITIVES
        Fewer bads than this in validation give a :class:`FewPositivesWarning`.

    Returns
    -------
    Calibrator
        Fitted on all validation rows; ``selection_brier`` and ``selection_ece``
        contain the out-of-fold scores when ``method == "auto"``.

    Raises
    ------
    ParamsError
        If ``method`` is not one of :data:`CALIBRATION_METHODS`.
    InputDataError
        If the inputs are invalid or validation lacks bads or goods.

    Warns
    -----
    FewPositivesWarning
        If validation has fewer than ``min_positives`` bads. ``auto`` then picks
        sigmoid without comparing, because isotonic steps would follow noise.
    """
    if method not in CALIBRATION_METHODS:
        raise ParamsError(
            "model.calibration.invalid_method", choices=", ".join(CALIBRATION_METHODS), value=method
        )
    margin, outcome = _validation_sample(raw_valid, y_valid)
    if method != "auto":
        _warn_if_few_positives(outcome, method, min_positives)
        return _fit(margin, outcome, method)
    if int(outcome.sum()) < min_positives:
        _warn_if_few_positives(outcome, "sigmoid", min_positives)
        return _fit(margin, outcome, "sigmoid")

    folds = _two_folds(outcome, seed)
    brier, ece = {}, {}
    for candidate in ("sigmoid", "isotonic"):
        out_of_fold = np.empty_like(margin)
        for held_out in (0, 1):
            fit_rows = folds != held_out
            fitted = _fit(margin[fit_rows], outcome[fit_rows], candidate)
            out_of_fold[~fit_rows] = fitted.predict(margin[~fit_rows])
        brier[candidate] = float(np.mean((out_of_fold - outcome) ** 2))
        ece[candidate] = float(expected_calibration_error(outcome, out_of_fold).value)
    chosen = _fit(margin, outcome, _better_candidate(brier, ece))
    return dataclasses.replace(chosen, selection_brier=brier, selection_ece=ece)


def _better_candidate(brier: Mapping[str, float], ece: Mapping[str, float]) -> str:
    """Return the better candidate: lower Brier, or within BRIER_TOLERANCE lower ECE, else sigmoid."""
    if abs(brier["isotonic"] - brier["sigmoid"]) > BRIER_TOLERANCE * max(brier.values()):
        return "isotonic" if brier["isotonic"] < brier["sigmoid"] else "sigmoid"
    return "isotonic" if ece["isotonic"] < ece["sigmoid"] else "sigmoid"


def _fit(margin: np.ndarray, outcome: np.ndarray, method: str) -> Calibrator:
    counts = {"n_rows": int(outcome.size), "n_positives": int(outcome.sum())}
    if method == "sigmoid":
        slope, intercept = _fit_platt(margin, outcome)
        return Calibrator(method="sigmoid", slope=slope, intercept=intercept, **counts)
    centers, rates = _fit_isotonic(margin, outcome)
    slope, _ = _fit_platt(margin, outcome)
    return Calibrator(
        method="isotonic",
        x_thresholds=centers,
        y_thresholds=rates,
        tail_slope=slope if slope > 0 else _MIN_TAIL_SLOPE,
        **counts,
    )


def _fit_isotonic(
    margin: np.ndarray, outcome: np.ndarray
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Return the mean margin and the default rate of each isotonic plateau.

    Pool adjacent violators gives contiguous blocks of margins with strictly
    increasing default rates, so both returned sequences are strictly increasing.
    """
    from sklearn.isotonic import IsotonicRegression  # lazy: sklearn import is slow

    model = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    fitted = model.fit(margin, outcome.astype(np.float64)).predict(margin)
    _, plateau = np.unique(fitted, return_inverse=True)
    rows = np.bincount(plateau).astype(np.float64)
    bads = np.bincount(plateau, weights=outcome.astype(np.float64))
    centers = np.bincount(plateau, weights=margin) / rows
    rates = bads / rows
    # Half a bad (or half a good) keeps a plateau without bads (goods) off 0 (1).
    if rates[0] == 0.0:
        rates[0] = 0.5 / (rows[0] + 1.0) if rates.size == 1 else min(0.5 / (rows[0] + 1.0), rates[1] / 2.0)
    if rates[-1] == 1.0:
        floor = rates[-2] if rates.size > 1 else 0.0
        rates[-1] = max(1.0 - 0.5 / (rows[-1] + 1.0), (1.0 + floor) / 2.0)
    return tuple(float(v) for v in centers), tuple(float(v) for v in rates)


def _fit_platt(margin: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
    """Fit Platt's two parameters by Newton's method with step halving.

    Targets are Platt's smoothed labels, ``(n_bads + 1) / (n_bads + 2)`` for bads and
    ``1 / (n_goods + 2)`` for goods, the same as scikit-learn's
    ``_sigmoid_calibration`` (sklearn/calibration.py). They keep the solution finite
    even when the margin separates the classes perfectly.
    """
    n_bads = float(outcome.sum())
    n_goods = float(outcome.size) - n_bads
    target = np.where(outcome == 1, (n_bads + 1.0) / (n_bads + 2.0), 1.0 / (n_goods + 2.0))
    design = np.column_stack([margin, np.ones_like(margin)])
    prior = (n_bads + 1.0) / (outcome.size + 2.0)
    params = np.array([0.0, math.log(prior / (1.0 - prior))])
    loss = _log_loss(design @ params, target)
    for _ in range(100):
        probability = _logistic(design @ params)
        gradient = design.T @ (probability - target)
        weights = np.maximum(probability * (1.0 - probability), 1e-12)
        hessian = design.T @ (design * weights[:, None]) + 1e-12 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        candidate, candidate_loss = _halve_until_better(design, target, params, step, loss)
        if candidate_loss > loss:
            break
        improvement = loss - candidate_loss
        params, loss = candidate, candidate_loss
        if improvement <= 1e-12 * max(1.0, loss):
            break
    slope, intercept = float(params[0]), float(params[1])
    if slope < 0:
        warnings.warn(
            translate("model.calibration.negative_slope", slope=slope),
            CalibrationWarning,
            stacklevel=3,
        )
        return 0.0, math.log(prior / (1.0 - prior))
    return slope, intercept


def _halve_until_better(
    design: np.ndarray, target: np.ndarray, params: np.ndarray, step: np.ndarray, loss: float
) -> tuple[np.ndarray, float]:
    """Halve a Newton step until it lowers the loss or becomes negligible."""
    while True:
        candidate = params - step
        candidate_loss = _log_loss(design @ candidate, target)
        if candidate_loss <= loss or np.max(np.abs(step)) < 1e-12:
            return candidate, candidate_loss
        step = step / 2.0


def _log_loss(logit: np.ndarray, target: np.ndarray) -> float:
    # log(1 + exp(-z)) and log(1 + exp(z)) written with logaddexp to stay finite.
    losses = target * np.logaddexp(0.0, -logit) + (1 - target) * np.logaddexp(0.0, logit)
    return float(np.sum(losses))


def _logit(probability: np.ndarray) -> np.ndarray:
    return np.log(probability) - np.log1p(-probability)


def _logistic(logit: np.ndarray) -> np.ndarray:
    """Compute 1 / (1 + exp(-z)) without overflow and with full precision in both tails."""
    logit = np.asarray(logit, dtype=np.float64)
    result = np.empty_like(logit)
    positive = logit >= 0
    result[positive] = 1.0 / (1.0 + np.exp(-logit[positive]))
    exp_logit = np.exp(logit[~positive])
    result[~positive] = exp_logit / (1.0 + exp_logit)
    return result


def _two_folds(outcome: np.ndarray, seed: int) -> np.ndarray:
    """Assign rows to fold 0 or 1, alternating within each class after a shuffle."""
    rng = np.random.default_rng(seed)
    folds = np.empty(outcome.size, dtype=np.int64)
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(outcome == label))
        folds[rows] = np.arange(rows.size) % 2
    return folds


def _validation_sample(raw_margin: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    try:
        margin = np.asarray(raw_margin, dtype=np.float64).reshape(-1)
        outcome = np.asarray(y, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as error:
        raise InputDataError("model.calibration.invalid_input", problem=repr(error)) from error
    if margin.size != outcome.size:
        raise InputDataError(
            "model.calibration.invalid_input",
            problem=f"{margin.size} margins but {outcome.size} outcomes",
        )
    if not np.all(np.isfinite(margin)):
        raise InputDataError("model.calibration.invalid_input", problem="a margin is not finite")
    if not np.all(np.isin(outcome, (0.0, 1.0))):
        raise InputDataError("model.calibration.invalid_input", problem="an outcome is not 0 or 1")
    bads = int(outcome.sum())
    if bads == 0 or bads == outcome.size:
        raise InputDataError(
            "model.calibration.one_class", bads=bads, goods=int(outcome.size) - bads
        )
    return margin, outcome.astype(np.int64)


def _warn_if_few_positives(outcome: np.ndarray, method: str, minimum: int) -> None:
    positives = int(outcome.sum())
    if positives < minimum:
        warnings.warn(
            translate(
                "model.calibration.few_positives",
                positives=positives,
                minimum=minimum,
                method=method,
            ),
            FewPositivesWarning,
            stacklevel=3,
        )


def _finite_margin(raw_margin: object) -> np.ndarray:
    margin = np.asarray(raw_margin, dtype=np.float64).reshape(-1)
    invalid = ~np.isfinite(margin)
    if invalid.any():
        raise InputDataError(
            "model.calibration.invalid_margin",
            count=int(invalid.sum()),
            example=_shown(margin[np.flatnonzero(invalid)[0]]),
        )
    return margin


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _stored_float(value: object) -> float:
    return math.nan if value is None else float(value)


def _shown(value: object) -> str:
    """Return ``repr`` of a value, with NumPy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)
