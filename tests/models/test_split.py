"""Tests for creditlimit.models.split: month boundaries, counts and error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.split import split_by_time


def monthly_table(n_months: int, rows_per_month: int = 4, *, day: int = 1) -> pd.DataFrame:
    """Snapshots on ``day`` of each month from January 2023, one bad per month."""
    dates = pd.date_range("2023-01-01", periods=n_months, freq="MS") + pd.Timedelta(days=day - 1)
    as_of = np.repeat(dates.to_numpy(), rows_per_month)
    is_bad = np.tile([1] + [0] * (rows_per_month - 1), n_months)
    return pd.DataFrame({
        "customer_id": [f"C{i % rows_per_month}" for i in range(len(as_of))],
        "as_of": as_of,
        "is_bad": is_bad,
    })


def test_split_by_time_assigns_latest_months_to_oot():
    """Ten months with 2 validation and 3 OOT months: 5 train, 2 valid, 3 OOT."""
    split = split_by_time(monthly_table(10), valid_months=2, oot_months=3)
    assert split.boundaries() == {
        "train": {"start": "2023-01-01", "end": "2023-05-01", "months": 5, "rows": 20, "bads": 5},
        "valid": {"start": "2023-06-01", "end": "2023-07-01", "months": 2, "rows": 8, "bads": 2},
        "oot": {"start": "2023-08-01", "end": "2023-10-01", "months": 3, "rows": 12, "bads": 3},
    }


def test_split_masks_are_disjoint_and_cover_every_row():
    """Every row is in exactly one part."""
    split = split_by_time(monthly_table(8), valid_months=2, oot_months=2)
    stacked = np.vstack([part.mask for part in split.parts()]).astype(int)
    assert stacked.shape == (3, 32)
    assert (stacked.sum(axis=0) == 1).all()


def test_split_ignores_row_order():
    """Shuffled rows get the same part as in date order."""
    table = monthly_table(8)
    shuffled = table.sample(frac=1.0, random_state=1)
    split = split_by_time(shuffled, valid_months=2, oot_months=2)
    oot_dates = shuffled.loc[split.oot.mask, "as_of"]
    assert oot_dates.min() == pd.Timestamp("2023-07-01")
    assert split.oot.rows == 8
    assert split.train.end == pd.Timestamp("2023-04-01")


def test_split_groups_dates_by_calendar_month():
    """Snapshots on the 15th still split by calendar month."""
    table = monthly_table(6, day=15)
    split = split_by_time(table, valid_months=1, oot_months=1)
    assert split.valid.start == pd.Timestamp("2023-05-15")
    assert split.oot.start == pd.Timestamp("2023-06-15")
    assert split.train.months == 4


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"has 4 distinct as_of months \(2023-01 to 2023-04\) .* at least 6"),
        ("zh_CN", r"只有 4 个不同的 as_of 月份（2023-01 至 2023-04）.*至少需要 6 个"),
    ],
)
def test_split_too_few_months_raises(locale, message):
    """Fewer months than valid + oot + 1 raises, naming the counts, in both locales."""
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        split_by_time(monthly_table(4), valid_months=2, oot_months=3)


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"The valid split \(2023-05-01 to 2023-06-01, 8 rows\) has 0 bads and 8 goods"),
        ("zh_CN", r"valid 切分（2023-05-01 至 2023-06-01，8 行）有 0 个违约和 8 个正常样本"),
    ],
)
def test_split_without_bads_raises(locale, message):
    """A part with no bads raises, naming the part and its dates, in both locales."""
    table = monthly_table(8)
    in_valid = table["as_of"].between("2023-05-01", "2023-06-01")
    table.loc[in_valid, "is_bad"] = 0
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        split_by_time(table, valid_months=2, oot_months=2)


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"])
def test_split_rejects_invalid_month_counts(value):
    """Month counts must be integers >= 1."""
    with pytest.raises(ParamsError, match=r"train.oot_months must be an integer >= 1"):
        split_by_time(monthly_table(8), valid_months=2, oot_months=value)


def test_split_rejects_missing_dates():
    """A snapshot without an as_of date raises with the count."""
    table = monthly_table(8)
    table["as_of"] = table["as_of"].astype(object)
    table.loc[3, "as_of"] = None
    with pytest.raises(InputDataError, match=r"column 'as_of' has 1 missing or unparseable"):
        split_by_time(table, valid_months=2, oot_months=2)


def test_split_rejects_unlabelled_rows():
    """A missing or non-binary label raises, showing the first bad value."""
    table = monthly_table(8).astype({"is_bad": "float64"})
    table.loc[5, "is_bad"] = np.nan
    table.loc[6, "is_bad"] = 2
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"发现 2 个无效值（第一个：nan）"):
        split_by_time(table, valid_months=2, oot_months=2)


def test_split_rejects_missing_label_column():
    """A table without is_bad raises, naming the column."""
    with pytest.raises(InputDataError, match=r"required column 'is_bad' is missing"):
        split_by_time(monthly_table(8).drop(columns="is_bad"), valid_months=2, oot_months=2)


def test_split_gap_keeps_training_windows_before_oot():
    """With a gap, training months end gap_months before the first OOT month."""
    months = pd.date_range("2023-01-01", periods=20, freq="MS")
    table = pd.DataFrame({
        "as_of": np.repeat(months, 4),
        "is_bad": np.tile([0, 1, 0, 0], 20),
    })
    split = split_by_time(table, valid_months=3, oot_months=3, gap_months=6)
    train_dates = table.loc[split.train.mask, "as_of"]
    oot_dates = table.loc[split.oot.mask, "as_of"]
    assert oot_dates.min() == pd.Timestamp("2024-06-01")
    assert train_dates.max() == pd.Timestamp("2023-12-01")
    assert not (split.train.mask & split.valid.mask).any()
    unused = ~(split.train.mask | split.valid.mask | split.oot.mask)
    assert table.loc[unused, "as_of"].drop_duplicates().tolist() == list(pd.date_range("2024-01-01", periods=2, freq="MS"))


@pytest.mark.parametrize("gap", [-1, 1.5, True])
def test_split_rejects_invalid_gap(gap):
    """A negative, fractional or boolean gap is a parameter error."""
    table = pd.DataFrame({"as_of": pd.date_range("2023-01-01", periods=10, freq="MS"), "is_bad": [0, 1] * 5})
    with pytest.raises(ParamsError, match=r"train.gap_months must be an integer >= 0; got"):
        split_by_time(table, valid_months=2, oot_months=2, gap_months=gap)


def test_split_gap_leaves_no_training_month():
    """A gap that removes every training month is reported with the gap named."""
    import pandas as pd
    import pytest

    from creditlimit.errors import InputDataError
    from creditlimit.models.split import split_by_time

    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    table = pd.DataFrame({"as_of": months.repeat(4), "is_bad": [0, 1, 0, 1] * 12})
    with pytest.raises(InputDataError, match=r"gap of 10 months") as error:
        split_by_time(table, valid_months=3, oot_months=3, gap_months=10)
    assert "train.gap_months" in str(error.value)
    assert split_by_time(table, valid_months=3, oot_months=3, gap_months=9).train.rows == 4
