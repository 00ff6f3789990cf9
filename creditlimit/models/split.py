"""Out-of-time split of a labelled snapshot table into train, validation and OOT months."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import register

__all__ = ["SplitPart", "TimeSplit", "split_by_time", "SPLIT_NAMES"]

SPLIT_NAMES: tuple[str, ...] = ("train", "valid", "oot")

register({
    "model.split.invalid_months": {
        "en": "train.{name} must be an integer >= 1; got {value!r}.",
        "zh_CN": "train.{name} 必须是大于等于 1 的整数；实际为 {value!r}。",
    },
    "model.split.invalid_gap": {
        "en": "train.gap_months must be an integer >= 0; got {value!r}.",
        "zh_CN": "train.gap_months 必须是大于等于 0 的整数；实际为 {value!r}。",
    },
    "model.split.missing_column": {
        "en": (
            "Training table: required column '{column}' is missing. Build the table "
            "from the feature snapshots joined with their labels."
        ),
        "zh_CN": "训练表：缺少必需列“{column}”。请用特征快照与标签合并生成训练表。",
    },
    "model.split.invalid_dates": {
        "en": (
            "Training table: column '{column}' has {count} missing or unparseable dates "
            "(first: {example}). Every snapshot needs its as_of date."
        ),
        "zh_CN": "训练表：列“{column}”有 {count} 个缺失或无法解析的日期（第一个：{example}）。每个快照都必须有 as_of 日期。",
    },
    "model.split.invalid_labels": {
        "en": (
            "Training table: column '{column}' must be 0 or 1 with no missing values; "
            "got {count} invalid values (first: {example}). Keep only labelled snapshots."
        ),
        "zh_CN": "训练表：列“{column}”只能取 0 或 1 且不能缺失；发现 {count} 个无效值（第一个：{example}）。请只保留已打标签的快照。",
    },
    "model.split.no_training_months": {
        "en": (
            "No month of the training table ({first} to {last}) is left for training: with "
            "{valid_months} validation months, {oot_months} out-of-time months and a gap of "
            "{gap_months} months, training months must be {latest} or earlier and before the "
            "validation months. Lower train.oot_months, train.valid_months or train.gap_months, "
            "or supply a longer history."
        ),
        "zh_CN": "训练表（{first} 至 {last}）中没有可用于训练的月份：在 {valid_months} 个验证月、{oot_months} 个跨时间测试月及 {gap_months} 个月间隔下，训练月份须不晚于 {latest} 且早于验证月份。请调小 train.oot_months、train.valid_months 或 train.gap_months，或提供更长的历史数据。",
    },
    "model.split.too_few_months": {
        "en": (
            "Training table has {found} distinct as_of months ({first} to {last}) but the "
            "time split needs at least {needed}: {valid_months} validation months, "
            "{oot_months} out-of-time months and at least one training month. Lower "
            "train.valid_months or train.oot_months, or supply a longer history."
        ),
        "zh_CN": "训练表只有 {found} 个不同的 as_of 月份（{first} 至 {last}），而时间切分至少需要 {needed} 个：{valid_months} 个验证月、{oot_months} 个跨时间测试月和至少一个训练月。请调小 train.valid_months 或 train.oot_months，或提供更长的历史数据。",
    },
    "model.split.one_class": {
        "en": (
            "The {split} split ({start} to {end}, {rows} rows) has {bads} bads and "
            "{goods} goods; every split needs both. Supply more history, or move the "
            "split boundaries with train.valid_months and train.oot_months."
        ),
        "zh_CN": "{split} 切分（{start} 至 {end}，{rows} 行）有 {bads} 个违约和 {goods} 个正常样本；每个切分都必须同时包含两类。请提供更多历史数据，或用 train.valid_months 和 train.oot_months 调整切分边界。",
    },
})


@dataclass(frozen=True)
class SplitPart:
    """One part of a time split.

    Attributes
    ----------
    name : str
        ``train``, ``valid`` or ``oot``.
    mask : numpy.ndarray of bool, shape (n_rows,)
        Rows of the table (by position) in this part.
    start, end : pandas.Timestamp
        First and last ``as_of`` date in this part (both inclusive).
    months : int
        Number of distinct ``as_of`` months.
    rows, bads : int
        Number of rows and of bads (``is_bad == 1``).
    """

    name: str
    mask: np.ndarray
    start: pd.Timestamp
    end: pd.Timestamp
    months: int
    rows: int
    bads: int

    def record(self) -> dict:
        """Return the boundaries and counts as a JSON-safe dictionary."""
        return {
            "start": self.start.date().isoformat(),
            "end": self.end.date().isoformat(),
            "months": self.months,
            "rows": self.rows,
            "bads": self.bads,
        }


@dataclass(frozen=True)
class TimeSplit:
    """Train, validation and out-of-time parts of one table, split by ``as_of`` month."""

    train: SplitPart
    valid: SplitPart
    oot: SplitPart

    def parts(self) -> tuple[SplitPart, SplitPart, SplitPart]:
        """Return the parts in time order: train, valid, oot."""
        return (self.train, self.valid, self.oot)

    def boundaries(self) -> dict[str, dict]:
        """Return each part's dates and counts, keyed by part name, for the model record."""
        return {part.name: part.record() for part in self.parts()}


