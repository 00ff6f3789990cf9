"""Train the LightGBM PD model: time split, encoding, monotone boosting, calibration, metrics."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES
from creditlimit.i18n import register
from creditlimit.models.calibration import (
    CALIBRATION_METHODS,
    MIN_POSITIVES,
    Calibrator,
    choose_calibrator,
)
from creditlimit.models.encoding import CategoryEncoder, build_feature_matrix
from creditlimit.models.gates import GateThresholds
from creditlimit.models.metrics import evaluate
from creditlimit.models.scorecard_params import ChallengerParams
from creditlimit.models.search import SearchParams
from creditlimit.models.segments import SegmentParams
from creditlimit.models.split import split_by_time

if TYPE_CHECKING:
    import lightgbm

__all__ = [
    "NUM_THREADS", "LightGBMParams", "TrainParams", "TrainedModel", "fit_booster", "train_pd_model",
]

logger = logging.getLogger(__name__)

# Fixed so that training is reproducible: LightGBM's histogram sums depend on how
# rows are divided between threads.
NUM_THREADS = 2

LABEL_COLUMN = "is_bad"

register({
    "model.train.param_missing": {
        "en": "{section}: required parameter '{name}' is missing. Add it to params.yaml.",
        "zh_CN": "{section}：缺少必需参数“{name}”。请在 params.yaml 中添加。",
    },
    "model.train.param_unknown": {
        "en": "{section}: unknown parameter(s) {names}. Allowed parameters: {allowed}.",
        "zh_CN": "{section}：未知参数 {names}。允许的参数：{allowed}。",
    },
    "model.train.param_not_mapping": {
        "en": "{section} must be a mapping of names to values; got {value!r}.",
        "zh_CN": "{section} 必须是名称到取值的映射；实际为 {value!r}。",
    },
    "model.train.param_not_int": {
        "en": "{section}.{name} must be an integer >= {minimum}; got {value!r}.",
        "zh_CN": "{section}.{name} 必须是大于等于 {minimum} 的整数；实际为 {value!r}。",
    },
    "model.train.param_not_in_range": {
        "en": "{section}.{name} must be a number in {interval}; got {value!r}.",
        "zh_CN": "{section}.{name} 必须是 {interval} 区间内的数值；实际为 {value!r}。",
    },
    "model.train.param_max_depth": {
        "en": "train.lightgbm.max_depth must be -1 (no limit) or an integer >= 1; got {value!r}.",
        "zh_CN": "train.lightgbm.max_depth 必须为 -1（不限制）或大于等于 1 的整数；实际为 {value!r}。",
    },
    "model.train.constraint_unknown_feature": {
        "en": (
            "train.monotone_constraints names unknown feature(s) {names}. Use feature "
            "names from the feature catalog."
        ),
        "zh_CN": "train.monotone_constraints 中包含未知特征 {names}。请使用特征目录中的特征名。",
    },
    "model.train.constraint_value": {
        "en": "train.monotone_constraints.{name} must be -1, 0 or 1; got {value!r}.",
        "zh_CN": "train.monotone_constraints.{name} 必须是 -1、0 或 1；实际为 {value!r}。",
    },
    "model.train.constraint_categorical": {
        "en": (
            "train.monotone_constraints.{name}: a categorical feature cannot carry a "
            "monotone constraint because its codes have no order. Remove the entry."
        ),
        "zh_CN": "train.monotone_constraints.{name}：类别特征的编码没有大小顺序，不能设置单调约束。请删除该项。",
    },
    "model.train.duplicate_snapshots": {
        "en": (
            "Training table has {count} duplicate (customer_id, as_of) rows (first: "
            "{example}). Each customer needs at most one snapshot per date."
        ),
        "zh_CN": "训练表有 {count} 行重复的 (customer_id, as_of)（第一个：{example}）。每个客户在每个日期最多只能有一个快照。",
    },
})


@dataclass(frozen=True)
class LightGBMParams:
    """Booster settings from ``params.yaml`` (``train.lightgbm``), in scikit-learn names.

    :meth:`native` translates them to LightGBM's native parameter names.
    """

    n_estimators: int
    learning_rate: float
    num_leaves: int
    min_child_samples: int
    subsample: float
    subsample_freq: int
    colsample_bytree: float
    reg_lambda: float
    early_stopping_rounds: int
    reg_alpha: float = 0.0
    max_depth: int = -1
    min_split_gain: float = 0.0

    @classmethod
    def from_mapping(cls, mapping: Mapping) -> LightGBMParams:
        """Validate ``train.lightgbm`` and build the parameters.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        section = "train.lightgbm"
        _check_keys(section, mapping, cls)
        max_depth = mapping.get("max_depth", -1)
        valid_depth = isinstance(max_depth, int) and not isinstance(max_depth, bool)
        if not valid_depth or max_depth == 0 or max_depth < -1:
            raise ParamsError("model.train.param_max_depth", value=max_depth)
        return cls(
            n_estimators=_int(section, mapping, "n_estimators", minimum=1),
            learning_rate=_number(
                section, mapping, "learning_rate", low=0.0, high=1.0, low_open=True
            ),
            num_leaves=_int(section, mapping, "num_leaves", minimum=2),
            min_child_samples=_int(section, mapping, "min_child_samples", minimum=1),
            subsample=_number(section, mapping, "subsample", low=0.0, high=1.0, low_open=True),
            subsample_freq=_int(section, mapping, "subsample_freq", minimum=0),
            colsample_bytree=_number(
                section, mapping, "colsample_bytree", low=0.0, high=1.0, low_open=True
            ),
            reg_lambda=_number(section, mapping, "reg_lambda", low=0.0, high=math.inf),
            early_stopping_rounds=_int(section, mapping, "early_stopping_rounds", minimum=1),
            reg_alpha=_number(section, mapping, "reg_alpha", low=0.0, high=math.inf, default=0.0),
            max_depth=max_depth,
            min_split_gain=_number(
                section, mapping, "min_split_gain", low=0.0, high=math.inf, default=0.0
            ),
        )

    def native(self, *, seed: int, monotone_constraints: Sequence[int]) -> dict:
        """Return the native ``lightgbm.train`` parameters, deterministic on fixed threads."""
        return {
            "objective": "binary",
            # Early stopping watches the first metric: AUC, because the booster only
            # has to rank; the calibrator fits the PD level afterwards.
            "metric": ["auc", "binary_logloss"],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": self.subsample_freq,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "lambda_l1": self.reg_alpha,
            "min_gain_to_split": self.min_split_gain,
            "monotone_constraints": list(monotone_constraints),
            "monotone_constraints_method": "basic",
            "use_missing": True,
            "zero_as_missing": False,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": NUM_THREADS,
            "seed": seed,
            "verbosity": -1,
        }


