"""Tests for creditlimit.models.encoding: frozen levels, unseen values, feature matrix."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import InputDataError, ModelError
from creditlimit.i18n import use_locale
from creditlimit.models.encoding import CategoryEncoder, build_feature_matrix


@pytest.fixture()
def encoder() -> CategoryEncoder:
    """Levels fitted on a small frame with a missing value in each column."""
    frame = pd.DataFrame({
        "industry": ["retail", "construction", None, "retail", "agriculture"],
        "size_class": ["small", None, "large", "small", "small"],
    })
    return CategoryEncoder.fit(frame, ["industry", "size_class"])


def test_encoder_fit_sorts_levels_without_missing(encoder):
    """Levels are the sorted distinct non-missing values."""
    assert encoder.levels == {
        "industry": ("agriculture", "construction", "retail"),
        "size_class": ("large", "small"),
    }


def test_encoder_transform_maps_unseen_and_missing_to_nan(encoder):
    """Known values get their level position; unseen and missing become NaN and unseen are counted."""
    frame = pd.DataFrame(
        {
            "industry": ["retail", "mining", None, "agriculture"],
            "size_class": [None, "small", "huge", "huge"],
        },
        index=[10, 11, 12, 13],
    )
    codes, unseen = encoder.transform(frame)
    assert codes.index.tolist() == [10, 11, 12, 13]
    np.testing.assert_array_equal(codes["industry"].to_numpy(), [2.0, np.nan, np.nan, 0.0])
    np.testing.assert_array_equal(codes["size_class"].to_numpy(), [np.nan, 1.0, np.nan, np.nan])
    assert unseen == {"industry": 1, "size_class": 2}


def test_encoder_unseen_mask_flags_rows(encoder):
    """unseen_mask is True only for non-missing values never seen in training."""
    frame = pd.DataFrame({"industry": ["mining", None, "retail"], "size_class": ["small", "huge", None]})
    mask = encoder.unseen_mask(frame)
    assert mask["industry"].tolist() == [True, False, False]
    assert mask["size_class"].tolist() == [False, True, False]


def test_encoder_compares_values_as_text():
    """Numeric category values are matched by their text."""
    fitted = CategoryEncoder.fit(pd.DataFrame({"size_class": [1, 2, 2]}), ["size_class"])
    assert fitted.levels == {"size_class": ("1", "2")}
    codes, unseen = fitted.transform(pd.DataFrame({"size_class": ["2", 3]}))
    np.testing.assert_array_equal(codes["size_class"].to_numpy(), [1.0, np.nan])
    assert unseen == {"size_class": 1}


def test_encoder_json_round_trip(encoder):
    """to_dict is plain JSON and from_dict rebuilds the same levels."""
    text = json.dumps(encoder.to_dict())
    assert CategoryEncoder.from_dict(json.loads(text)) == encoder


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"format_version": 1, "levels": {"industry": ["retail", "agriculture"]}}, "not sorted"),
        ({"format_version": 1, "levels": {"industry": ["a", "a"]}}, "not sorted and unique"),
        ({"format_version": 1, "levels": {"industry": [1, 2]}}, "not text"),
        ({"format_version": 9, "levels": {}}, "unknown format_version"),
    ],
)
def test_encoder_from_dict_rejects_corrupt_levels(data, problem):
    """Corrupt stored levels raise ModelError naming the problem."""
    with pytest.raises(ModelError, match=problem):
        CategoryEncoder.from_dict(data)


def test_encoder_from_dict_message_in_chinese():
    """The corrupt-levels message renders in zh_CN."""
    with use_locale("zh_CN"), pytest.raises(ModelError, match=r"模型中保存的类别取值无效"):
        CategoryEncoder.from_dict({"format_version": 2})


def test_build_feature_matrix_selects_columns_by_name(encoder):
    """Columns come out in feature order whatever the frame's order, and extras are ignored."""
    frame = pd.DataFrame({
        "extra": ["x", "y"],
        "size_class": ["small", "large"],
        "ratio": [0.5, np.nan],
        "industry": ["retail", "mining"],
    })
    matrix, unseen = build_feature_matrix(
        frame, feature_names=["ratio", "industry", "size_class"], encoder=encoder
    )
    expected = np.array([[0.5, 2.0, 1.0], [np.nan, np.nan, 0.0]])
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.float64
    assert unseen == {"industry": 1, "size_class": 0}


def test_build_feature_matrix_keeps_missing_values(encoder):
    """Missing numeric values stay NaN: nothing is filled with 0."""
    frame = pd.DataFrame({
        "ratio": pd.array([None, 1.0, None], dtype="Float64"),
        "industry": [None, None, None],
        "size_class": [None, None, None],
    })
    matrix, _ = build_feature_matrix(
        frame, feature_names=["ratio", "industry", "size_class"], encoder=encoder
    )
    assert np.isnan(matrix[0]).all()
    assert matrix[1, 0] == 1.0
    assert np.count_nonzero(matrix == 0.0) == 0


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"missing 2 required column\(s\): ratio, size_class"),
        ("zh_CN", r"特征表缺少 2 个必需列：ratio, size_class"),
    ],
)
def test_build_feature_matrix_missing_columns(encoder, locale, message):
    """A missing feature column raises, naming every missing column, in both locales."""
    frame = pd.DataFrame({"industry": ["retail"]})
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        build_feature_matrix(frame, feature_names=["ratio", "industry", "size_class"], encoder=encoder)


def test_build_feature_matrix_rejects_text_in_numeric_feature(encoder):
    """Text in a numeric feature raises instead of becoming NaN silently."""
    frame = pd.DataFrame({"ratio": [1.0, "n/a", None], "industry": [None] * 3, "size_class": [None] * 3})
    message = r"'ratio' must be numeric; got 1 non-numeric values \(first: 'n/a'\)"
    with pytest.raises(InputDataError, match=message):
        build_feature_matrix(frame, feature_names=["ratio", "industry", "size_class"], encoder=encoder)


def test_build_feature_matrix_rejects_infinite_values(encoder):
    """An infinite ratio raises: a zero denominator must give NaN."""
    frame = pd.DataFrame({"ratio": [np.inf, 1.0], "industry": [None] * 2, "size_class": [None] * 2})
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"特征列“ratio”有 1 个无穷大值"):
        build_feature_matrix(frame, feature_names=["ratio", "industry", "size_class"], encoder=encoder)
