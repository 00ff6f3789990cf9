"""Grade migration against the previous run: each customer's previous grade and limit, and the matrix.

Grades are compared by their position on the master scale: grade 1 is notch 1,
grade n is notch n and D is notch n + 1, so ``grade_change`` counts notches and
a positive change is a downgrade. A comparison across two scale versions is
still made notch by notch; the matrix names both versions so a reader can tell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlimit.serving.previous_run import PreviousRun

__all__ = ["NEW_CUSTOMER", "EXITED_CUSTOMER", "previous_columns", "grade_migration"]

# Labels of the matrix rows and columns that are not grades.
NEW_CUSTOMER = "new"
EXITED_CUSTOMER = "exited"
MIGRATION_COLUMNS = ("from_grade", "to_grade", "customers", "from_scale_version", "to_scale_version")


def previous_columns(
    customer_ids: pd.Series, grades: pd.Series, previous: PreviousRun | None, grade_order: tuple[str, ...]
) -> pd.DataFrame:
    """Look up each customer in the previous run.

    Parameters
    ----------
    customer_ids, grades : pandas.Series
        The current run's customers and their grades.
    previous : PreviousRun or None
        The previous published run; None gives missing values throughout.
    grade_order : tuple of str
        Every grade from best to worst, ending with ``"D"``.

    Returns
    -------
    pandas.DataFrame
        ``previous_grade`` (text, missing for a customer not in the previous
        run), ``previous_limit`` (the previous run's ``new_limit``, base
        currency) and ``grade_change`` (Int64 notches, positive = worse), in the
        order of ``customer_ids``.
    """
    earlier = _previous_limits(previous)
    by_customer = earlier.set_index("customer_id")
    previous_grade = customer_ids.map(by_customer["grade"]).astype("str")
    previous_limit = customer_ids.map(by_customer["new_limit"]).astype(float)
    notch = {grade: position for position, grade in enumerate(grade_order, start=1)}
    now = grades.map(notch).astype("Int64")
    before = previous_grade.map(notch).astype("Int64")
    return pd.DataFrame({
        "previous_grade": previous_grade.array,
        "previous_limit": previous_limit.to_numpy(),
        "grade_change": (now - before).array,
    })


def grade_migration(
    customer_ids: pd.Series,
    grades: pd.Series,
    previous: PreviousRun | None,
    *,
    grade_order: tuple[str, ...],
    scale_version: str,
) -> pd.DataFrame:
    """Count customers by previous and current grade.

    A customer absent from the previous run migrates from ``"new"``, and a
    customer of the previous run absent now migrates to ``"exited"``. Without a
    previous run every customer is ``"new"``.

    Returns
    -------
    pandas.DataFrame
        Long form with one row per observed pair, ordered by grade. Columns:
        ``from_grade``, ``to_grade``, ``customers`` (int),
        ``from_scale_version`` (missing when the previous run did not record
        one) and ``to_scale_version``.
    """
    earlier = _previous_limits(previous)
    current = pd.DataFrame({"customer_id": customer_ids.to_numpy(), "to_grade": grades.astype(str).to_numpy()})
    before = earlier[["customer_id", "grade"]].rename(columns={"grade": "from_grade"})
    pairs = current.merge(before, on="customer_id", how="outer")
    pairs["from_grade"] = pairs["from_grade"].astype(object).where(pairs["from_grade"].notna(), NEW_CUSTOMER)
    pairs["to_grade"] = pairs["to_grade"].astype(object).where(pairs["to_grade"].notna(), EXITED_CUSTOMER)

    counts = pairs.groupby(["from_grade", "to_grade"]).size().rename("customers").reset_index()
    rank = {grade: i for i, grade in enumerate((NEW_CUSTOMER, *grade_order, EXITED_CUSTOMER))}
    counts = counts.sort_values(
        ["from_grade", "to_grade"], key=lambda column: column.map(lambda g: rank.get(g, len(rank))), kind="stable"
    ).reset_index(drop=True)
    counts["customers"] = counts["customers"].astype(np.int64)
    counts["from_scale_version"] = _previous_scale_version(earlier)
    counts["to_scale_version"] = scale_version
    return counts.astype({"from_grade": "str", "to_grade": "str", "from_scale_version": "str",
                          "to_scale_version": "str"})[list(MIGRATION_COLUMNS)]


def _previous_limits(previous: PreviousRun | None) -> pd.DataFrame:
    """Select the previous run's limit columns read here, adding missing ones; empty without a run."""
    columns = {"customer_id": "str", "grade": "str", "new_limit": "float64", "scale_version": "str"}
    if previous is None or previous.limits.empty or "customer_id" not in previous.limits.columns:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})
    frame = previous.limits.copy()
    for name, dtype in columns.items():
        if name not in frame.columns:
            frame[name] = pd.Series(np.nan if dtype == "float64" else None, index=frame.index, dtype=dtype)
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["grade"] = frame["grade"].astype("str")
    return frame[list(columns)]


def _previous_scale_version(earlier: pd.DataFrame) -> str | None:
    versions = earlier["scale_version"].dropna().unique()
    return str(versions[0]) if len(versions) else None
