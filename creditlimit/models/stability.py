"""Population stability: PSI of one variable and CSI (PSI per feature) between two samples.

The population stability index compares the distribution of a variable in an
actual sample (for example the out-of-time scores) with a reference sample (the
expected distribution, for example the training scores)::

    PSI = sum over bins of (a_i - e_i) * ln(a_i / e_i)

where ``e_i`` and ``a_i`` are the shares of the expected and actual rows in bin ``i``.

Binning, decided from the expected sample only:

- Numeric values: the bin edges are the empirical quantiles of the non-missing
  expected values at ``1/bins, ..., (bins - 1)/bins`` (NumPy's ``inverted_cdf``
  method, so every edge is an observed value). Duplicate edges and edges equal to
  the expected maximum are dropped, so every interval contains at least one expected
  value and ties are never split. A large tie at the maximum therefore shares the
  top interval with the values below it. Intervals are closed on the right,
  ``(-inf, e_1], (e_1, e_2], ..., (e_m, inf)``, so values outside the expected
  range fall into the first or last interval.
- Categorical values: one bin per category seen in the expected sample, one
  ``unseen`` bin for categories that appear only in the actual sample.
- Missing values (None, NaN, NA) always have their own ``missing`` bin, even when
  neither sample has any, so the bins depend on the expected sample only.

Smoothing rule (the only one used in this module): ``smoothing`` (default 0.5) is
added to the count of every bin in both samples before the counts become shares,
``share_i = (count_i + smoothing) / (n_rows + smoothing * n_bins)``. An empty bin
therefore has a small positive share and PSI is always finite. The rule also
moves PSI slightly even when nothing is empty, by less for larger samples.

Conventional reading, given here as documentation only (any gate belongs in the
parameters of the stage that applies it): PSI below 0.1 is read as stable, 0.1 to
0.25 as a moderate shift worth a look, and above 0.25 as a significant shift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import register
from creditlimit.models.metrics import MetricValue

__all__ = [
    "DEFAULT_SMOOTHING",
    "PsiResult",
    "psi",
    "csi",
]

DEFAULT_SMOOTHING = 0.5

register({
    "model.stability.invalid_bins": {
        "en": "bins must be an integer >= 1; got {value!r}.",
        "zh_CN": "bins 必须是大于等于 1 的整数；实际为 {value!r}。",
    },
    "model.stability.invalid_smoothing": {
        "en": (
            "smoothing must be a finite number > 0 (the count added to every bin); "
            "got {value!r}."
        ),
        "zh_CN": "smoothing 必须是大于 0 的有限数值（加到每个分箱计数上的值）；实际为 {value!r}。",
    },
    "model.stability.non_numeric": {
        "en": (
            "{name} has {count} values that are not numbers (first: {example}). "
            "Pass categorical=True for a categorical variable, or fix the values."
        ),
        "zh_CN": "{name} 中有 {count} 个非数值（第一个：{example}）。如果是类别变量请传入 categorical=True，否则请修正这些值。",
    },
    "model.stability.infinite_value": {
        "en": (
            "{name} has {count} infinite values (first: {example}). Store an undefined "
            "value as missing (NaN) instead of infinity."
        ),
        "zh_CN": "{name} 中有 {count} 个无穷值（第一个：{example}）。无法计算的值请存为缺失值（NaN），不要存为无穷。",
    },
    "model.stability.missing_column": {
        "en": (
            "Column '{column}' is missing from {frame}. Available columns: {available}. "
            "Pass only columns present in both frames."
        ),
        "zh_CN": "{frame} 中缺少列“{column}”。现有列：{available}。请只传入两个数据表中都有的列。",
    },
})

_MISSING_LABEL = "missing"
_UNSEEN_LABEL = "unseen"


@dataclass(frozen=True, eq=False)
class PsiResult:
    """PSI of one variable with the per-bin table it was computed from.

    Attributes
    ----------
    psi : MetricValue
        PSI (0 or more), undefined when either sample has no rows.
    table : pandas.DataFrame
        One row per bin, in bin order, with columns ``bin`` (label), ``bin_kind``
        (``interval``, ``category``, ``unseen`` or ``missing``), ``expected_count``,
        ``actual_count``, ``expected_share`` and ``actual_share`` (smoothed shares)
        and ``psi_term`` (the bin's contribution to PSI).
    """

    psi: MetricValue
    table: pd.DataFrame


def psi(
    expected: object,
    actual: object,
    *,
    bins: int = 10,
    smoothing: float = DEFAULT_SMOOTHING,
    categorical: bool | None = None,
) -> PsiResult:
    """Compute the population stability index of ``actual`` against ``expected``.

    Bins and the smoothing rule are described in the module docstring.

    Parameters
    ----------
    expected : array-like of shape (n_expected,)
        Reference sample. It alone decides the bins.
    actual : array-like of shape (n_actual,)
        Sample compared with the reference.
    bins : int, default 10
        Number of quantile bins for a numeric variable, before duplicate edges are
        dropped. Ignored for a categorical variable.
    smoothing : float, default 0.5
        Count added to every bin of both samples, ``> 0``.
    categorical : bool, optional
        Bin by category instead of by quantile. By default a variable is numeric
        when the non-missing values of ``expected`` (or, if it has none, of
        ``actual``) are numbers other than booleans.

    Returns
    -------
    PsiResult
        The PSI and the per-bin table.

    Raises
    ------
    ParamsError
        If ``bins`` or ``smoothing`` is invalid.
    InputDataError
        If a numeric variable has a value that is not a number or is infinite.

    Examples
    --------
    >>> result = psi([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 5.0], bins=2)
    >>> round(float(result.psi), 6)
    0.154054
    >>> result.table["bin"].tolist()
    ['(-inf, 2.0]', '(2.0, inf)', 'missing']
    """
    _check_parameters(bins, smoothing)
    expected_values = _as_series(expected)
    actual_values = _as_series(actual)
    if categorical is None:
        categorical = not _looks_numeric(expected_values, actual_values)

    if categorical:
        labels, kinds, expected_codes, actual_codes = _categorical_bins(
            expected_values, actual_values
        )
    else:
        labels, kinds, expected_codes, actual_codes = _numeric_bins(
            expected_values, actual_values, bins=bins
        )
    table = _bin_table(labels, kinds, expected_codes, actual_codes, smoothing=smoothing)
    if expected_values.empty or actual_values.empty:
        return PsiResult(MetricValue(None, "model.metrics.undefined_no_rows"), table)
    return PsiResult(MetricValue.of(table["psi_term"].sum()), table)


def csi(
    expected_frame: pd.DataFrame,
    actual_frame: pd.DataFrame,
    *,
    columns: Sequence[str],
    bins: int = 10,
    smoothing: float = DEFAULT_SMOOTHING,
    categorical_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compute the characteristic stability index, the PSI of each feature column.

    Parameters
    ----------
    expected_frame : pandas.DataFrame
        Reference sample, such as the training snapshots.
    actual_frame : pandas.DataFrame
        Sample compared with the reference.
    columns : sequence of str
        Feature columns to compare, present in both frames.
    bins : int, default 10
        Quantile bins per numeric feature, as in :func:`psi`.
    smoothing : float, default 0.5
        Count added to every bin, as in :func:`psi`.
    categorical_columns : sequence of str, optional
        Columns binned by category. By default each column's kind is inferred as
        in :func:`psi`.

    Returns
    -------
    pandas.DataFrame
        One row per column, in the given order: ``column``, ``kind``
        (``numeric`` or ``categorical``), ``n_bins``, ``psi`` (object dtype: a float,
        or ``None`` when undefined) and ``undefined_reason`` (English text or ``None``).

    Raises
    ------
    InputDataError
        If a column is missing from either frame, or as in :func:`psi`.
    ParamsError
        As in :func:`psi`.
    """
    columns = list(columns)
    for frame, frame_name in ((expected_frame, "expected_frame"), (actual_frame, "actual_frame")):
        for column in columns:
            _check_column(frame, column, frame_name)

    rows = []
    for column in columns:
        categorical = None if categorical_columns is None else column in categorical_columns
        result = psi(
            expected_frame[column],
            actual_frame[column],
            bins=bins,
            smoothing=smoothing,
            categorical=categorical,
        )
        kinds = set(result.table["bin_kind"])
        rows.append({
            "column": column,
            "kind": "numeric" if "interval" in kinds else "categorical",
            "n_bins": len(result.table),
            "psi": result.psi.value,
            "undefined_reason": result.psi.reason,
        })
    names = ["column", "kind", "n_bins", "psi", "undefined_reason"]
    table = pd.DataFrame(rows, columns=names, dtype=object)
    table["n_bins"] = table["n_bins"].astype("int64")
    return table


def _check_parameters(bins: object, smoothing: object) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ParamsError("model.stability.invalid_bins", value=bins)
    is_number = isinstance(smoothing, int | float | np.integer | np.floating)
    if isinstance(smoothing, bool) or not is_number or not math.isfinite(smoothing):
        raise ParamsError("model.stability.invalid_smoothing", value=smoothing)
    if smoothing <= 0:
        raise ParamsError("model.stability.invalid_smoothing", value=smoothing)


def _check_column(frame: pd.DataFrame, column: str, frame_name: str) -> None:
    if column not in frame.columns:
        available = ", ".join(str(name) for name in frame.columns)
        raise InputDataError(
            "model.stability.missing_column", column=column, frame=frame_name, available=available
        )


def _as_series(values: object) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(np.asarray(values, dtype=object).reshape(-1), dtype=object)


def _looks_numeric(expected: pd.Series, actual: pd.Series) -> bool:
    """Infer the kind from the first sample that has a non-missing value."""
    for values in (expected, actual):
        present = values[values.notna()]
        if present.empty:
            continue
        if pd.api.types.is_bool_dtype(values.dtype):
            return False
        if pd.api.types.is_numeric_dtype(values.dtype):
            return True
        kind = pd.api.types.infer_dtype(present, skipna=True)
        return kind in ("integer", "floating", "mixed-integer-float", "decimal")
    return True


def _numeric(values: pd.Series, name: str) -> np.ndarray:
    """Return the values as float64 with missing as NaN, rejecting text and infinities."""
    numbers = pd.to_numeric(values, errors="coerce")
    missing = values.isna().to_numpy()
    converted = numbers.to_numpy(np.float64, na_value=np.nan)
    invalid = np.isnan(converted) & ~missing
    if invalid.any():
        example = values.to_numpy()[np.flatnonzero(invalid)[0]]
        raise InputDataError(
            "model.stability.non_numeric",
            name=name,
            count=int(invalid.sum()),
            example=repr(example),
        )
    infinite = np.isinf(converted)
    if infinite.any():
        example = float(converted[np.flatnonzero(infinite)[0]])
        raise InputDataError(
            "model.stability.infinite_value",
            name=name,
            count=int(infinite.sum()),
            example=repr(example),
        )
    return converted


def _numeric_bins(
    expected: pd.Series, actual: pd.Series, *, bins: int
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    expected_numbers = _numeric(expected, "expected")
    actual_numbers = _numeric(actual, "actual")
    present = expected_numbers[~np.isnan(expected_numbers)]

    # Inner edges: observed quantiles, deduplicated, below the maximum (see module docstring).
    if present.size == 0:
        edges = np.empty(0, dtype=np.float64)
    else:
        levels = np.arange(1, bins) / bins
        quantiles = np.quantile(present, levels, method="inverted_cdf")
        edges = np.unique(quantiles)
        edges = edges[edges < present.max()]

    bounds = [-math.inf, *edges.tolist(), math.inf]
    labels = [_interval_label(low, high) for low, high in zip(bounds[:-1], bounds[1:], strict=True)]
    labels.append(_MISSING_LABEL)
    kinds = ["interval"] * (len(labels) - 1) + ["missing"]
    return (
        labels,
        kinds,
        _interval_codes(expected_numbers, edges),
        _interval_codes(actual_numbers, edges),
    )


def _interval_codes(numbers: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # side="left" makes the intervals closed on the right: a value equal to an edge
    # goes to the interval that ends at that edge. Missing values get the last code.
    codes = np.searchsorted(edges, numbers, side="left")
    codes[np.isnan(numbers)] = edges.size + 1
    return codes


def _interval_label(low: float, high: float) -> str:
    closing = ")" if math.isinf(high) else "]"
    return f"({low!r}, {high!r}{closing}"


def _categorical_bins(
    expected: pd.Series, actual: pd.Series
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    categories = sorted(set(expected[expected.notna()].tolist()), key=str)
    position = {category: index for index, category in enumerate(categories)}
    unseen_code = len(categories)
    missing_code = unseen_code + 1

    def codes_of(values: pd.Series) -> np.ndarray:
        codes = [
            missing_code if pd.isna(value) else position.get(value, unseen_code)
            for value in values.tolist()
        ]
        return np.asarray(codes, dtype=np.int64)

    labels = [str(category) for category in categories] + [_UNSEEN_LABEL, _MISSING_LABEL]
    kinds = ["category"] * len(categories) + ["unseen", "missing"]
    return labels, kinds, codes_of(expected), codes_of(actual)


def _bin_table(
    labels: list[str],
    kinds: list[str],
    expected_codes: np.ndarray,
    actual_codes: np.ndarray,
    *,
    smoothing: float,
) -> pd.DataFrame:
    n_bins = len(labels)
    expected_counts = np.bincount(expected_codes, minlength=n_bins)
    actual_counts = np.bincount(actual_codes, minlength=n_bins)

    # The smoothing rule: add `smoothing` to every bin of both samples.
    expected_share = (expected_counts + smoothing) / (expected_counts.sum() + smoothing * n_bins)
    actual_share = (actual_counts + smoothing) / (actual_counts.sum() + smoothing * n_bins)
    terms = (actual_share - expected_share) * np.log(actual_share / expected_share)
    return pd.DataFrame({
        "bin": pd.Series(labels, dtype="str"),
        "bin_kind": pd.Series(kinds, dtype="str"),
        "expected_count": expected_counts.astype(np.int64),
        "actual_count": actual_counts.astype(np.int64),
        "expected_share": expected_share,
        "actual_share": actual_share,
        "psi_term": terms,
    })