@dataclass(frozen=True)
class TrainParams:
    """Validated ``train`` section of ``params.yaml``.

    Attributes
    ----------
    seed : int
        Seed of bagging, feature sampling and the calibration folds.
    valid_months, oot_months : int
        Months in the validation and out-of-time parts of the time split.
    calibration : {"auto", "isotonic", "sigmoid"}
        Calibration method; ``auto`` chooses by out-of-fold Brier score and
        calibration error on validation.
    min_oot_auc : float
        Minimum out-of-time AUC for the model to become champion, in [0, 1].
    lightgbm : LightGBMParams
        Booster settings.
    monotone_constraints : Mapping[str, int]
        Feature name to +1 (PD never decreases as the feature rises), -1 (never
        increases) or 0. Unlisted features are unconstrained.
    gap_months : int, default 0
        Training snapshots must be at least this many months before the first
        out-of-time month, so that their outcome windows (set it to the label
        horizon) end before the out-of-time period starts.
    gates : GateThresholds or None, default None
        Promotion gates from ``train.gates`` together with ``min_oot_auc``; None
        when the section has no ``gates`` mapping.
    challenger : ChallengerParams or None, default None
        Challenger scorecard settings (``train.challenger``); None when absent.
    segments : SegmentParams or None, default None
        Segment definitions for metrics by segment (``train.segments``).
    search : SearchParams or None, default None
        Hyperparameter search settings (``train.search``).
    calibration_min_positives : int, default MIN_POSITIVES
        Fewer bads than this in validation warn, and ``auto`` then uses sigmoid.
    """

    seed: int
    valid_months: int
    oot_months: int
    calibration: str
    min_oot_auc: float
    lightgbm: LightGBMParams
    monotone_constraints: Mapping[str, int]
    gap_months: int = 0
    gates: GateThresholds | None = None
    challenger: ChallengerParams | None = None
    segments: SegmentParams | None = None
    search: SearchParams | None = None
    calibration_min_positives: int = MIN_POSITIVES

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping,
        *,
        feature_names: Sequence[str] = FEATURE_NAMES,
        categorical_features: Sequence[str] = CATEGORICAL_FEATURES,
    ) -> TrainParams:
        """Validate the ``train`` section and build the parameters.

        Parameters
        ----------
        mapping : Mapping
            The ``train`` section of ``params.yaml``.
        feature_names, categorical_features : sequence of str
            Features that monotone constraints may name (default: the catalog).

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        _check_keys("train", mapping, cls)
        calibration = mapping["calibration"]
        if calibration not in CALIBRATION_METHODS:
            raise ParamsError(
                "model.calibration.invalid_method",
                choices=", ".join(CALIBRATION_METHODS),
                value=calibration,
            )
        lightgbm_section = mapping["lightgbm"]
        if not isinstance(lightgbm_section, Mapping):
            raise ParamsError(
                "model.train.param_not_mapping", section="train.lightgbm", value=lightgbm_section
            )
        return cls(
            seed=_int("train", mapping, "seed", minimum=0),
            valid_months=_int("train", mapping, "valid_months", minimum=1),
            oot_months=_int("train", mapping, "oot_months", minimum=1),
            calibration=calibration,
            min_oot_auc=_number("train", mapping, "min_oot_auc", low=0.0, high=1.0),
            lightgbm=LightGBMParams.from_mapping(lightgbm_section),
            monotone_constraints=_constraints(
                mapping["monotone_constraints"], feature_names, categorical_features
            ),
            gap_months=_int("train", mapping, "gap_months", minimum=0) if "gap_months" in mapping else 0,
            gates=GateThresholds.from_train_section(mapping) if "gates" in mapping else None,
            challenger=_optional(mapping, "challenger", ChallengerParams.from_mapping),
            segments=_optional(mapping, "segments", SegmentParams.from_mapping),
            search=_optional(mapping, "search", SearchParams.from_mapping),
            calibration_min_positives=(
                _int("train", mapping, "calibration_min_positives", minimum=1)
                if "calibration_min_positives" in mapping else MIN_POSITIVES
            ),
        )

    def to_record(self) -> dict:
        """Return the parameters as a flat JSON-safe dictionary with dotted keys."""
        record = {
            "train.seed": self.seed,
            "train.valid_months": self.valid_months,
            "train.oot_months": self.oot_months,
            "train.gap_months": self.gap_months,
            "train.calibration": self.calibration,
            "train.calibration_min_positives": self.calibration_min_positives,
            "train.min_oot_auc": self.min_oot_auc,
        }
        for item in fields(self.lightgbm):
            record[f"train.lightgbm.{item.name}"] = getattr(self.lightgbm, item.name)
        for name, sign in self.monotone_constraints.items():
            record[f"train.monotone_constraints.{name}"] = sign
        if self.gates is not None:
            for item in fields(self.gates):
                if item.name != "min_oot_auc":
                    record[f"train.gates.{item.name}"] = getattr(self.gates, item.name)
        return record


@dataclass(frozen=True)
class TrainedModel:
    """A trained and calibrated PD model with its evaluation.

    Attributes
    ----------
    booster : lightgbm.Booster
        Booster cut to ``best_iteration`` trees, so every prediction uses all trees.
    encoder : CategoryEncoder
        Category levels frozen on the training part.
    calibrator : Calibrator
        Map from raw margin to PD, fitted on validation.
    feature_names : tuple of str
        Model features in the booster's column order.
    categorical_features : tuple of str
        Features passed to LightGBM as categorical codes.
    monotone_constraints : dict[str, int]
        Constraint of every feature (0 when unconstrained).
    metrics : dict[str, dict]
        :func:`~creditlimit.models.metrics.evaluate` output for ``train``, ``valid``
        and ``oot``. AUC, Gini and KS use the raw margin; Brier and ECE the PD.
    split : dict[str, dict]
        First and last ``as_of`` date, month, row and bad counts of each part.
    best_iteration : int
        Number of boosting rounds kept after early stopping on validation AUC.
    params : TrainParams
        Parameters the model was trained with.
    lightgbm_params : dict[str, object]
        Native LightGBM parameters passed to ``lightgbm.train``.
    feature_importance : dict[str, float]
        Total split gain per feature.
    input_example : pandas.DataFrame
        Two example rows with every feature: training medians (most frequent level
        for categoricals), and a row with every value missing.
    training_seconds : float
        Wall-clock time of :func:`train_pd_model`.
    """

    booster: lightgbm.Booster
    encoder: CategoryEncoder
    calibrator: Calibrator
    feature_names: tuple[str, ...]
    categorical_features: tuple[str, ...]
    monotone_constraints: dict[str, int]
    metrics: dict[str, dict]
    split: dict[str, dict]
    best_iteration: int
    params: TrainParams
    lightgbm_params: dict[str, object]
    feature_importance: dict[str, float]
    input_example: pd.DataFrame
    training_seconds: float

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score a feature table in process.

        Returns
        -------
        pandas.DataFrame
            ``pd_12m`` (PD in [0, 1]) and ``raw_margin`` (log-odds), same index as ``frame``.
        """
        matrix, _ = build_feature_matrix(
            frame, feature_names=self.feature_names, encoder=self.encoder
        )
        raw_margin = self.booster.predict(matrix, raw_score=True)
        return pd.DataFrame(
            {"pd_12m": self.calibrator.predict(raw_margin), "raw_margin": raw_margin},
            index=frame.index,
        )


