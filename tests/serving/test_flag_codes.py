"""Tests for creditlimit.serving.flag_codes: the risk_flags text of each customer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlimit.serving.flag_codes import joined_flag_codes


def _grouped(customer_ids: pd.Series, flags: pd.DataFrame) -> list[str]:
    codes = flags.groupby("customer_id")["code"].agg(lambda c: ",".join(sorted(c)))
    return customer_ids.map(codes).fillna("").tolist()


def test_joined_flag_codes_sorts_and_keeps_repeats():
    """Codes are sorted per customer, a repeated code stays, a customer without flags gets ''."""
    flags = pd.DataFrame({"customer_id": ["C2", "C1", "C2", "C2"],
                          "code": ["thin_file", "over_limit", "unseen_category", "unseen_category"]})
    customers = pd.Series(["C1", "C2", "C3"], index=[10, 11, 12])
    joined = joined_flag_codes(customers, flags)
    assert joined.tolist() == ["over_limit", "thin_file,unseen_category,unseen_category", ""]
    assert joined.index.tolist() == [10, 11, 12]
    assert joined.dtype == "str"


def test_joined_flag_codes_without_flags():
    """No flags at all gives an empty text for every customer."""
    joined = joined_flag_codes(pd.Series(["C1", "C2"]), pd.DataFrame({"customer_id": [], "code": []}))
    assert joined.tolist() == ["", ""]


def test_joined_flag_codes_matches_groupby():
    """On random flags the result equals joining sorted(codes) group by group."""
    rng = np.random.default_rng(3)
    codes = np.array(["overdue_30", "over_limit", "high_utilisation", "thin_file", "pd_jump"])
    flags = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in rng.integers(0, 300, 2000)],
                          "code": rng.choice(codes, 2000)})
    customers = pd.Series([f"C{i:03d}" for i in range(0, 320)]).sample(frac=1.0, random_state=1)
    assert joined_flag_codes(customers, flags).tolist() == _grouped(customers, flags)
