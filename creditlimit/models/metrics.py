"""Model metrics defined once: AUC, Gini, KS, Brier, log loss, calibration error and tests.

Conventions shared by every function here:

- ``y`` is the outcome, 1 for a bad (default within the horizon) and 0 for a good.
- ``score`` ranks risk: a higher score means a riskier customer (the raw LightGBM
  margin in log-odds, or the PD itself).
- ``pd`` is a probability of default in [0, 1].
- A metric that cannot be computed (one class only, or no rows) is returned as an
  undefined :class:`MetricValue` with a reason, not as 0 and not as an exception.
  A thin segment then cannot stop a report or pull an average down. Invalid inputs
  (an outcome other than 0/1, a missing score, a PD outside [0, 1]) still raise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import register, translate

__all__ = [
    "MetricValue",
    "auc",
    "gini",
    "ks",
    "brier",
    "log_loss",
    "expected_calibration_error",
    "default_rate_by_grade",
    "grade_calibration_test",
    "evaluate",
    "evaluate_by_segment",
]

register({
    "model.metrics.undefined_one_class": {
        "en": "undefined: one class ({goods} goods, {bads} bads)",
        "zh_CN": "未定义：只有一个类别（{goods} 个正常，{bads} 个违约）",
    },
    "model.metrics.undefined_no_rows": {
        "en": "undefined: no rows",
        "zh_CN": "未定义：没有数据行",
    },
    "model.metrics.length_mismatch": {
        "en": (
            "Metric inputs have different lengths: {name} has {length} values but y has "
            "{expected}. Pass one value per row."
        ),
        "zh_CN": "指标输入长度不一致：{name} 有 {length} 个值，而 y 有 {expected} 个。请为每一行提供一个值。",
    },
    "model.metrics.invalid_outcome": {
        "en": (
            "Outcome y must contain only 0 and 1 with no missing values; got {count} "
            "invalid values (first: {example}). Fix the labels before computing metrics."
        ),
        "zh_CN": "结果变量 y 只能取 0 或 1 且不能缺失；发现 {count} 个无效值（第一个：{example}）。请先修正标签再计算指标。",
    },
    "model.metrics.invalid_score": {
        "en": (
            "{name} must be finite numbers with no missing values; got {count} invalid "
            "values (first: {example}). Score every row before computing metrics."
        ),
        "zh_CN": "{name} 必须是有限数值且不能缺失；发现 {count} 个无效值（第一个：{example}）。请先为每一行评分再计算指标。",
    },
    "model.metrics.invalid_pd": {
        "en": "{name} must lie in [0, 1]; got {count} values outside (first: {example}).",
        "zh_CN": "{name} 必须位于 [0, 1] 区间内；发现 {count} 个越界值（第一个：{example}）。",
    },
    "model.metrics.invalid_bins": {
        "en": "n_bins must be an integer >= 1; got {value!r}.",
        "zh_CN": "n_bins 必须是大于等于 1 的整数；实际为 {value!r}。",
    },
    "model.metrics.invalid_strategy": {
        "en": "strategy must be 'quantile' or 'uniform'; got {value!r}.",
        "zh_CN": "strategy 必须是 'quantile' 或 'uniform'；实际为 {value!r}。",
    },
    "model.metrics.invalid_eps": {
        "en": "eps must be a number with 0 < eps < 0.5; got {value!r}.",
        "zh_CN": "eps 必须是满足 0 < eps < 0.5 的数值；实际为 {value!r}。",
    },
    "model.metrics.invalid_alpha": {
        "en": "alpha must be a number with 0 < alpha < 1, such as 0.05; got {value!r}.",
        "zh_CN": "alpha 必须是满足 0 < alpha < 1 的数值（例如 0.05）；实际为 {value!r}。",
    },
    "model.metrics.invalid_test_method": {
        "en": "method must be 'jeffreys'; got {value!r}.",
        "zh_CN": "method 必须是 'jeffreys'；实际为 {value!r}。",
    },
    "model.metrics.missing_column": {
        "en": (
            "Column '{column}' named by {argument} is missing from the frame. "
            "Available columns: {available}. Pass an existing column name."
        ),
        "zh_CN": "参数 {argument} 指定的列“{column}”不在数据表中。现有列：{available}。请传入已有的列名。",
    },
})

_REASON_LOCALE = "en"


@dataclass(frozen=True)
class MetricValue:
    """A metric result: a float when defined, ``None`` with a reason when undefined.

    Attributes
    ----------
    value : float or None
        The metric, or ``None`` when it is undefined for these rows.
    reason_key : str or None
        Catalog key of the reason the metric is undefined.
    reason_params : Mapping
        Values the reason text names (counts of goods and bads).
    """

    value: float | None
    reason_key: str | None = None
    reason_params: Mapping[str, object] = field(default_factory=dict)

    @property
    def defined(self) -> bool:
        """True when the metric has a value."""
        return self.value is not None

    @property
    def reason(self) -> str | None:
        """Reason in English, such as ``"undefined: one class (12 goods, 0 bads)"``."""
        return self.reason_text(_REASON_LOCALE)

    def reason_text(self, locale: str | None = None) -> str | None:
        """Render the reason in ``locale`` (default: the active locale)."""
        if self.reason_key is None:
            return None
        return translate(self.reason_key, locale, **self.reason_params)

    def __float__(self) -> float:
        return math.nan if self.value is None else self.value

    @classmethod
    def of(cls, value: float) -> MetricValue:
        """Wrap a defined value as a plain Python float."""
        return cls(float(value))


def auc(y: object, score: object) -> MetricValue:
    """Compute the area under the ROC curve of ``score`` against the outcome.

    Tied scores count one half, as in the Mann-Whitney U statistic.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Outcome, 1 bad and 0 good.
    score : array-like of shape (n_rows,)
        Risk score, higher is riskier.

    Returns
    -------
    MetricValue
        AUC in [0, 1], undefined when only one class is present.
    """
    outcome = _outcome(y)
    values = _scores(score, "score", outcome.size)
    undefined = _one_class(outcome)
    if undefined is not None:
        return undefined
    n_bads = int(outcome.sum())
    n_goods = outcome.size - n_bads
    ranks = pd.Series(values).rank(method="average").to_numpy()
    rank_sum = ranks[outcome == 1].sum()
    u_statistic = rank_sum - n_bads * (n_bads + 1) / 2.0
    return MetricValue.of(u_statistic / (n_bads * n_goods))


def gini(y: object, score: object) -> MetricValue:
    """Compute the Gini coefficient, ``2 * AUC - 1`` (undefined when AUC is)."""
    area = auc(y, score)
    if not area.defined:
        return area
    return MetricValue.of(2.0 * area.value - 1.0)


def ks(y: object, score: object) -> MetricValue:
    """Compute the Kolmogorov-Smirnov statistic between the scores of bads and goods.

    The statistic is the maximum absolute distance between the cumulative score
    distributions of bads and goods, evaluated at each distinct score value after
    all rows with that value (ties grouped), so the order of tied rows cannot
    change the result.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Outcome, 1 bad and 0 good.
    score : array-like of shape (n_rows,)
        Risk score.

    Returns
    -------
    MetricValue
        KS in [0, 1], undefined when only one class is present.

    Examples
    --------
    >>> round(float(ks([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.2, 0.3, 0.3, 0.4])), 6)
    0.333333
    """
    outcome = _outcome(y)
    values = _scores(score, "score", outcome.size)
    undefined = _one_class(outcome)
    if undefined is not None:
        return undefined
    _, group = np.unique(values, return_inverse=True)
    bads_per_value = np.bincount(group, weights=outcome.astype(np.float64))
    rows_per_value = np.bincount(group).astype(np.float64)
    goods_per_value = rows_per_value - bads_per_value
    cdf_bads = np.cumsum(bads_per_value) / bads_per_value.sum()
    cdf_goods = np.cumsum(goods_per_value) / goods_per_value.sum()
    return MetricValue.of(np.max(np.abs(cdf_bads - cdf_goods)))


def brier(y: object, pd_values: object) -> MetricValue:
    """Compute the Brier score, the mean squared difference between PD and outcome.

    Returns
    -------
    MetricValue
        Brier score in [0, 1], undefined when there are no rows.
    """
    outcome = _outcome(y)
    probabilities = _probabilities(pd_values, "pd", outcome.size)
    if outcome.size == 0:
        return MetricValue(None, "model.metrics.undefined_no_rows")
    return MetricValue.of(np.mean((probabilities - outcome) ** 2))


def log_loss(y: object, pd_values: object, *, eps: float = 1e-15) -> MetricValue:
    """Compute the mean negative log-likelihood (natural log) of the outcomes under the PDs.

    Each PD is first clipped to ``[eps, 1 - eps]``, so a PD of exactly 0 for a bad
    or 1 for a good adds ``-ln(eps)`` (about 34.5 for the default) instead of an
    infinite loss.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Outcome, 1 bad and 0 good.
    pd_values : array-like of shape (n_rows,)
        Predicted PD in [0, 1].
    eps : float, default 1e-15
        Clipping bound, with ``0 < eps < 0.5``.

    Returns
    -------
    MetricValue
        Log loss in nats (0 is perfect), undefined when there are no rows.

    Raises
    ------
    ParamsError
        If ``eps`` is not a number in (0, 0.5).

    Examples
    --------
    >>> round(float(log_loss([0, 1], [0.2, 0.6])), 6)
    0.366985
    """
    _check_open_interval(eps, 0.5, "model.metrics.invalid_eps")
    outcome = _outcome(y)
    probabilities = _probabilities(pd_values, "pd", outcome.size)
    if outcome.size == 0:
        return MetricValue(None, "model.metrics.undefined_no_rows")
    clipped = np.clip(probabilities, eps, 1.0 - eps)
    likelihood = np.where(outcome == 1, clipped, 1.0 - clipped)
    return MetricValue.of(-np.mean(np.log(likelihood)))


def expected_calibration_error(
    y: object, pd_values: object, *, n_bins: int = 10, strategy: str = "quantile"
) -> MetricValue:
    """Compute the expected calibration error of PDs against observed outcomes.

    ECE is the row-weighted mean over bins of ``|observed default rate - mean PD|``.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Outcome, 1 bad and 0 good.
    pd_values : array-like of shape (n_rows,)
        Predicted PD in [0, 1].
    n_bins : int, default 10
        Number of bins.
    strategy : {"quantile", "uniform"}, default "quantile"
        ``quantile``: equal-frequency bins whose edges are the PD quantiles
        (deciles by default). ``uniform``: equal-width bins over [0, 1].

    Returns
    -------
    MetricValue
        ECE in [0, 1], undefined when there are no rows.

    Notes
    -----
    Rows with the same PD always fall in the same bin, so heavy ties (such as
    isotonic plateaus) give fewer, larger quantile bins rather than splitting a tie.
    """
    _check_bins(n_bins, strategy)
    outcome = _outcome(y)
    probabilities = _probabilities(pd_values, "pd", outcome.size)
    if outcome.size == 0:
        return MetricValue(None, "model.metrics.undefined_no_rows")
    bins = _assign_bins(probabilities, n_bins=n_bins, strategy=strategy)
    rows = np.bincount(bins).astype(np.float64)
    used = rows > 0
    observed = np.bincount(bins, weights=outcome.astype(np.float64))[used] / rows[used]
    predicted = np.bincount(bins, weights=probabilities)[used] / rows[used]
    weights = rows[used] / outcome.size
    return MetricValue.of(np.sum(weights * np.abs(observed - predicted)))


def default_rate_by_grade(
    y: object,
    pd_values: object,
    grades: object,
    *,
    grade_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Tabulate the observed default rate and the mean PD per grade.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Outcome, 1 bad and 0 good.
    pd_values : array-like of shape (n_rows,)
        Predicted PD in [0, 1].
    grades : array-like of shape (n_rows,)
        Grade of each row (text).
    grade_order : sequence of str, optional
        Grades to report, in this order, including grades with no rows. By default
        the grades present, numeric grades first in numeric order, then the others.

    Returns
    -------
    pandas.DataFrame
        Columns ``grade``, ``n_rows``, ``n_bads``, ``observed_default_rate`` and
        ``mean_pd``. Both rates are NaN (undefined) for a grade with no rows.
    """
    outcome = _outcome(y)
    probabilities = _probabilities(pd_values, "pd", outcome.size)
    labels = np.asarray(grades, dtype=object).astype(str)
    _check_length(labels, "grades", outcome.size)
    order = list(grade_order) if grade_order is not None else _natural_grade_order(labels)
    frame = pd.DataFrame({"grade": labels, "bad": outcome, "pd": probabilities})
    grouped = frame.groupby("grade", sort=False)
    index = pd.Index(order, name="grade")
    # A grade with no rows has counts of 0 and undefined (NaN) rates.
    n_rows = grouped.size().reindex(index, fill_value=0).astype("int64")
    n_bads = grouped["bad"].sum().reindex(index, fill_value=0).astype("int64")
    mean_pd = grouped["pd"].mean().reindex(index)
    observed = n_bads.astype(np.float64).where(n_rows > 0) / n_rows.where(n_rows > 0)
    table = pd.DataFrame({
        "n_rows": n_rows,
        "n_bads": n_bads,
        "observed_default_rate": observed,
        "mean_pd": mean_pd,
    })
    table = table.reset_index()
    return table[["grade", "n_rows", "n_bads", "observed_default_rate", "mean_pd"]]