def train_pd_model(
    table: pd.DataFrame,
    *,
    params: TrainParams,
    feature_names: Sequence[str] = FEATURE_NAMES,
    categorical_features: Sequence[str] = CATEGORICAL_FEATURES,
) -> TrainedModel:
    """Train, calibrate and evaluate the PD model on labelled snapshots.

    Steps:

    1. Split by ``as_of`` month into train, validation and out-of-time parts.
    2. Freeze the category levels on the training part.
    3. Boost with LightGBM under the monotone constraints, stopping early on
       validation AUC.
    4. Calibrate the raw margin on validation.
    5. Evaluate every part.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (customer_id, as_of) with every feature, ``as_of`` (datetime64)
        and ``is_bad`` (0/1). Missing feature values stay NaN and reach LightGBM as
        missing. The table is not modified.
    params : TrainParams
        Validated training parameters.
    feature_names, categorical_features : sequence of str
        Model features and the categorical ones among them (default: the catalog).

    Returns
    -------
    TrainedModel

    Raises
    ------
    InputDataError
        If a column is missing or invalid, or the time split is impossible.
    ParamsError
        If a monotone constraint names a feature outside ``feature_names``.
    """
    started = time.perf_counter()
    features = tuple(feature_names)
    categoricals = tuple(name for name in features if name in set(categorical_features))
    constraints = _constraints(params.monotone_constraints, features, categoricals)
    full_constraints = {name: constraints.get(name, 0) for name in features}
    _check_snapshots(table)

    # Split by time and freeze category levels on the training months only.
    split = split_by_time(table, valid_months=params.valid_months, oot_months=params.oot_months,
                          gap_months=params.gap_months)
    encoder = CategoryEncoder.fit(table.loc[split.train.mask, list(categoricals)], categoricals)
    matrix, _ = build_feature_matrix(table, feature_names=features, encoder=encoder)
    labels = table[LABEL_COLUMN].to_numpy(np.float64).astype(np.int64)
    logger.info(
        "Training on %d rows (%d train, %d valid, %d oot), %d features",
        len(table), split.train.rows, split.valid.rows, split.oot.rows, len(features),
    )

    # Boost with early stopping on validation.
    native = params.lightgbm.native(
        seed=params.seed, monotone_constraints=list(full_constraints.values())
    )
    boost_started = time.perf_counter()
    booster, best_iteration = fit_booster(
        matrix, labels, train_mask=split.train.mask, valid_mask=split.valid.mask,
        features=features, categoricals=categoricals, native=native, params=params.lightgbm,
    )
    logger.info(
        "Boosting kept %d trees in %.1f s", best_iteration, time.perf_counter() - boost_started
    )

    # Calibrate on validation and evaluate every part.
    raw_margin = booster.predict(matrix, raw_score=True)
    valid = split.valid.mask
    calibrator = choose_calibrator(
        raw_margin[valid], labels[valid], method=params.calibration, seed=params.seed,
        min_positives=params.calibration_min_positives,
    )
    pd_values = calibrator.predict(raw_margin)
    metrics = {
        part.name: evaluate(labels[part.mask], pd_values[part.mask], raw_margin[part.mask])
        for part in split.parts()
    }
    logger.info(
        "Calibration %s; OOT AUC %s, Brier %s",
        calibrator.method, metrics["oot"]["auc"], metrics["oot"]["brier"],
    )

    return TrainedModel(
        booster=booster,
        encoder=encoder,
        calibrator=calibrator,
        feature_names=features,
        categorical_features=categoricals,
        monotone_constraints=full_constraints,
        metrics=metrics,
        split=split.boundaries(),
        best_iteration=best_iteration,
        params=params,
        lightgbm_params=native,
        feature_importance=_importance(booster, features),
        input_example=_input_example(table.loc[split.train.mask], features, encoder),
        training_seconds=time.perf_counter() - started,
    )


