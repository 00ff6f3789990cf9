"""Challenger scorecard: logistic regression on WoE bins (optbinning), scaled to points.

The challenger is the model a credit-risk team would build without gradient
boosting. Every feature is binned on the training part with optbinning's optimal
binning, with the event-rate trend taken from ``train.monotone_constraints``. Each
bin gets its weight of evidence (WoE), and a logistic regression on the WoE values
gives the log-odds of default. Points follow the PDO / base-odds convention, so a
higher score means a safer customer.

Conventions
-----------
- WoE is optbinning's: ``ln(share of goods in the bin / share of bads in the bin)``,
  so a higher WoE means a safer bin and every kept coefficient is negative.
- Missing values stay missing: each feature has its own missing bin with the WoE
  observed for missing values in training. A bin without bads or without goods
  (including a missing bin that was empty in training) gets WoE 0, the portfolio
  average; optbinning applies the same rule, and so do the stored tables and scoring.
- Categorical values never seen in training score as missing, as in the champion.

The fitted model is stored as JSON (:meth:`ScorecardModel.to_dict`); scoring needs
numpy and pandas only.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from creditlimit.errors import ModelError
from creditlimit.i18n import register
from creditlimit.models.scorecard_params import BinningOptions, ChallengerParams

__all__ = [
    "BinningOptions",
    "ChallengerParams",
    "FeatureBins",
    "ScorecardModel",
    "TrainedScorecard",
    "monotonic_trends",
    "points_scaling",
    "fit_scorecard",
    "train_challenger",
]

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1
_MISSING_BIN = "Missing"
_SPECIAL_BIN = "Special"

register({
    "model.scorecard.no_feature_left": {
        "en": (
            "The challenger scorecard kept no feature: every coefficient had the wrong "
            "sign. Check the training labels and train.challenger.binning."
        ),
        "zh_CN": "挑战者评分卡没有保留任何特征：所有系数的符号都不合理。请检查训练标签和 train.challenger.binning。",
    },
    "model.scorecard.corrupt": {
        "en": "Stored scorecard is invalid: {problem}. Retrain and register the model.",
        "zh_CN": "保存的评分卡无效：{problem}。请重新训练并注册模型。",
    },
    "model.scorecard.missing_columns": {
        "en": "Feature table is missing {count} column(s) the scorecard needs: {columns}.",
        "zh_CN": "特征表缺少评分卡所需的 {count} 个列：{columns}。",
    },

})


@dataclass(frozen=True)
class FeatureBins:
    """Bins of one feature with their WoE and points.

    Attributes
    ----------
    name : str
        Feature name.
    kind : {"numerical", "categorical"}
        How values are assigned to bins.
    splits : tuple of float
        Numerical: bin ``i`` contains ``splits[i-1] <= x < splits[i]`` (first bin
        unbounded below, last bin unbounded above). Empty for categoricals.
    categories : tuple of tuple of str
        Categorical: the training categories of each bin. Empty for numericals.
    woe : tuple of float
        WoE of each regular bin followed by the WoE of the missing bin.
    event_rate : tuple of float
        Training default rate of each bin, missing bin last (0 for an empty bin).
    counts : tuple of int
        Training rows of each bin, missing bin last.
    coefficient : float
        Logistic-regression coefficient of the WoE (negative).
    points : tuple of float
        Scorecard points of each bin, missing bin last.
    trend : str
        optbinning monotonic trend the bins were fitted with.
    """

    name: str
    kind: str
    splits: tuple[float, ...]
    categories: tuple[tuple[str, ...], ...]
    woe: tuple[float, ...]
    event_rate: tuple[float, ...]
    counts: tuple[int, ...]
    coefficient: float
    points: tuple[float, ...]
    trend: str

    def bin_index(self, values: pd.Series) -> np.ndarray:
        """Return the bin of each value; missing and unseen values get the missing bin."""
        missing_bin = len(self.woe) - 1
        if self.kind == "numerical":
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
            index = np.digitize(numbers, np.asarray(self.splits, dtype=np.float64), right=False)
            index[np.isnan(numbers)] = missing_bin
            return index.astype(np.int64)
        lookup = {category: i for i, members in enumerate(self.categories) for category in members}
        text = values.astype(object).where(values.notna(), None)
        return np.asarray(
            [missing_bin if value is None else lookup.get(str(value), missing_bin) for value in text],
            dtype=np.int64,
        )

    def labels(self) -> list[str]:
        """Return a readable label of every bin, missing bin last."""
        if self.kind == "numerical":
            edges = [-math.inf, *self.splits, math.inf]
            regular = [f"[{edges[i]:.6g}, {edges[i + 1]:.6g})" for i in range(len(edges) - 1)]
        else:
            regular = [", ".join(members) for members in self.categories]
        return [*regular, _MISSING_BIN]


@dataclass(frozen=True)
class ScorecardModel:
    """A fitted scorecard: bins, WoE, logistic coefficients and points, JSON-safe.

    Attributes
    ----------
    features : tuple of FeatureBins
        Kept features in model order.
    intercept : float
        Logistic-regression intercept (log-odds of default).
    pdo, base_points, base_odds : float
        Points scaling (see :func:`points_scaling`).
    dropped : Mapping[str, str]
        Features left out of the regression, with the reason.
    """

    features: tuple[FeatureBins, ...]
    intercept: float
    pdo: float
    base_points: float
    base_odds: float
    dropped: Mapping[str, str] = field(default_factory=dict)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the kept features."""
        return tuple(bins.name for bins in self.features)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score a feature table.

        Returns
        -------
        pandas.DataFrame
            ``pd_12m`` (PD in [0, 1]), ``raw_margin`` (log-odds of default) and
            ``score_points`` (higher is safer), same index as ``frame``.

        Raises
        ------
        ModelError
            If a kept feature's column is missing.
        """
        missing = [bins.name for bins in self.features if bins.name not in frame.columns]
        if missing:
            raise ModelError(
                "model.scorecard.missing_columns", count=len(missing), columns=", ".join(missing)
            )
        log_odds = np.full(len(frame), self.intercept, dtype=np.float64)
        points = np.zeros(len(frame), dtype=np.float64)
        for bins in self.features:
            index = bins.bin_index(frame[bins.name])
            log_odds += bins.coefficient * np.asarray(bins.woe, dtype=np.float64)[index]
            points += np.asarray(bins.points, dtype=np.float64)[index]
        return pd.DataFrame(
            {"pd_12m": _logistic(log_odds), "raw_margin": log_odds, "score_points": points},
            index=frame.index,
        )

    def table(self) -> pd.DataFrame:
        """Return the scorecard table: one row per feature and bin with WoE and points."""
        rows = []
        for bins in self.features:
            for i, label in enumerate(bins.labels()):
                rows.append({
                    "feature": bins.name, "bin": i, "label": label, "count": bins.counts[i],
                    "event_rate": bins.event_rate[i], "woe": bins.woe[i],
                    "coefficient": bins.coefficient, "points": bins.points[i],
                    "trend": bins.trend,
                })
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """Return every fitted value as a JSON-safe dictionary (no pickle)."""
        return {
            "format_version": _FORMAT_VERSION,
            "intercept": self.intercept,
            "pdo": self.pdo, "base_points": self.base_points, "base_odds": self.base_odds,
            "dropped": dict(self.dropped),
            "features": [
                {"name": b.name, "kind": b.kind, "splits": list(b.splits),
                 "categories": [list(c) for c in b.categories], "woe": list(b.woe),
                 "event_rate": list(b.event_rate), "counts": list(b.counts),
                 "coefficient": b.coefficient, "points": list(b.points), "trend": b.trend}
                for b in self.features
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> ScorecardModel:
        """Rebuild a scorecard from :meth:`to_dict` output.

        Raises
        ------
        ModelError
            If the format version or a fitted value is invalid.
        """
        if not isinstance(data, Mapping) or data.get("format_version") != _FORMAT_VERSION:
            raise ModelError("model.scorecard.corrupt", problem="unknown format_version")
        try:
            features = tuple(
                FeatureBins(
                    name=str(f["name"]), kind=str(f["kind"]),
                    splits=tuple(float(v) for v in f["splits"]),
                    categories=tuple(tuple(str(c) for c in members) for members in f["categories"]),
                    woe=tuple(float(v) for v in f["woe"]),
                    event_rate=tuple(float(v) for v in f["event_rate"]),
                    counts=tuple(int(v) for v in f["counts"]),
                    coefficient=float(f["coefficient"]),
                    points=tuple(float(v) for v in f["points"]), trend=str(f["trend"]),
                )
                for f in data["features"]
            )
            model = cls(features=features, intercept=float(data["intercept"]),
                        pdo=float(data["pdo"]), base_points=float(data["base_points"]),
                        base_odds=float(data["base_odds"]), dropped=dict(data["dropped"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError("model.scorecard.corrupt", problem=repr(error)) from error
        for bins in model.features:
            regular = len(bins.splits) + 1 if bins.kind == "numerical" else len(bins.categories)
            if bins.kind not in ("numerical", "categorical") or len(bins.woe) != regular + 1:
                raise ModelError("model.scorecard.corrupt", problem=f"bins of {bins.name}")
        return model


@dataclass(frozen=True)
class TrainedScorecard:
    """A fitted challenger scorecard with its evaluation.

    Attributes
    ----------
    model : ScorecardModel
        The fitted scorecard.
    metrics : dict[str, dict]
        :func:`~creditlimit.models.metrics.evaluate` output for ``train``, ``valid``
        and ``oot``; AUC, Gini and KS use the log-odds, Brier and ECE the PD.
    split : dict[str, dict]
        Boundaries of each part, as in the champion's ``TrainedModel.split``.
    params : ChallengerParams
        Parameters it was trained with.
    binning_table : pandas.DataFrame
        optbinning's binning table of every candidate feature (kept or not).
    training_seconds : float
        Wall-clock time of the fit.
    input_example : pandas.DataFrame
        Two rows of the kept features: training medians (most frequent level for
        categoricals) and a row with every value missing.
    """

    model: ScorecardModel
    metrics: dict[str, dict]
    split: dict[str, dict]
    params: ChallengerParams
    binning_table: pd.DataFrame
    training_seconds: float
    input_example: pd.DataFrame

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score a feature table with :meth:`ScorecardModel.predict`."""
        return self.model.predict(frame)


