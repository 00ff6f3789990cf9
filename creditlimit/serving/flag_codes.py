"""The ``risk_flags`` column of the limits: each customer's flag codes, sorted and comma-joined."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["joined_flag_codes"]


def joined_flag_codes(customer_ids: pd.Series, flags: pd.DataFrame) -> pd.Series:
    """Join each customer's flag codes in sorted order with commas.

    A code raised twice (for two subjects) appears twice, and a customer without
    flags gets an empty text. Equal to grouping ``flags`` by customer and joining
    ``sorted(codes)``, without a Python call per group: the rows are sorted once
    by customer and code, and each customer's slice is joined.

    Parameters
    ----------
    customer_ids : pandas.Series
        Customers of the limits, in their order.
    flags : pandas.DataFrame
        Flags with ``customer_id`` and ``code``.

    Returns
    -------
    pandas.Series of str
        Same index as ``customer_ids``.
    """
    joined: dict[object, str] = {}
    if len(flags):
        ids = flags["customer_id"].to_numpy(dtype=object)
        codes = flags["code"].to_numpy(dtype=object)
        order = np.lexsort((codes.astype(str), ids.astype(str)))
        ids, codes = ids[order], codes[order].tolist()
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        ends = np.r_[starts[1:], len(ids)]
        joined = {ids[start]: ",".join(codes[start:end]) for start, end in zip(starts, ends)}
    values = [joined.get(customer, "") for customer in customer_ids.tolist()]
    return pd.Series(values, index=customer_ids.index, dtype="str")
