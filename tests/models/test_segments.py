"""Tests for creditlimit.models.segments: segment columns and metrics by segment."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.segments import (
    SegmentParams,
    metrics_by_segment,
    segment_frame,
    segment_metric_records,
)

PARAMS = SegmentParams(size_class_revenue_bounds=(50e6, 400e6))


def _table():
    return pd.DataFrame({
        "industry": ["retail", "retail", None, "construction", "construction", "retail"],
        "size_class": ["large", None, None, None, "small", None],
        "revenue_base": [1e6, 49_999_999.0, 50e6, 400e6, np.nan, np.nan],
        "has_statements": [True, True, True, True, False, None],
    })


def test_segment_frame_derives_size_class_from_revenue():
    """Given size classes win; otherwise revenue bands decide; neither gives missing."""
    segments = segment_frame(_table(), params=PARAMS)
    assert segments["size_class"].tolist() == ["large", "small", "medium", "large", "small", None]


def test_segment_frame_thin_file_means_no_statements():
    """Thin file is 'yes' without statements, 'no' with them and missing when unknown."""
    segments = segment_frame(_table(), params=PARAMS)
    assert segments["thin_file"].tolist() == ["no", "no", "no", "no", "yes", None]
    assert segments["industry"].tolist() == ["retail", "retail", None, "construction", "construction", "retail"]


def test_segment_frame_leaves_input_unchanged():
    """The table is not modified."""
    table = _table()
    before = table.copy()
    segment_frame(table, params=PARAMS)
    pd.testing.assert_frame_equal(table, before)


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"column 'has_statements' needed for the thin_file segment is missing"),
        ("zh_CN", r"缺少 thin_file 分组所需的列“has_statements”"),
    ],
)
def test_segment_frame_missing_column_raises(locale, message):
    """A table without the thin-file column raises InputDataError naming it."""
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        segment_frame(_table().drop(columns="has_statements"), params=PARAMS)


def test_metrics_by_segment_undefined_is_reason_not_zero():
    """A one-class segment reports AUC as None with its reason; defined segments carry numbers."""
    segments = pd.DataFrame({"industry": ["a"] * 4 + ["b"] * 3, "size_class": ["s"] * 7,
                             "thin_file": ["no"] * 6 + [None]})
    y = np.array([0, 1, 0, 1, 0, 0, 0])
    pd_values = np.array([0.1, 0.6, 0.2, 0.7, 0.1, 0.1, 0.2])
    result = metrics_by_segment(segments, y=y, pd_values=pd_values, score=pd_values,
                                parts={"oot": np.ones(7, dtype=bool)})
    segment_b = result["oot"]["industry"]["b"]
    assert segment_b["auc"] is None
    assert segment_b["ks"] is None
    assert segment_b["undefined"]["auc"] == "undefined: one class (3 goods, 0 bads)"
    assert segment_b["brier"] == pytest.approx(np.mean([0.01, 0.01, 0.04]))
    assert result["oot"]["industry"]["a"]["auc"] == 1.0
    assert result["oot"]["thin_file"]["missing"]["n_rows"] == 1
    json.dumps(result, allow_nan=False)


def test_metrics_by_segment_per_part():
    """Each part only counts its own rows."""
    segments = pd.DataFrame({"industry": ["a", "a", "a", "a"]})
    parts = {"train": np.array([True, True, False, False]), "oot": np.array([False, False, True, True])}
    result = metrics_by_segment(segments, y=[0, 1, 1, 0], pd_values=[0.2, 0.8, 0.3, 0.4],
                                score=[0.2, 0.8, 0.3, 0.4], parts=parts)
    assert result["train"]["industry"]["a"]["auc"] == 1.0
    assert result["oot"]["industry"]["a"]["auc"] == 0.0
    assert result["oot"]["industry"]["a"]["n_rows"] == 2


def test_segment_metric_records_skip_undefined():
    """MLflow names are sanitised and undefined metrics are left out, never logged as 0."""
    by_segment = {"oot": {"industry": {"批发": {"auc": 0.7, "ks": None, "brier": 0.05, "ece": 0.01},
                                       "missing": {"auc": None, "ks": None, "brier": 0.1, "ece": 0.0}}}}
    records = segment_metric_records(by_segment, prefix="segment.")
    assert records["segment.oot.industry.__.auc"] == 0.7
    assert "segment.oot.industry.__.ks" not in records
    assert "segment.oot.industry.missing.auc" not in records
    assert records["segment.oot.industry.missing.brier"] == 0.1


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"size_class_revenue_bounds": [400e6, 50e6]}, r"must be two increasing positive amounts"),
        ({"size_class_revenue_bounds": [0, 50e6]}, r"must be two increasing positive amounts"),
        ({"size_class_revenue_bounds": "50m"}, r"got '50m'"),
        ({"size_class_revenue_bounds": [1, 2], "thin": 3}, r"unknown parameter\(s\) thin"),
    ],
)
def test_segment_params_rejects_invalid(section, message):
    """Invalid segment parameters raise ParamsError."""
    with pytest.raises(ParamsError, match=message):
        SegmentParams.from_mapping(section)


def test_segment_params_read_params_yaml():
    """The segments section of params.yaml validates."""
    from repo_params import repo_params

    params = SegmentParams.from_mapping(repo_params()["train"]["segments"])
    assert params.size_class_revenue_bounds[0] < params.size_class_revenue_bounds[1]