def monotonic_trends(
    constraints: Mapping[str, int], features: Sequence[str]
) -> dict[str, str]:
    """Map LightGBM monotone constraints to optbinning event-rate trends.

    +1 (PD never decreases as the feature rises) gives ``"ascending"``, -1 gives
    ``"descending"`` and an unconstrained feature ``"auto"``. Categorical features
    are not given a trend.
    """
    names = {1: "ascending", -1: "descending"}
    return {name: names.get(int(constraints.get(name, 0)), "auto") for name in features}


def points_scaling(*, pdo: float, base_points: float, base_odds: float) -> tuple[float, float]:
    """Return ``(factor, offset)`` with ``score = offset + factor * ln(good:bad odds)``.

    ``factor = pdo / ln 2`` and ``offset = base_points - factor * ln(base_odds)``, so
    the score is ``base_points`` at odds ``base_odds`` and rises by ``pdo`` each time
    the odds double (Siddiqi, *Credit Risk Scorecards*, 2006, chapter 10).

    Examples
    --------
    >>> factor, offset = points_scaling(pdo=20, base_points=600, base_odds=50)
    >>> round(offset + factor * math.log(100), 6)
    620.0
    """
    factor = pdo / math.log(2.0)
    return factor, base_points - factor * math.log(base_odds)


