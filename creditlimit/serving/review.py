"""Review cycle: the date of each customer's next credit review, from its grade."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from creditlimit.serving.policy_params import PolicyParams

__all__ = ["next_reviews"]


def next_reviews(
    *,
    grade_number: np.ndarray,
    watch: np.ndarray,
    limit_valid_to: np.ndarray,
    as_of: date,
    policy: PolicyParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Schedule each customer's next review.

    Parameters
    ----------
    grade_number : numpy.ndarray of float
        Grade 1..n, NaN for grade D or no grade.
    watch : numpy.ndarray of bool
        Customers on the watch cycle (defaulted, suspended), whatever their grade.
    limit_valid_to : numpy.ndarray of datetime64
        Expiry of a temporary limit (NaT when none).
    as_of : datetime.date
        Decision date the cycle starts from.
    policy : PolicyParams
        ``review_months_by_grade`` and ``review_months_watch``.

    Returns
    -------
    (review_frequency_months, next_review_on) : tuple of numpy.ndarray
        Months of the cycle (int) and the review date (datetime64[ms]): ``as_of``
        plus that many calendar months, or the expiry of a temporary limit in
        force when that comes first.
    """
    by_grade = np.asarray(policy.review_months_by_grade, dtype=np.int64)
    known = ~np.isnan(grade_number) & ~watch
    months = np.full(len(grade_number), policy.review_months_watch, dtype=np.int64)
    months[known] = by_grade[grade_number[known].astype(int) - 1]

    start = pd.Timestamp(as_of)
    by_months = {m: np.datetime64((start + pd.DateOffset(months=int(m))).date(), "ms") for m in np.unique(months)}
    scheduled = np.array([by_months[m] for m in months], dtype="datetime64[ms]")
    valid_to = np.asarray(limit_valid_to).astype("datetime64[ms]")
    # A temporary limit that is still in force is reviewed before it expires.
    expires_first = ~np.isnat(valid_to) & (valid_to >= np.datetime64(as_of, "ms")) & (valid_to < scheduled)
    return months, np.where(expires_first, valid_to, scheduled)
