"""Category levels frozen at training, and the float feature matrix the booster reads.

Categorical features (``industry``, ``size_class``) are passed to LightGBM as integer
codes stored in float64: the code is the position of the value in the sorted list of
levels seen in the training part. A missing value and a value never seen in training
both become NaN, which LightGBM treats as missing, so an unseen category scores as
missing on purpose. Unseen values are counted so that scoring can raise a
data-quality flag for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ModelError
from creditlimit.i18n import register

__all__ = ["CategoryEncoder", "build_feature_matrix"]

_FORMAT_VERSION = 1

register({
    "model.encoding.missing_columns": {
        "en": (
            "Feature table is missing {count} required column(s): {columns}. Build the "
            "features with the same feature list the model was trained on."
        ),
        "zh_CN": "特征表缺少 {count} 个必需列：{columns}。请使用与模型训练时相同的特征列表生成特征。",
    },
    "model.encoding.not_numeric": {
        "en": (
            "Feature column '{column}' must be numeric; got {count} non-numeric values "
            "(first: {example}). Missing values must be empty (NaN), not text."
        ),
        "zh_CN": "特征列“{column}”必须是数值；发现 {count} 个非数值（第一个：{example}）。缺失值应为空（NaN），而不是文本。",
    },
    "model.encoding.infinite": {
        "en": (
            "Feature column '{column}' has {count} infinite values. A ratio with a zero "
            "denominator must be missing (NaN); fix the feature builder."
        ),
        "zh_CN": "特征列“{column}”有 {count} 个无穷大值。分母为零的比率应为缺失值（NaN）；请修正特征生成步骤。",
    },
    "model.encoding.corrupt": {
        "en": "Stored category levels are invalid: {problem}. Retrain and register the model.",
        "zh_CN": "模型中保存的类别取值无效：{problem}。请重新训练并注册模型。",
    },
})


@dataclass(frozen=True)
class CategoryEncoder:
    """Sorted category levels per categorical column, fitted on the training part.

    Attributes
    ----------
    levels : Mapping[str, tuple[str, ...]]
        For each categorical column, its distinct non-missing training values as
        text, sorted. A value's code is its position in this tuple.
    """

    levels: Mapping[str, tuple[str, ...]]

    @classmethod
    def fit(cls, frame: pd.DataFrame, columns: Sequence[str]) -> CategoryEncoder:
        """Collect the sorted distinct non-missing values of each column.

        Values are compared as text (``str(value)``), so ``"A"`` and ``"a"`` are
        different levels. Missing values (None, NaN, pd.NA) are not levels.

        Raises
        ------
        InputDataError
            If a column is missing from ``frame``.
        """
        _require_columns(frame, columns)
        levels = {}
        for column in columns:
            values = _as_text(frame[column])
            levels[column] = tuple(sorted(values.dropna().unique().tolist()))
        return cls(levels=levels)

    @property
    def columns(self) -> tuple[str, ...]:
        """Categorical columns, in fitting order."""
        return tuple(self.levels)

    def encode_column(self, values: pd.Series, column: str) -> tuple[np.ndarray, int]:
        """Map one column's values to float codes.

        Returns
        -------
        codes : numpy.ndarray of float64, shape (n_rows,)
            Level position, or NaN for a missing or unseen value.
        n_unseen : int
            Number of non-missing values that are not training levels.
        """
        text = _as_text(values)
        present = text.notna().to_numpy()
        levels = pd.Index(list(self.levels[column]), dtype=object)
        codes = levels.get_indexer(text.to_numpy(dtype=object))  # -1 when not a level
        encoded = codes.astype(np.float64)
        encoded[codes < 0] = np.nan
        n_unseen = int((present & (codes < 0)).sum())
        return encoded, n_unseen

    def unseen_mask(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Mark, per row and categorical column, a non-missing value unseen in training.

        Returns
        -------
        pandas.DataFrame of bool, shape (n_rows, n_categorical)
            Same index as ``frame``; True where the value will score as missing
            because training never saw it.
        """
        _require_columns(frame, self.columns)
        flags = {}
        for column in self.columns:
            text = _as_text(frame[column])
            flags[column] = text.notna() & ~text.isin(self.levels[column])
        return pd.DataFrame(flags, index=frame.index)

    def transform(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
        """Encode every categorical column of ``frame``.

        Returns
        -------
        codes : pandas.DataFrame of float64
            One column per categorical column, same index as ``frame``.
        unseen : dict[str, int]
            Count of unseen non-missing values per column (0 when none).
        """
        _require_columns(frame, self.columns)
        codes, unseen = {}, {}
        for column in self.columns:
            codes[column], unseen[column] = self.encode_column(frame[column], column)
        return pd.DataFrame(codes, index=frame.index), unseen

    def to_dict(self) -> dict:
        """Return the levels as a JSON-safe dictionary."""
        return {
            "format_version": _FORMAT_VERSION,
            "levels": {column: list(values) for column, values in self.levels.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> CategoryEncoder:
        """Rebuild an encoder from :meth:`to_dict` output.

        Raises
        ------
        ModelError
            If the version is unknown or a level list is not sorted, unique text.
        """
        if not isinstance(data, Mapping) or data.get("format_version") != _FORMAT_VERSION:
            raise ModelError("model.encoding.corrupt", problem="unknown format_version")
        raw_levels = data.get("levels")
        if not isinstance(raw_levels, Mapping):
            raise ModelError("model.encoding.corrupt", problem="'levels' is not a mapping")
        levels = {}
        for column, values in raw_levels.items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ModelError(
                    "model.encoding.corrupt", problem=f"levels of '{column}' are not text"
                )
            if values != sorted(set(values)):
                raise ModelError(
                    "model.encoding.corrupt",
                    problem=f"levels of '{column}' are not sorted and unique",
                )
            levels[column] = tuple(values)
        return cls(levels=levels)


def build_feature_matrix(
    frame: pd.DataFrame,
    *,
    feature_names: Sequence[str],
    encoder: CategoryEncoder,
) -> tuple[np.ndarray, dict[str, int]]:
    """Select the features by name and return the float64 matrix the booster reads.

    Numeric features are converted to float64 with missing values kept as NaN.
    Categorical features (the encoder's columns) are replaced by their codes.

    Parameters
    ----------
    frame : pandas.DataFrame
        Feature table; extra columns are ignored and column order does not matter.
    feature_names : sequence of str
        Model features, in the model's column order.
    encoder : CategoryEncoder
        Levels frozen at training.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_rows, n_features)
        Columns in ``feature_names`` order.
    unseen : dict[str, int]
        Count of unseen category values per categorical column.

    Raises
    ------
    InputDataError
        If a feature column is missing, a numeric feature contains text, or a value is
        infinite.
    """
    _require_columns(frame, feature_names)
    matrix = np.empty((len(frame), len(feature_names)), dtype=np.float64)
    unseen: dict[str, int] = {}
    for position, name in enumerate(feature_names):
        if name in encoder.levels:
            matrix[:, position], unseen[name] = encoder.encode_column(frame[name], name)
        else:
            matrix[:, position] = _numeric_column(frame[name], name)
    return matrix, unseen


def _numeric_column(values: pd.Series, name: str) -> np.ndarray:
    numeric = pd.to_numeric(values, errors="coerce")
    not_numeric = (numeric.isna() & values.notna()).to_numpy()
    if not_numeric.any():
        raise InputDataError(
            "model.encoding.not_numeric",
            column=name,
            count=int(not_numeric.sum()),
            example=_shown(values.iloc[int(np.flatnonzero(not_numeric)[0])]),
        )
    column = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(column)
    if infinite.any():
        raise InputDataError("model.encoding.infinite", column=name, count=int(infinite.sum()))
    return column


def _as_text(values: pd.Series) -> pd.Series:
    """Return the values as object-dtype text with missing values as None."""
    missing = values.isna().to_numpy()
    text = values.astype(object).map(str, na_action="ignore")
    text = text.astype(object)
    text[missing] = None
    return text


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputDataError(
            "model.encoding.missing_columns", count=len(missing), columns=", ".join(missing)
        )


def _shown(value: object) -> str:
    """Return ``repr`` of a value, with NumPy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)
