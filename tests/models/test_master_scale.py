"""Tests for creditlimit.models.master_scale: bound validation, inclusive edges, monotone grades."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.master_scale import MasterScale

PARAMS_PATH = Path(__file__).resolve().parents[2] / "params.yaml"
SMALL_SCALE = MasterScale.from_mapping([0.01, 0.05, 1.0])


def test_master_scale_reads_params_yaml_policy():
    """The policy section of params.yaml builds a ten-grade scale."""
    policy = yaml.safe_load(PARAMS_PATH.read_text(encoding="utf-8"))["policy"]
    scale = MasterScale.from_mapping(policy)
    assert scale.grades == tuple(str(g) for g in range(1, 11))
    assert scale.grade_order[-1] == "D"
    assert scale.pd_upper_bounds == tuple(policy["pd_upper_bounds"])


def test_master_scale_accepts_bare_list():
    """The bounds list itself is accepted as well as the policy section."""
    assert MasterScale.from_mapping({"pd_upper_bounds": [0.5, 1.0]}) == MasterScale.from_mapping([0.5, 1])


def test_assign_grades_upper_bounds_are_inclusive():
    """A PD equal to a bound gets that bound's grade; just above it gets the next grade."""
    pd_values = [0.0, 0.01, np.nextafter(0.01, 1.0), 0.05, np.nextafter(0.05, 1.0), 1.0]
    grades = SMALL_SCALE.assign_grades(pd_values)
    assert grades.tolist() == ["1", "1", "2", "2", "3", "3"]


def test_assign_grades_defaulted_gets_d():
    """Defaulted customers get D whatever their PD."""
    grades = SMALL_SCALE.assign_grades([0.001, 0.2, 0.03], np.array([True, False, True]))
    assert grades.tolist() == ["D", "3", "D"]


def test_assign_grades_returns_text_array():
    """Grades are a NumPy array of text, one per PD."""
    grades = SMALL_SCALE.assign_grades(pd.Series([0.02, 0.5]), pd.Series([False, False]))
    assert isinstance(grades, np.ndarray)
    assert grades.dtype.kind == "U"
    assert grades.tolist() == ["2", "3"]


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=50))
def test_assign_grades_higher_pd_never_better(pd_values):
    """Sorted PDs give grades that never improve."""
    ordered = np.sort(np.asarray(pd_values))
    scale = MasterScale.from_mapping([0.003, 0.006, 0.012, 0.02, 0.035, 0.06, 0.10, 0.16, 0.25, 1.0])
    grade_numbers = scale.assign_grades(ordered).astype(int)
    assert np.all(np.diff(grade_numbers) >= 0)


def test_bands_lists_inclusive_upper_bounds():
    """bands shows each grade's PD range."""
    bands = SMALL_SCALE.bands()
    assert bands["grade"].tolist() == ["1", "2", "3"]
    assert bands["pd_lower"].tolist() == [0.0, 0.01, 0.05]
    assert bands["pd_upper"].tolist() == [0.01, 0.05, 1.0]


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ([0.1, 0.1, 1.0], r"strictly increasing; position 1 has 0.1 after 0.1"),
        ([0.2, 0.1, 1.0], r"strictly increasing; position 1 has 0.1 after 0.2"),
        ([0.1, 0.9], r"must end with 1.0 .* got 0.9"),
        ([0.0, 1.0], r"pd_upper_bounds\[0\] must be a number in \(0, 1\]; got 0.0"),
        ([0.1, 1.5], r"pd_upper_bounds\[1\] must be a number in \(0, 1\]; got 1.5"),
        ([True, 1.0], r"pd_upper_bounds\[0\] must be a number"),
        ([0.1, "1.0"], r"pd_upper_bounds\[1\] must be a number"),
        ([], r"must be a list of PDs; got \[\]"),
        ("0.1, 1.0", r"must be a list of PDs"),
        ({"version": "2026.1"}, r"must be a list of PDs; got None"),
    ],
)
def test_master_scale_rejects_invalid_bounds(bounds, message):
    """Invalid bounds raise ParamsError naming the position and value."""
    with pytest.raises(ParamsError, match=message):
        MasterScale.from_mapping(bounds)


def test_master_scale_error_in_chinese():
    """The bound errors render in zh_CN."""
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"必须严格递增；第 1 项为 0.1，前一项为 0.2"):
        MasterScale.from_mapping([0.2, 0.1, 1.0])


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"2 PD values are missing or outside \[0, 1\] \(first at row 1: nan\)"),
        ("zh_CN", r"有 2 个 PD 缺失或不在 \[0, 1\] 区间内（第一个在第 1 行：nan）"),
    ],
)
def test_assign_grades_rejects_missing_or_invalid_pd(locale, message):
    """A missing or out-of-range PD raises instead of getting a grade."""
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        SMALL_SCALE.assign_grades([0.1, np.nan, 1.2])


def test_assign_grades_rejects_missing_default_status():
    """A missing is_defaulted value raises instead of counting as not defaulted."""
    is_defaulted = pd.array([False, pd.NA, True], dtype="boolean")
    message = r"is_defaulted has 1 missing or non-boolean values \(first at row 1: <NA>\)"
    with pytest.raises(InputDataError, match=message):
        SMALL_SCALE.assign_grades([0.1, 0.2, 0.3], is_defaulted)


def test_assign_grades_rejects_length_mismatch():
    """is_defaulted of another length raises, naming both lengths."""
    with pytest.raises(InputDataError, match=r"is_defaulted has 2 values but there are 3 PDs"):
        SMALL_SCALE.assign_grades([0.1, 0.2, 0.3], [False, True])


def test_master_scale_records_scale_version():
    """The policy section's scale_version travels with the scale; a bare list has none."""
    scale = MasterScale.from_mapping({"pd_upper_bounds": [0.5, 1.0], "scale_version": "MS-1"})
    assert scale.version == "MS-1"
    assert MasterScale.from_mapping([0.5, 1.0]).version == ""


@pytest.mark.parametrize("version", ["", "  ", 2026])
def test_master_scale_rejects_invalid_scale_version(version):
    """An empty or non-text scale_version is rejected with the value named."""
    with pytest.raises(ParamsError, match=r"policy\.scale_version must be a non-empty quoted text"):
        MasterScale.from_mapping({"pd_upper_bounds": [0.5, 1.0], "scale_version": version})