def fit_scorecard(
    frame: pd.DataFrame,
    y: np.ndarray,
    *,
    params: ChallengerParams,
    features: Sequence[str],
    categorical_features: Sequence[str],
    trends: Mapping[str, str],
) -> tuple[ScorecardModel, pd.DataFrame]:
    """Bin, WoE-transform and regress on the rows given, then scale to points.

    Steps:

    1. Fit optbinning's ``BinningProcess`` with the trend of each numerical feature.
    2. Transform to WoE, with the observed WoE of each missing bin.
    3. Fit the logistic regression; while a coefficient is positive (the feature
       would score against its own bins' evidence), drop the feature with the
       largest one and refit.
    4. Scale each bin's contribution to points.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training rows with every feature; missing values stay NaN or None.
    y : numpy.ndarray of shape (n_rows,)
        Outcome, 1 bad and 0 good.
    params : ChallengerParams
        Scaling, regularisation and binning options.
    features, categorical_features : sequence of str
        Candidate features and the categorical ones among them.
    trends : Mapping[str, str]
        optbinning monotonic trend of each numerical feature.

    Returns
    -------
    model : ScorecardModel
    binning_table : pandas.DataFrame
        optbinning's binning table of every candidate feature.
    """
    from optbinning import BinningProcess  # lazy: optbinning imports ortools

    # A feature with no value in the training rows cannot be binned.
    empty = {name: "no value in the training part" for name in features if frame[name].isna().all()}
    features = [name for name in features if name not in empty]
    categoricals = [name for name in features if name in set(categorical_features)]
    matrix = _binning_input(frame, features, categoricals)
    options = params.binning
    process = BinningProcess(
        features, categorical_variables=categoricals or None,
        max_n_prebins=options.max_n_prebins, min_prebin_size=options.min_prebin_size,
        max_n_bins=options.max_n_bins, min_bin_size=options.min_bin_size,
        binning_fit_params={name: {"monotonic_trend": trends.get(name, "auto")}
                            for name in features if name not in categoricals},
    )
    process.fit(matrix, y)
    woe = process.transform(matrix, metric="woe", metric_missing="empirical",
                            metric_special="empirical")

    kept, coefficients, intercept, dropped = _regress(woe, y, features, params.logistic_c)
    dropped = {**empty, **dropped}
    factor, offset = points_scaling(pdo=params.pdo, base_points=params.base_points,
                                    base_odds=params.base_odds)
    bins = tuple(
        _feature_bins(process.get_binned_variable(name), name, coefficients[name], intercept,
                      factor=factor, offset=offset, n_features=len(kept),
                      trend="categorical" if name in categoricals else trends.get(name, "auto"))
        for name in kept
    )
    model = ScorecardModel(features=bins, intercept=intercept, pdo=params.pdo,
                           base_points=params.base_points, base_odds=params.base_odds,
                           dropped=dropped)
    return model, _binning_tables(process, features)


