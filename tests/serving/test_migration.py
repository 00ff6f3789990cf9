"""Tests of the grade comparison with the previous run and the migration matrix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from creditlimit.serving.migration import grade_migration, previous_columns
from creditlimit.serving.previous_run import PreviousRun

GRADE_ORDER = ("1", "2", "3", "D")


def previous_run(limits: pd.DataFrame) -> PreviousRun:
    return PreviousRun(as_of=dt.date(2025, 12, 1), folder=Path("unused"), limits=limits,
                       explanations=pd.DataFrame(), flags=pd.DataFrame(), manifest={})


PREVIOUS = previous_run(pd.DataFrame({
    "customer_id": ["A", "B", "C", "X"],
    "grade": ["1", "3", "2", "2"],
    "new_limit": [100_000.0, 50_000.0, 0.0, 20_000.0],
    "scale_version": ["MS-1"] * 4,
}))
CUSTOMERS = pd.Series(["A", "B", "C", "N"])
GRADES = pd.Series(["2", "1", "D", "3"])


def test_previous_columns_notches_and_limits():
    """Previous grade and limit per customer; grade_change counts notches, positive is worse, D after n."""
    out = previous_columns(CUSTOMERS, GRADES, PREVIOUS, GRADE_ORDER)
    assert out["previous_grade"].tolist()[:3] == ["1", "3", "2"]
    assert pd.isna(out["previous_grade"].iloc[3])
    assert out["previous_limit"].tolist()[:3] == [100_000.0, 50_000.0, 0.0]
    assert pd.isna(out["previous_limit"].iloc[3])
    assert out["grade_change"].dtype == "Int64"
    assert out["grade_change"].tolist()[:3] == [1, -2, 2]
    assert pd.isna(out["grade_change"].iloc[3])


def test_previous_columns_without_previous_run():
    """Without a previous run every comparison is missing."""
    out = previous_columns(CUSTOMERS, GRADES, None, GRADE_ORDER)
    assert out["previous_grade"].isna().all()
    assert out["previous_limit"].isna().all()
    assert out["grade_change"].isna().all()


def test_previous_columns_tolerates_old_run_without_columns():
    """A previous run lacking new_limit still gives grades, with limits missing."""
    old = previous_run(pd.DataFrame({"customer_id": ["A"], "grade": ["3"]}))
    out = previous_columns(pd.Series(["A"]), pd.Series(["1"]), old, GRADE_ORDER)
    assert out["previous_grade"].tolist() == ["3"]
    assert pd.isna(out["previous_limit"].iloc[0])
    assert out["grade_change"].tolist() == [-2]


def test_grade_migration_counts_pairs_in_grade_order():
    """Each from/to pair is counted once; new and exited customers have their own labels."""
    matrix = grade_migration(CUSTOMERS, GRADES, PREVIOUS, grade_order=GRADE_ORDER, scale_version="MS-2")
    pairs = list(zip(matrix["from_grade"], matrix["to_grade"], matrix["customers"]))
    assert pairs == [("new", "3", 1), ("1", "2", 1), ("2", "D", 1), ("2", "exited", 1), ("3", "1", 1)]
    assert matrix["customers"].sum() == 5
    assert (matrix["from_scale_version"] == "MS-1").all()
    assert (matrix["to_scale_version"] == "MS-2").all()


def test_grade_migration_without_previous_run():
    """Without a previous run every customer migrates from new, and no previous scale is named."""
    matrix = grade_migration(CUSTOMERS, GRADES, None, grade_order=GRADE_ORDER, scale_version="MS-2")
    assert set(matrix["from_grade"]) == {"new"}
    assert matrix["customers"].sum() == 4
    assert matrix["from_scale_version"].isna().all()
