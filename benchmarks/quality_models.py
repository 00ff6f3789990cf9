"""The product's PD model and its three peers, each fitted on one training fold.

Every ``fit_*`` function takes the same inputs (a data set and the row indices of
the training and test part) and returns the test rows' PD and ranking score, so the
benchmark compares the models on identical rows:

- ``product``: the product's own training code (``CategoryEncoder``,
  ``build_feature_matrix``, ``LightGBMParams.native`` with monotone constraints,
  ``fit_booster`` with early stopping, ``choose_calibrator``), with a validation
  part carved from the training fold for early stopping, the choice among a few
  candidate settings, and calibration.
- ``logistic``: scikit-learn logistic regression on standardised features, missing
  values imputed by the median plus a missing indicator, categoricals one-hot.
- ``scorecard``: optbinning ``Scorecard`` (``BinningProcess`` + logistic regression
  on WoE).
- ``lightgbm_default``: ``lightgbm.LGBMClassifier`` with default parameters.

The peers train on the whole training fold; the product trains on the fold minus
its validation part, as it does in production.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.models.calibration import CalibrationWarning, choose_calibrator
from creditlimit.models.encoding import CategoryEncoder, build_feature_matrix
from creditlimit.models.metrics import auc
from creditlimit.models.training import NUM_THREADS, LightGBMParams, fit_booster
from public_datasets import PublicDataset

__all__ = ["MODEL_NAMES", "ModelOutput", "ProductSettings", "fit_model", "with_candidates"]

MODEL_NAMES = ("product", "logistic", "scorecard", "lightgbm_default")


@dataclass(frozen=True)
class ProductSettings:
    """Settings of the product's model on one data set.

    Attributes
    ----------
    base : Mapping[str, object]
        ``LightGBMParams`` mapping (scikit-learn names) shared by every candidate.
    candidates : sequence of Mapping
        Overrides of ``base``; the candidate with the highest validation AUC is kept.
    valid_fraction : float
        Share of each training fold held out, stratified, for early stopping,
        the choice of candidate and calibration.
    """

    base: Mapping[str, object]
    candidates: Sequence[Mapping[str, object]]
    valid_fraction: float = 0.2

    def params(self) -> list[LightGBMParams]:
        """Return the validated booster parameters of every candidate."""
        return [LightGBMParams.from_mapping({**self.base, **override}) for override in self.candidates]


@dataclass(frozen=True)
class ModelOutput:
    """Test-part predictions of one model on one fold.

    Attributes
    ----------
    pd_values : numpy.ndarray of float64
        Predicted PD of the test rows.
    score : numpy.ndarray of float64
        Ranking score of the test rows (the raw margin for the product, else the PD).
    details : dict
        Model-specific facts (chosen candidate, trees, calibration method).
    """

    pd_values: np.ndarray
    score: np.ndarray
    details: dict


def fit_model(
    name: str,
    dataset: PublicDataset,
    *,
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    settings: ProductSettings,
    seed: int,
) -> ModelOutput:
    """Fit model ``name`` on ``train_rows`` and predict ``test_rows``."""
    if name == "product":
        return _fit_product(dataset, train_rows, test_rows, settings, seed)
    fitters = {
        "logistic": _fit_logistic,
        "scorecard": _fit_scorecard,
        "lightgbm_default": _fit_lightgbm_default,
    }
    return fitters[name](dataset, train_rows, test_rows, seed)


def _fit_product(
    dataset: PublicDataset,
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    settings: ProductSettings,
    seed: int,
) -> ModelOutput:
    from sklearn.model_selection import train_test_split

    labels = dataset.is_bad
    fit_rows, valid_rows = train_test_split(
        train_rows, test_size=settings.valid_fraction, stratify=labels[train_rows],
        random_state=seed,
    )
    features = tuple(dataset.features.columns)
    categoricals = dataset.categorical
    encoder = CategoryEncoder.fit(dataset.features.iloc[fit_rows], categoricals)
    matrix, _ = build_feature_matrix(dataset.features, feature_names=features, encoder=encoder)
    constraints = [dataset.monotone_constraints.get(name, 0) for name in features]
    fit_mask = _mask(fit_rows, labels.size)
    valid_mask = _mask(valid_rows, labels.size)

    # Boost every candidate with early stopping; keep the best validation AUC.
    best = None
    for index, params in enumerate(settings.params()):
        native = params.native(seed=seed, monotone_constraints=constraints)
        booster, trees = fit_booster(
            matrix, labels, train_mask=fit_mask, valid_mask=valid_mask, features=features,
            categoricals=categoricals, native=native, params=params,
        )
        valid_auc = auc(labels[valid_mask], booster.predict(matrix[valid_mask], raw_score=True)).value
        if best is None or valid_auc > best[0]:
            best = (valid_auc, index, booster, trees)
    valid_auc, chosen, booster, trees = best

    # Calibrate on the validation part, as the product does.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalibrationWarning)
        calibrator = choose_calibrator(
            booster.predict(matrix[valid_mask], raw_score=True), labels[valid_mask],
            method="auto", seed=seed,
        )
    margin = booster.predict(matrix[test_rows], raw_score=True)
    details = {
        "candidate": chosen,
        "valid_auc": valid_auc,
        "trees": trees,
        "calibration": calibrator.method,
        "calibration_warnings": sum(issubclass(w.category, CalibrationWarning) for w in caught),
    }
    return ModelOutput(pd_values=calibrator.predict(margin), score=margin, details=details)


def _fit_logistic(
    dataset: PublicDataset, train_rows: np.ndarray, test_rows: np.ndarray, seed: int
) -> ModelOutput:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categoricals = list(dataset.categorical)
    numeric = [name for name in dataset.features.columns if name not in dataset.categorical]
    preprocess = ColumnTransformer([
        ("numeric", make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
        ), numeric),
        ("categorical", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore"),
        ), categoricals),
    ])
    model = make_pipeline(preprocess, LogisticRegression(max_iter=5000, random_state=seed))
    frame = _text_categoricals(dataset)
    with warnings.catch_warnings():
        # Unscaled ratio outliers can slow lbfgs down; the fit is used as it ends.
        warnings.simplefilter("ignore")
        model.fit(frame.iloc[train_rows], dataset.is_bad[train_rows])
    pd_values = model.predict_proba(frame.iloc[test_rows])[:, 1]
    return ModelOutput(pd_values=pd_values, score=pd_values, details={})


def _fit_scorecard(
    dataset: PublicDataset, train_rows: np.ndarray, test_rows: np.ndarray, seed: int
) -> ModelOutput:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    frame = _text_categoricals(dataset)
    binning = BinningProcess(
        variable_names=list(frame.columns), categorical_variables=list(dataset.categorical)
    )
    scorecard = Scorecard(
        binning_process=binning, estimator=LogisticRegression(max_iter=5000, random_state=seed)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scorecard.fit(frame.iloc[train_rows], dataset.is_bad[train_rows])
        pd_values = scorecard.predict_proba(frame.iloc[test_rows])[:, 1]
    return ModelOutput(pd_values=pd_values, score=pd_values, details={})


def _fit_lightgbm_default(
    dataset: PublicDataset, train_rows: np.ndarray, test_rows: np.ndarray, seed: int
) -> ModelOutput:
    import lightgbm

    features = tuple(dataset.features.columns)
    encoder = CategoryEncoder.fit(dataset.features.iloc[train_rows], dataset.categorical)
    matrix, _ = build_feature_matrix(dataset.features, feature_names=features, encoder=encoder)
    model = lightgbm.LGBMClassifier(
        random_state=seed, n_jobs=NUM_THREADS, deterministic=True, force_row_wise=True,
        verbosity=-1,
    )
    model.fit(
        matrix[train_rows], dataset.is_bad[train_rows],
        categorical_feature=[features.index(name) for name in dataset.categorical],
    )
    pd_values = model.predict_proba(matrix[test_rows])[:, 1]
    return ModelOutput(pd_values=pd_values, score=pd_values, details={})


def _text_categoricals(dataset: PublicDataset) -> pd.DataFrame:
    """Return the features with categoricals as object text and missing as NaN."""
    frame = dataset.features.copy()
    for name in dataset.categorical:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), np.nan)
    return frame


def _mask(rows: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[rows] = True
    return mask


def with_candidates(settings: ProductSettings, count: int) -> ProductSettings:
    """Return ``settings`` keeping only its first ``count`` candidates (quick runs)."""
    return dataclasses.replace(settings, candidates=tuple(settings.candidates[:count]))