def train_challenger(
    table: pd.DataFrame,
    *,
    params: ChallengerParams,
    valid_months: int,
    oot_months: int,
    gap_months: int,
    monotone_constraints: Mapping[str, int],
    feature_names: Sequence[str] | None = None,
    categorical_features: Sequence[str] | None = None,
) -> TrainedScorecard:
    """Fit the challenger on the training part of the champion's time split and evaluate it.

    The split is :func:`~creditlimit.models.split.split_by_time` with the same
    months as the champion candidate, so both models are compared on the same rows.
    Only the training part is used for fitting. Validation and out-of-time rows are
    only scored.

    Parameters
    ----------
    table : pandas.DataFrame
        Labelled snapshots (``as_of``, ``is_bad`` and every feature). Not modified.
    params : ChallengerParams
        Challenger settings.
    valid_months, oot_months, gap_months : int
        Time split, as in ``train``.
    monotone_constraints : Mapping[str, int]
        Constraint of each feature (see :func:`monotonic_trends`).
    feature_names, categorical_features : sequence of str, optional
        Candidate features (default: the feature catalog).

    Returns
    -------
    TrainedScorecard
    """
    from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES
    from creditlimit.models.metrics import evaluate
    from creditlimit.models.split import split_by_time

    started = time.perf_counter()
    features = tuple(feature_names or FEATURE_NAMES)
    categoricals = tuple(name for name in features
                         if name in set(categorical_features or CATEGORICAL_FEATURES))
    split = split_by_time(table, valid_months=valid_months, oot_months=oot_months,
                          gap_months=gap_months)
    labels = table["is_bad"].to_numpy(np.float64).astype(np.int64)
    numerical = [name for name in features if name not in categoricals]
    model, binning_table = fit_scorecard(
        table.loc[split.train.mask], labels[split.train.mask], params=params,
        features=features, categorical_features=categoricals,
        trends=monotonic_trends(monotone_constraints, numerical),
    )

    scored = model.predict(table)
    pd_values, log_odds = scored["pd_12m"].to_numpy(), scored["raw_margin"].to_numpy()
    metrics = {
        part.name: evaluate(labels[part.mask], pd_values[part.mask], log_odds[part.mask])
        for part in split.parts()
    }
    logger.info("Challenger scorecard kept %d of %d features; OOT AUC %s, Brier %s",
                len(model.features), len(features), metrics["oot"]["auc"], metrics["oot"]["brier"])
    return TrainedScorecard(model=model, metrics=metrics, split=split.boundaries(), params=params,
                            binning_table=binning_table,
                            training_seconds=time.perf_counter() - started,
                            input_example=_input_example(table.loc[split.train.mask], model))


