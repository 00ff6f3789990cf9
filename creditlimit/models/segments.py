"""Validation segments of a snapshot table: industry, size class and thin file.

The segment columns are defined here once and used for every part of the time
split, for the champion candidate and the challenger alike:

- ``industry``: the customer's industry as given (missing stays its own segment).
- ``size_class``: the customer's own ``size_class`` where the data gives one;
  otherwise it is derived from annual revenue in the base currency
  (``revenue_base``) with :attr:`SegmentParams.size_class_revenue_bounds`. A row
  with neither is the missing segment.
- ``thin_file``: ``"yes"`` when no financial statement was published before
  ``as_of`` (``has_statements`` is false), the same customers the credit policy
  sizes from trading need alone; ``"no"`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import register

__all__ = [
    "SEGMENT_COLUMNS",
    "SIZE_CLASSES",
    "SegmentParams",
    "segment_frame",
    "metrics_by_segment",
    "segment_metric_records",
]

SEGMENT_COLUMNS: tuple[str, ...] = ("industry", "size_class", "thin_file")
# Size classes from the smallest up; derived classes use these names.
SIZE_CLASSES: tuple[str, ...] = ("small", "medium", "large")
# Key of the segment whose value is missing in metrics.json.
MISSING_SEGMENT = "missing"

register({
    "model.segments.invalid_bounds": {
        "en": (
            "train.segments.size_class_revenue_bounds must be two increasing positive "
            "amounts [small_below, medium_below]; got {value!r}."
        ),
        "zh_CN": "train.segments.size_class_revenue_bounds 必须是两个递增的正金额 [小型上限, 中型上限]；实际为 {value!r}。",
    },
    "model.segments.unknown_keys": {
        "en": "train.segments: unknown parameter(s) {names}. Allowed parameters: {allowed}.",
        "zh_CN": "train.segments：未知参数 {names}。允许的参数：{allowed}。",
    },
    "model.segments.missing_column": {
        "en": (
            "Training table: column '{column}' needed for the {segment} segment is missing. "
            "Build the table with the feature stage, which adds it."
        ),
        "zh_CN": "训练表：缺少 {segment} 分组所需的列“{column}”。请用 features 阶段生成训练表，该阶段会添加此列。",
    },
})


@dataclass(frozen=True)
class SegmentParams:
    """Validated ``train.segments`` section.

    Attributes
    ----------
    size_class_revenue_bounds : tuple of float
        ``(small_below, medium_below)`` in the base currency: a customer without its
        own size class is ``small`` below the first amount, ``medium`` below the
        second and ``large`` from the second amount up.
    """

    size_class_revenue_bounds: tuple[float, float]

    @classmethod
    def from_mapping(cls, mapping: object) -> SegmentParams:
        """Validate ``train.segments``.

        Raises
        ------
        ParamsError
            If a key is unknown or the bounds are not two increasing positive amounts.
        """
        if not isinstance(mapping, Mapping):
            raise ParamsError(
                "model.train.param_not_mapping", section="train.segments", value=mapping
            )
        allowed = ("size_class_revenue_bounds",)
        unknown = sorted(str(key) for key in mapping if key not in allowed)
        if unknown:
            raise ParamsError(
                "model.segments.unknown_keys", names=", ".join(unknown), allowed=", ".join(allowed)
            )
        bounds = mapping.get("size_class_revenue_bounds")
        if not _valid_bounds(bounds):
            raise ParamsError("model.segments.invalid_bounds", value=bounds)
        return cls(size_class_revenue_bounds=(float(bounds[0]), float(bounds[1])))


def segment_frame(table: pd.DataFrame, *, params: SegmentParams) -> pd.DataFrame:
    """Derive the segment columns of every snapshot.

    Parameters
    ----------
    table : pandas.DataFrame
        Snapshots with ``industry``, ``size_class``, ``revenue_base`` and
        ``has_statements`` (the feature stage writes them). Not modified.
    params : SegmentParams
        Revenue bounds of the derived size class.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SEGMENT_COLUMNS` (object dtype, None when missing), same index.

    Raises
    ------
    InputDataError
        If a column the segments need is missing.
    """
    for column, segment in (("industry", "industry"), ("size_class", "size_class"),
                            ("revenue_base", "size_class"), ("has_statements", "thin_file")):
        if column not in table.columns:
            raise InputDataError("model.segments.missing_column", column=column, segment=segment)

    given = table["size_class"].astype(object).where(table["size_class"].notna(), None)
    derived = _size_class_from_revenue(table["revenue_base"], params.size_class_revenue_bounds)
    size_class = given.where(given.notna(), derived)
    has_statements = table["has_statements"].astype("boolean")
    thin_file = pd.Series(
        np.where(has_statements.fillna(False).to_numpy(dtype=bool), "no", "yes"),
        index=table.index, dtype=object,
    )
    # A missing has_statements value is unknown, not thin file.
    thin_file[has_statements.isna().to_numpy()] = None
    industry = table["industry"].astype(object).where(table["industry"].notna(), None)
    return pd.DataFrame(
        {"industry": industry, "size_class": size_class, "thin_file": thin_file},
        index=table.index,
    )


def metrics_by_segment(
    segments: pd.DataFrame,
    *,
    y: object,
    pd_values: object,
    score: object,
    parts: Mapping[str, np.ndarray],
) -> dict[str, dict[str, dict[str, dict]]]:
    """Compute the metrics of every segment in every part of the split.

    Parameters
    ----------
    segments : pandas.DataFrame
        Output of :func:`segment_frame`, one row per snapshot.
    y, pd_values, score : array-like of shape (n_rows,)
        Outcome (1 bad), calibrated PD and risk score (higher is riskier).
    parts : Mapping[str, numpy.ndarray]
        Part name (``train``, ``valid``, ``oot``) to its boolean row mask.

    Returns
    -------
    dict
        ``{part: {segment column: {segment value: metrics}}}`` where the metrics are
        those of :func:`~creditlimit.models.metrics.evaluate`; an undefined metric is
        None with its reason under ``undefined``. The missing value is keyed
        ``"missing"``.
    """
    from creditlimit.models.metrics import evaluate_by_segment

    frame = segments.reset_index(drop=True).assign(
        _y=np.asarray(y), _pd=np.asarray(pd_values, dtype=np.float64),
        _score=np.asarray(score, dtype=np.float64),
    )
    result: dict[str, dict[str, dict[str, dict]]] = {}
    for part, mask in parts.items():
        table = evaluate_by_segment(
            frame[np.asarray(mask, dtype=bool)], y="_y", pd_column="_pd", score_column="_score",
            segment_columns=list(segments.columns),
        )
        nested: dict[str, dict[str, dict]] = {column: {} for column in segments.columns}
        for row in table.to_dict(orient="records"):
            value = MISSING_SEGMENT if row["segment_value"] is None else str(row["segment_value"])
            metrics = {key: _plain(row[key]) for key in row if key not in ("segment_column", "segment_value")}
            nested[row["segment_column"]][value] = metrics
        result[part] = nested
    return result


def segment_metric_records(
    by_segment: Mapping[str, Mapping[str, Mapping[str, Mapping]]],
    *,
    prefix: str = "",
    names: Sequence[str] = ("auc", "ks", "brier", "ece"),
) -> dict[str, float]:
    """Flatten defined segment metrics into MLflow metric names.

    Names read ``<prefix><part>.<column>.<value>.<metric>``, with characters MLflow
    rejects replaced by ``_``. Undefined metrics are left out (their reasons are in
    the logged metrics file), so no undefined value is ever logged as a number.
    """
    records: dict[str, float] = {}
    for part, columns in by_segment.items():
        for column, values in columns.items():
            for value, metrics in values.items():
                for name in names:
                    number = metrics.get(name)
                    if number is not None and math.isfinite(number):
                        key = f"{prefix}{part}.{column}.{_metric_name(value)}.{name}"
                        records[key] = float(number)
    return records


def _size_class_from_revenue(revenue: pd.Series, bounds: tuple[float, float]) -> pd.Series:
    values = pd.to_numeric(revenue, errors="coerce").to_numpy(np.float64)
    positions = np.searchsorted(np.asarray(bounds), values, side="right")
    labels = np.asarray(SIZE_CLASSES, dtype=object)[np.minimum(positions, len(SIZE_CLASSES) - 1)]
    labels[np.isnan(values)] = None
    return pd.Series(labels, index=revenue.index, dtype=object)


def _valid_bounds(bounds: object) -> bool:
    if not isinstance(bounds, Sequence) or isinstance(bounds, str) or len(bounds) != 2:
        return False
    numbers = [value for value in bounds
               if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)]
    return len(numbers) == 2 and 0 < numbers[0] < numbers[1]


def _metric_name(value: str) -> str:
    return "".join(char if char.isascii() and (char.isalnum() or char in "_-") else "_" for char in value)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