def grade_calibration_test(
    y: object,
    pd_values: object,
    grades: object,
    *,
    grade_order: Sequence[str] | None = None,
    method: str = "jeffreys",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Test per grade whether the mean PD agrees with the observed default rate.

    For a grade with ``n`` rows and ``d`` bads, the Jeffreys interval is the
    ``alpha / 2`` and ``1 - alpha / 2`` quantiles of ``Beta(d + 0.5, n - d + 0.5)``,
    the posterior of the default rate under the Jeffreys prior ``Beta(0.5, 0.5)``.
    The interval is used as is, also for ``d = 0`` or ``d = n`` (no clamping of
    the lower bound to 0 or the upper bound to 1). The p-value is the one-sided
    exact binomial test ``P(X >= d)`` for ``X ~ Binomial(n, mean PD)``: a small
    value means more defaults than the PDs predict, so the grade underestimates risk.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Outcome, 1 bad and 0 good.
    pd_values : array-like of shape (n_rows,)
        Predicted PD in [0, 1].
    grades : array-like of shape (n_rows,)
        Grade of each row (text).
    grade_order : sequence of str, optional
        Grades to report, in this order, as in :func:`default_rate_by_grade`.
    method : {"jeffreys"}, default "jeffreys"
        Interval method. Only the Jeffreys interval is implemented.
    alpha : float, default 0.05
        Two-sided level of the interval, ``0 < alpha < 1``, so 0.05 gives a 95 % interval.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`default_rate_by_grade` plus ``interval_lower`` and
        ``interval_upper`` (float), ``mean_pd_in_interval`` (nullable boolean) and
        ``p_value_above`` (float). For a grade with no rows the four are missing.

    Raises
    ------
    ParamsError
        If ``method`` is not ``"jeffreys"`` or ``alpha`` is not in (0, 1).
    """
    if method != "jeffreys":
        raise ParamsError("model.metrics.invalid_test_method", value=method)
    _check_open_interval(alpha, 1.0, "model.metrics.invalid_alpha")
    table = default_rate_by_grade(y, pd_values, grades, grade_order=grade_order)

    # Grades with no rows keep missing values in every test column.
    filled = table["n_rows"] > 0
    n_rows = table.loc[filled, "n_rows"].to_numpy(np.int64)
    n_bads = table.loc[filled, "n_bads"].to_numpy(np.int64)
    mean_pd = table.loc[filled, "mean_pd"].to_numpy(np.float64)
    lower = stats.beta.ppf(alpha / 2.0, n_bads + 0.5, n_rows - n_bads + 0.5)
    upper = stats.beta.ppf(1.0 - alpha / 2.0, n_bads + 0.5, n_rows - n_bads + 0.5)
    p_values = [
        stats.binomtest(int(bads), int(rows), float(pd_mean), alternative="greater").pvalue
        for bads, rows, pd_mean in zip(n_bads, n_rows, mean_pd, strict=True)
    ]

    table["interval_lower"] = np.nan
    table["interval_upper"] = np.nan
    table["mean_pd_in_interval"] = pd.Series(pd.NA, index=table.index, dtype="boolean")
    table["p_value_above"] = np.nan
    table.loc[filled, "interval_lower"] = lower
    table.loc[filled, "interval_upper"] = upper
    table.loc[filled, "mean_pd_in_interval"] = (mean_pd >= lower) & (mean_pd <= upper)
    table.loc[filled, "p_value_above"] = np.asarray(p_values, dtype=np.float64)
    return table


def evaluate(y: object, pd_values: object, score: object, *, n_bins: int = 10) -> dict:
    """Compute every metric of one sample as a JSON-safe dictionary.

    Discrimination (AUC, Gini, KS) uses ``score``, normally the raw margin, so that
    calibration plateaus cannot change it; Brier, ECE and log loss use the calibrated PD.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Outcome, 1 bad and 0 good.
    pd_values : array-like of shape (n_rows,)
        Calibrated PD in [0, 1].
    score : array-like of shape (n_rows,)
        Risk score (raw margin in log-odds), higher is riskier.
    n_bins : int, default 10
        Equal-frequency bins for the expected calibration error.

    Returns
    -------
    dict
        ``n_rows``, ``n_bads``, ``default_rate``, ``mean_pd``, ``auc``, ``gini``,
        ``ks``, ``brier``, ``ece``, ``log_loss`` (float, or ``None`` when undefined) and
        ``undefined``: a dict from metric name to the English reason text, empty
        when every metric is defined.
    """
    outcome = _outcome(y)
    probabilities = _probabilities(pd_values, "pd", outcome.size)
    values = _scores(score, "score", outcome.size)
    metrics = {
        "auc": auc(outcome, values),
        "gini": gini(outcome, values),
        "ks": ks(outcome, values),
        "brier": brier(outcome, probabilities),
        "ece": expected_calibration_error(outcome, probabilities, n_bins=n_bins),
        "log_loss": log_loss(outcome, probabilities),
    }
    n_rows = int(outcome.size)
    n_bads = int(outcome.sum())
    result: dict = {
        "n_rows": n_rows,
        "n_bads": n_bads,
        "default_rate": n_bads / n_rows if n_rows else None,
        "mean_pd": float(probabilities.mean()) if n_rows else None,
    }
    result.update({name: metric.value for name, metric in metrics.items()})
    result["undefined"] = {
        name: metric.reason for name, metric in metrics.items() if not metric.defined
    }
    return result


def evaluate_by_segment(
    frame: pd.DataFrame,
    *,
    y: str,
    pd_column: str,
    score_column: str,
    segment_columns: Sequence[str],
    n_bins: int = 10,
) -> pd.DataFrame:
    """Compute the metrics of :func:`evaluate` for each value of each segment column.

    Rows whose segment value is missing form their own segment, reported with the
    value ``None``, so no row drops out of a segment column's total.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per scored snapshot.
    y : str
        Column with the outcome, 1 bad and 0 good.
    pd_column : str
        Column with the calibrated PD in [0, 1].
    score_column : str
        Column with the risk score (raw margin in log-odds), higher is riskier.
    segment_columns : sequence of str
        Columns to segment by, each one on its own (not crossed).
    n_bins : int, default 10
        Equal-frequency bins for the expected calibration error.

    Returns
    -------
    pandas.DataFrame
        One row per (segment column, value), segment columns in the given order and
        values sorted with the missing segment last. Columns ``segment_column``,
        ``segment_value`` and every key of :func:`evaluate`. The metric columns have
        object dtype, so an undefined metric stays ``None`` (never 0 or NaN), and
        ``undefined`` maps each undefined metric to its English reason.

    Raises
    ------
    InputDataError
        If a named column is missing from ``frame``, or its values are invalid as
        described in :func:`evaluate`.
    """
    segment_columns = list(segment_columns)
    named = {"y": [y], "pd_column": [pd_column], "score_column": [score_column]}
    named["segment_columns"] = segment_columns
    for argument, columns in named.items():
        for column in columns:
            _check_column(frame, column, argument)

    rows: list[dict] = []
    for column in segment_columns:
        groups = frame.groupby(column, sort=True, dropna=False)
        for value, part in groups:
            metrics = evaluate(part[y], part[pd_column], part[score_column], n_bins=n_bins)
            segment = {"segment_column": column, "segment_value": _plain(value)}
            rows.append(segment | metrics)
    return _segment_table(rows)


def _segment_table(rows: list[dict]) -> pd.DataFrame:
    columns = [
        "segment_column", "segment_value", "n_rows", "n_bads", "default_rate", "mean_pd",
        "auc", "gini", "ks", "brier", "ece", "log_loss", "undefined",
    ]
    # Object dtype keeps None for undefined metrics; a float column would turn it into NaN.
    table = pd.DataFrame(rows, columns=columns, dtype=object)
    table["segment_column"] = table["segment_column"].astype("str")
    table["n_rows"] = table["n_rows"].astype("int64")
    table["n_bads"] = table["n_bads"].astype("int64")
    return table


def _outcome(y: object) -> np.ndarray:
    values = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y).reshape(-1))
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    invalid = ~np.isin(numeric, (0.0, 1.0))
    if invalid.any():
        example = values.to_numpy()[np.flatnonzero(invalid)[0]]
        raise InputDataError(
            "model.metrics.invalid_outcome", count=int(invalid.sum()), example=_shown(example)
        )
    return numeric.astype(np.int64)


def _scores(score: object, name: str, expected: int) -> np.ndarray:
    values = np.asarray(score, dtype=np.float64).reshape(-1)
    _check_length(values, name, expected)
    invalid = ~np.isfinite(values)
    if invalid.any():
        raise InputDataError(
            "model.metrics.invalid_score",
            name=name,
            count=int(invalid.sum()),
            example=_shown(values[np.flatnonzero(invalid)[0]]),
        )
    return values


def _probabilities(pd_values: object, name: str, expected: int) -> np.ndarray:
    values = _scores(pd_values, name, expected)
    outside = (values < 0.0) | (values > 1.0)
    if outside.any():
        raise InputDataError(
            "model.metrics.invalid_pd",
            name=name,
            count=int(outside.sum()),
            example=_shown(values[np.flatnonzero(outside)[0]]),
        )
    return values


def _check_length(values: np.ndarray, name: str, expected: int) -> None:
    if len(values) != expected:
        raise InputDataError(
            "model.metrics.length_mismatch", name=name, length=len(values), expected=expected
        )


def _one_class(outcome: np.ndarray) -> MetricValue | None:
    n_bads = int(outcome.sum())
    n_goods = int(outcome.size) - n_bads
    if n_bads == 0 or n_goods == 0:
        return MetricValue(
            None, "model.metrics.undefined_one_class", {"goods": n_goods, "bads": n_bads}
        )
    return None


def _check_bins(n_bins: object, strategy: object) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise InputDataError("model.metrics.invalid_bins", value=n_bins)
    if strategy not in ("quantile", "uniform"):
        raise InputDataError("model.metrics.invalid_strategy", value=strategy)


def _assign_bins(probabilities: np.ndarray, *, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "quantile":
        edges = np.quantile(probabilities, np.linspace(0.0, 1.0, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Inner edges only: a value equal to an edge goes to the bin above it, and equal
    # values always share a bin.
    inner = np.unique(edges[1:-1])
    return np.searchsorted(inner, probabilities, side="right")


def _check_open_interval(value: object, upper: float, key: str) -> None:
    """Raise ParamsError ``key`` unless ``value`` is a real number in (0, upper)."""
    is_number = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool) or not is_number or not 0.0 < float(value) < upper:
        raise ParamsError(key, value=value)


def _check_column(frame: pd.DataFrame, column: str, argument: str) -> None:
    if column not in frame.columns:
        available = ", ".join(str(name) for name in frame.columns)
        raise InputDataError(
            "model.metrics.missing_column", column=column, argument=argument, available=available
        )


def _plain(value: object) -> object:
    """Return a segment value as a plain Python value, with any missing value as None."""
    if pd.isna(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _natural_grade_order(labels: np.ndarray) -> list[str]:
    present = sorted(set(labels.tolist()))
    numeric = sorted((g for g in present if g.isdigit()), key=int)
    return numeric + [g for g in present if not g.isdigit()]


def _shown(value: object) -> str:
    """Return ``repr`` of a value, with NumPy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)