def _input_example(train_rows: pd.DataFrame, model: ScorecardModel) -> pd.DataFrame:
    typical, missing = {}, {}
    for bins in model.features:
        values = train_rows[bins.name].dropna()
        if bins.kind == "categorical":
            counts = values.astype(str).value_counts()
            typical[bins.name] = counts.index[0] if len(counts) else None
            missing[bins.name] = None
        else:
            typical[bins.name] = float(np.median(values.to_numpy(np.float64))) if len(values) else math.nan
            missing[bins.name] = math.nan
    example = pd.DataFrame([typical, missing], columns=list(model.feature_names))
    for bins in model.features:
        example[bins.name] = example[bins.name].astype(object if bins.kind == "categorical" else np.float64)
    return example


def _binning_input(frame: pd.DataFrame, features: list[str], categoricals: list[str]) -> pd.DataFrame:
    columns = {}
    for name in features:
        if name in categoricals:
            values = frame[name].astype(object)
            columns[name] = values.where(values.notna(), np.nan).to_numpy(dtype=object)
        else:
            columns[name] = pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64)
    return pd.DataFrame(columns)


def _regress(
    woe: pd.DataFrame, y: np.ndarray, features: list[str], c: float
) -> tuple[list[str], dict[str, float], float, dict[str, str]]:
    """Fit the logistic regression, dropping wrong-signed features one at a time."""
    from sklearn.linear_model import LogisticRegression  # lazy: sklearn import is slow

    kept, dropped = list(features), {}
    while kept:
        estimator = LogisticRegression(C=c, max_iter=2000)
        estimator.fit(woe[kept].to_numpy(np.float64), y)
        coefficients = dict(zip(kept, (float(v) for v in estimator.coef_.ravel()), strict=True))
        worst = max(kept, key=lambda name: coefficients[name])
        if coefficients[worst] <= 0.0:
            return kept, coefficients, float(estimator.intercept_[0]), dropped
        dropped[worst] = f"positive WoE coefficient {coefficients[worst]:.4g}"
        kept.remove(worst)
    raise ModelError("model.scorecard.no_feature_left")


def _feature_bins(
    binned: object, name: str, coefficient: float, intercept: float, *,
    factor: float, offset: float, n_features: int, trend: str,
) -> FeatureBins:
    """Read one optbinning variable into FeatureBins and compute its points.

    Each bin's points are ``offset / n - factor * (coefficient * woe + intercept / n)``,
    so a customer's total is ``offset - factor * log-odds of default``.
    """
    table = binned.binning_table.build(add_totals=False)
    regular = table[~table["Bin"].astype(str).isin([_SPECIAL_BIN, _MISSING_BIN])]
    missing = table[table["Bin"].astype(str) == _MISSING_BIN]
    rows = pd.concat([regular, missing])
    woe = tuple(float(v) for v in rows["WoE"])
    points = tuple(offset / n_features - factor * (coefficient * w + intercept / n_features)
                   for w in woe)
    if binned.dtype == "categorical":
        categories = tuple(tuple(str(c) for c in members) for members in binned.splits)
        splits: tuple[float, ...] = ()
    else:
        categories, splits = (), tuple(float(v) for v in binned.splits)
    return FeatureBins(
        name=name, kind="categorical" if binned.dtype == "categorical" else "numerical",
        splits=splits, categories=categories, woe=woe,
        event_rate=tuple(float(v) for v in rows["Event rate"]),
        counts=tuple(int(v) for v in rows["Count"]), coefficient=coefficient,
        points=points, trend=trend,
    )


def _binning_tables(process: object, features: list[str]) -> pd.DataFrame:
    tables = []
    for name in features:
        table = process.get_binned_variable(name).binning_table.build(add_totals=False)
        table = table.reset_index(names="bin_id")
        table.insert(0, "feature", name)
        table["Bin"] = table["Bin"].map(_bin_text)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _bin_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return "[" + ", ".join(str(v) for v in np.asarray(value).tolist()) + "]"


def _logistic(logit: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -logit))