def fit_booster(
    matrix: np.ndarray,
    labels: np.ndarray,
    *,
    train_mask: np.ndarray,
    valid_mask: np.ndarray,
    features: tuple[str, ...],
    categoricals: tuple[str, ...],
    native: dict,
    params: LightGBMParams,
) -> tuple[lightgbm.Booster, int]:
    """Boost on the training rows, stop early on validation, and keep the best trees.

    ``train_pd_model`` passes the masks of its time split; the real-data benchmark
    passes cross-validation folds, so both train the same way. The returned booster is rebuilt from the model text cut at the best iteration,
    so every later prediction (and the registered model) uses exactly those trees.
    """
    import lightgbm  # lazy: keeps the CLI start-up fast

    train_set = lightgbm.Dataset(
        matrix[train_mask],
        label=labels[train_mask],
        feature_name=list(features),
        categorical_feature=[features.index(name) for name in categoricals],
        free_raw_data=True,
    )
    valid_set = lightgbm.Dataset(
        matrix[valid_mask], label=labels[valid_mask], reference=train_set
    )
    stopping = lightgbm.early_stopping(
        params.early_stopping_rounds, first_metric_only=True, verbose=False
    )
    booster = lightgbm.train(
        native,
        train_set,
        num_boost_round=params.n_estimators,
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=[stopping],
    )
    best_iteration = int(booster.best_iteration or booster.current_iteration())
    text = booster.model_to_string(num_iteration=best_iteration)
    return lightgbm.Booster(model_str=text), best_iteration