def split_by_time(
    table: pd.DataFrame,
    *,
    valid_months: int,
    oot_months: int,
    gap_months: int = 0,
    date_column: str = "as_of",
    label_column: str = "is_bad",
) -> TimeSplit:
    """Split labelled snapshots by month: oldest months train, then validation, then OOT.

    The distinct calendar months of ``date_column`` are sorted. The last
    ``oot_months`` months form the out-of-time test, the ``valid_months`` months
    before them the validation part (early stopping and calibration), and all
    earlier months the training part. A customer can appear in several parts, at
    different dates, but no snapshot date is in two parts. With ``gap_months`` > 0,
    training keeps only months at least that far before the first out-of-time
    month, so training outcome windows (of that many months) do not see the
    out-of-time period; months between are used by no part.

    Parameters
    ----------
    table : pandas.DataFrame
        Labelled snapshots with ``date_column`` (datetime64) and ``label_column`` (0/1).
    valid_months, oot_months : int
        Number of months in the validation and out-of-time parts, each >= 1.
    gap_months : int, default 0
        Minimum distance in months from a training snapshot to the first
        out-of-time month.
    date_column, label_column : str
        Names of the snapshot date and outcome columns.

    Returns
    -------
    TimeSplit
        Row masks (by position) with the date boundaries and counts of each part.

    Raises
    ------
    ParamsError
        If a month count is not an integer >= 1.
    InputDataError
        If a column is missing, a date or label is missing or invalid, the table has
        fewer than ``valid_months + oot_months + 1`` months, or a part lacks bads or goods.
    """
    _check_months("valid_months", valid_months)
    _check_months("oot_months", oot_months)
    if isinstance(gap_months, bool) or not isinstance(gap_months, int | np.integer) or gap_months < 0:
        raise ParamsError("model.split.invalid_gap", value=gap_months)
    dates = _snapshot_dates(table, date_column)
    labels = _labels(table, label_column)

    # Months as integers (year * 12 + month - 1) so comparisons stay vectorised.
    months = (dates.dt.year * 12 + dates.dt.month - 1).to_numpy(np.int64)
    distinct = np.unique(months)
    needed = valid_months + oot_months + 1
    if len(distinct) < needed:
        raise InputDataError(
            "model.split.too_few_months",
            found=len(distinct),
            first=_month_text(distinct[0]) if len(distinct) else "-",
            last=_month_text(distinct[-1]) if len(distinct) else "-",
            needed=needed,
            valid_months=valid_months,
            oot_months=oot_months,
        )

    oot_first = distinct[-oot_months]
    valid_first = distinct[-(oot_months + valid_months)]
    training_months = distinct[(distinct < valid_first) & (distinct + gap_months <= oot_first)]
    if len(training_months) == 0:
        raise InputDataError(
            "model.split.no_training_months",
            first=_month_text(distinct[0]), last=_month_text(distinct[-1]),
            valid_months=valid_months, oot_months=oot_months, gap_months=gap_months,
            latest=_month_text(oot_first - gap_months),
        )
    masks = {
        "train": (months < valid_first) & (months + gap_months <= oot_first),
        "valid": (months >= valid_first) & (months < oot_first),
        "oot": months >= oot_first,
    }
    parts = {name: _part(name, mask, dates, labels) for name, mask in masks.items()}
    return TimeSplit(**parts)


def _month_text(month_index: int) -> str:
    year, month = divmod(int(month_index), 12)
    return f"{year:04d}-{month + 1:02d}"


def _check_months(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ParamsError("model.split.invalid_months", name=name, value=value)


def _snapshot_dates(table: pd.DataFrame, column: str) -> pd.Series:
    if column not in table.columns:
        raise InputDataError("model.split.missing_column", column=column)
    raw = table[column]
    dates = pd.to_datetime(raw, errors="coerce")
    invalid = dates.isna().to_numpy()
    if invalid.any():
        raise InputDataError(
            "model.split.invalid_dates",
            column=column,
            count=int(invalid.sum()),
            example=_shown(raw.iloc[int(np.flatnonzero(invalid)[0])]),
        )
    return dates.reset_index(drop=True)


def _labels(table: pd.DataFrame, column: str) -> np.ndarray:
    if column not in table.columns:
        raise InputDataError("model.split.missing_column", column=column)
    raw = table[column]
    numeric = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    invalid = ~np.isin(numeric, (0.0, 1.0))
    if invalid.any():
        raise InputDataError(
            "model.split.invalid_labels",
            column=column,
            count=int(invalid.sum()),
            example=_shown(raw.iloc[int(np.flatnonzero(invalid)[0])]),
        )
    return numeric.astype(np.int64)


def _part(name: str, mask: np.ndarray, dates: pd.Series, labels: np.ndarray) -> SplitPart:
    part_dates = dates[mask]
    rows = int(mask.sum())
    bads = int(labels[mask].sum())
    start, end = part_dates.min(), part_dates.max()
    if bads == 0 or bads == rows:
        raise InputDataError(
            "model.split.one_class",
            split=name,
            start=start.date().isoformat(),
            end=end.date().isoformat(),
            rows=rows,
            bads=bads,
            goods=rows - bads,
        )
    return SplitPart(
        name=name,
        mask=mask,
        start=start,
        end=end,
        months=int((part_dates.dt.year * 12 + part_dates.dt.month).nunique()),
        rows=rows,
        bads=bads,
    )


def _shown(value: object) -> str:
    """Return ``repr`` of a value, with NumPy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)
