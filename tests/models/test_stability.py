"""Tests for creditlimit.models.stability: hand-computed PSI, bins from the reference, CSI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.stability import csi, psi

# With expected [1, 2, 3, 4] and bins=2 the median edge is 2, so the bins are
# (-inf, 2], (2, inf) and missing, with expected counts 2, 2, 0. Adding 0.5 to each
# of the 3 bins gives shares 2.5/5.5, 2.5/5.5 and 0.5/5.5 for four rows.
EXPECTED = [1.0, 2.0, 3.0, 4.0]


def test_psi_hand_computed():
    """Actual counts 3, 1, 0 give PSI (1/5.5) * ln(7/3)."""
    # Actual shares 3.5/5.5, 1.5/5.5, 0.5/5.5: terms (1/5.5) ln(3.5/2.5),
    # (-1/5.5) ln(1.5/2.5) and 0, which sum to (1/5.5) ln(7/3).
    result = psi(EXPECTED, [1.0, 1.0, 2.0, 3.0], bins=2)
    assert result.psi.value == pytest.approx(math.log(7 / 3) / 5.5, abs=1e-12)
    assert result.table["expected_count"].tolist() == [2, 2, 0]
    assert result.table["actual_count"].tolist() == [3, 1, 0]


def test_psi_empty_bin_is_finite():
    """An actual sample with no row in the upper bin gives a finite PSI."""
    # Actual counts 4, 0, 0: shares 4.5/5.5, 0.5/5.5, 0.5/5.5, so PSI = (2/5.5) ln 9.
    result = psi(EXPECTED, [1.0, 2.0, 1.0, 2.0], bins=2)
    assert result.psi.value == pytest.approx(2 / 5.5 * math.log(9), abs=1e-12)
    assert np.isfinite(result.table["psi_term"]).all()


def test_psi_all_missing_actual():
    """An all-missing actual sample puts every row in the missing bin."""
    # Actual counts 0, 0, 4: shares 0.5/5.5, 0.5/5.5, 4.5/5.5, so
    # PSI = 2 * (2/5.5) ln 5 + (4/5.5) ln 9 = (4/5.5) ln 45.
    result = psi(EXPECTED, [np.nan, None, np.nan, np.nan], bins=2)
    assert result.psi.value == pytest.approx(4 / 5.5 * math.log(45), abs=1e-12)
    assert result.table["actual_count"].tolist() == [0, 0, 4]


def test_psi_identical_samples_is_zero():
    """The same sample on both sides gives PSI 0."""
    values = np.arange(1.0, 21.0)
    assert psi(values, values).psi.value == pytest.approx(0.0, abs=1e-15)


def test_psi_values_outside_go_to_edge_bins():
    """Values below and above the reference range count in the first and last interval."""
    result = psi(EXPECTED, [-100.0, 100.0, 1e9], bins=2)
    assert result.table["actual_count"].tolist() == [1, 2, 0]


def test_psi_bins_come_from_expected_quantiles():
    """Ten distinct reference values and bins=10 give deciles with one value each."""
    result = psi(np.arange(1.0, 11.0), [5.5], bins=10)
    table = result.table
    assert table["bin"].iloc[0] == "(-inf, 1.0]"
    assert table["bin"].iloc[9] == "(9.0, inf)"
    assert table["bin"].iloc[10] == "missing"
    assert table["expected_count"].tolist() == [1] * 10 + [0]
    assert table["actual_count"].iloc[5] == 1


def test_psi_ties_are_not_split():
    """Tied reference values share one bin and duplicate edges are dropped."""
    # Quantiles at 1/8 ... 6/8 are all 0 and the one at 7/8 is 1, so the edges are 0 and 1.
    result = psi([0.0] * 6 + [1.0, 2.0], [0.0, 2.0], bins=8)
    table = result.table
    assert table["bin"].tolist() == ["(-inf, 0.0]", "(0.0, 1.0]", "(1.0, inf)", "missing"]
    assert table["expected_count"].tolist() == [6, 1, 1, 0]


def test_psi_every_reference_bin_is_filled():
    """Every interval contains at least one reference value on a skewed sample."""
    reference = np.random.default_rng(5).exponential(size=997).round(1)
    table = psi(reference, reference[:10]).table
    intervals = table[table["bin_kind"] == "interval"]
    assert (intervals["expected_count"] > 0).all()


def test_psi_shares_follow_smoothing_rule():
    """Shares are (count + smoothing) / (n_rows + smoothing * n_bins)."""
    result = psi(EXPECTED, [1.0, 3.0], bins=2, smoothing=1.0)
    table = result.table
    assert table["expected_share"].tolist() == pytest.approx([3 / 7, 3 / 7, 1 / 7])
    assert table["actual_share"].tolist() == pytest.approx([2 / 5, 2 / 5, 1 / 5])
    assert result.psi.value == pytest.approx(table["psi_term"].sum())


def test_psi_categorical_hand_computed():
    """Categories seen in the reference, an unseen bin and a missing bin."""
    # Bins a, b, unseen, missing. Expected counts 2, 1, 0, 1 and actual 1, 0, 2, 1;
    # with 0.5 added the denominators are 6 and the terms sum to (1/6) ln 125.
    result = psi(["a", "a", "b", None], ["a", "c", "c", None])
    table = result.table
    assert table["bin"].tolist() == ["a", "b", "unseen", "missing"]
    assert table["bin_kind"].tolist() == ["category", "category", "unseen", "missing"]
    assert table["actual_count"].tolist() == [1, 0, 2, 1]
    assert result.psi.value == pytest.approx(math.log(125) / 6, abs=1e-12)


def test_psi_no_rows_is_undefined():
    """An empty actual sample makes PSI undefined with a reason, not 0."""
    result = psi(EXPECTED, [])
    assert result.psi.value is None
    assert result.psi.reason == "undefined: no rows"


@pytest.mark.parametrize(
    ("locale", "keyword", "message"),
    [
        ("en", {"bins": 0}, r"bins must be an integer >= 1; got 0"),
        ("zh_CN", {"bins": 0}, r"bins 必须是大于等于 1 的整数"),
        ("en", {"smoothing": 0.0}, r"smoothing must be a finite number > 0"),
        ("zh_CN", {"smoothing": float("nan")}, r"smoothing 必须是大于 0 的有限数值"),
    ],
)
def test_psi_rejects_invalid_parameters(locale, keyword, message):
    """Invalid bins or smoothing raise ParamsError in both locales."""
    with use_locale(locale), pytest.raises(ParamsError, match=message):
        psi(EXPECTED, EXPECTED, **keyword)


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"actual has 1 infinite values \(first: inf\)"),
        ("zh_CN", r"actual 中有 1 个无穷值"),
    ],
)
def test_psi_rejects_infinite_value(locale, message):
    """An infinite value raises in both locales instead of being binned."""
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        psi(EXPECTED, [1.0, math.inf])


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"actual has 1 values that are not numbers \(first: 'x'\)"),
        ("zh_CN", r"actual 中有 1 个非数值"),
    ],
)
def test_psi_rejects_text_in_numeric(locale, message):
    """Text in a numeric variable raises in both locales."""
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        psi(EXPECTED, [1.0, "x"], categorical=False)


def test_csi_one_row_per_column():
    """CSI returns each column's PSI and kind, equal to psi on that column."""
    expected = pd.DataFrame({"ratio": EXPECTED, "industry": ["a", "a", "b", None]})
    actual = pd.DataFrame({"ratio": [1.0, 1.0, 2.0, 3.0], "industry": ["a", "c", "c", None]})
    table = csi(expected, actual, columns=["ratio", "industry"], bins=2)
    assert table["column"].tolist() == ["ratio", "industry"]
    assert table["kind"].tolist() == ["numeric", "categorical"]
    assert table["n_bins"].tolist() == [3, 4]
    assert table["psi"].iloc[0] == pytest.approx(math.log(7 / 3) / 5.5, abs=1e-12)
    assert table["psi"].iloc[1] == pytest.approx(math.log(125) / 6, abs=1e-12)
    assert table["undefined_reason"].tolist() == [None, None]


def test_csi_categorical_columns_override():
    """A numeric code column listed in categorical_columns is binned by category."""
    expected = pd.DataFrame({"code": [1, 1, 2, 3]})
    actual = pd.DataFrame({"code": [1, 4, 4, 4]})
    table = csi(expected, actual, columns=["code"], categorical_columns=["code"])
    assert table["kind"].tolist() == ["categorical"]
    assert table["n_bins"].tolist() == [5]


def test_csi_empty_actual_is_undefined():
    """An actual frame with no rows gives None and the reason, never 0."""
    expected = pd.DataFrame({"ratio": EXPECTED})
    table = csi(expected, expected.iloc[:0], columns=["ratio"])
    assert table["psi"].iloc[0] is None
    assert table["undefined_reason"].iloc[0] == "undefined: no rows"


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"Column 'roa' is missing from actual_frame"),
        ("zh_CN", r"actual_frame 中缺少列“roa”"),
    ],
)
def test_csi_rejects_missing_column(locale, message):
    """A column absent from one frame raises in both locales, naming the frame."""
    expected = pd.DataFrame({"roa": EXPECTED})
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        csi(expected, pd.DataFrame({"other": EXPECTED}), columns=["roa"])