def _check_snapshots(table: pd.DataFrame) -> None:
    if LABEL_COLUMN not in table.columns:
        raise InputDataError("model.split.missing_column", column=LABEL_COLUMN)
    if "customer_id" not in table.columns:
        return
    duplicated = table.duplicated(subset=["customer_id", "as_of"]).to_numpy()
    if duplicated.any():
        first = table.loc[duplicated, ["customer_id", "as_of"]].iloc[0]
        raise InputDataError(
            "model.train.duplicate_snapshots",
            count=int(duplicated.sum()),
            example=f"{first['customer_id']}, {first['as_of']}",
        )


def _importance(booster: lightgbm.Booster, features: tuple[str, ...]) -> dict[str, float]:
    gains = booster.feature_importance(importance_type="gain")
    return {name: float(gain) for name, gain in zip(features, gains, strict=True)}


def _input_example(
    train_rows: pd.DataFrame, features: tuple[str, ...], encoder: CategoryEncoder
) -> pd.DataFrame:
    typical, missing = {}, {}
    for name in features:
        if name in encoder.levels:
            counts = train_rows[name].dropna().astype(str).value_counts()
            typical[name] = counts.index[0] if len(counts) else None
            missing[name] = None
        else:
            values = pd.to_numeric(train_rows[name], errors="coerce").to_numpy(np.float64)
            typical[name] = float(np.nanmedian(values)) if np.isfinite(values).any() else math.nan
            missing[name] = math.nan
    example = pd.DataFrame([typical, missing], columns=list(features))
    for name in features:
        example[name] = example[name].astype(object if name in encoder.levels else np.float64)
    return example


def _constraints(
    raw: object, feature_names: Sequence[str], categorical_features: Sequence[str]
) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise ParamsError(
            "model.train.param_not_mapping", section="train.monotone_constraints", value=raw
        )
    unknown = [name for name in raw if name not in feature_names]
    if unknown:
        raise ParamsError(
            "model.train.constraint_unknown_feature", names=", ".join(map(str, unknown))
        )
    constraints = {}
    for name, sign in raw.items():
        if isinstance(sign, bool) or sign not in (-1, 0, 1):
            raise ParamsError("model.train.constraint_value", name=name, value=sign)
        if name in categorical_features and sign != 0:
            raise ParamsError("model.train.constraint_categorical", name=name)
        constraints[name] = int(sign)
    return constraints


def _optional(mapping: Mapping, name: str, build):
    return build(mapping[name]) if name in mapping else None


def _check_keys(section: str, mapping: object, cls: type) -> None:
    if not isinstance(mapping, Mapping):
        raise ParamsError("model.train.param_not_mapping", section=section, value=mapping)
    allowed = [item.name for item in fields(cls)]
    required = [
        item.name
        for item in fields(cls)
        if item.default is MISSING and item.default_factory is MISSING
    ]
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise ParamsError(
            "model.train.param_unknown",
            section=section,
            names=", ".join(unknown),
            allowed=", ".join(allowed),
        )
    for name in required:
        if name not in mapping:
            raise ParamsError("model.train.param_missing", section=section, name=name)


def _int(section: str, mapping: Mapping, name: str, *, minimum: int) -> int:
    value = mapping[name]
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParamsError(
            "model.train.param_not_int", section=section, name=name, minimum=minimum, value=value
        )
    return int(value)


def _number(
    section: str,
    mapping: Mapping,
    name: str,
    *,
    low: float,
    high: float,
    low_open: bool = False,
    default: float | None = None,
) -> float:
    value = mapping.get(name, default)
    valid = (
        isinstance(value, int | float | np.number)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > low if low_open else value >= low)
        and value <= high
    )
    if not valid:
        opening = "(" if low_open else "["
        closing = "]" if math.isfinite(high) else ")"
        interval = f"{opening}{low:g}, {high:g}{closing}"
        raise ParamsError(
            "model.train.param_not_in_range",
            section=section,
            name=name,
            interval=interval,
            value=value,
        )
    return float(value)
