"""Tests of group caps, the new-customer rule and the review cycle of the credit policy."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import ParamsError
from creditlimit.serving.policy import PolicyParams, propose_limits
from test_policy import AS_OF, POLICY, POLICY_SECTION, scored_frame

# Group caps on: 0.5 × combined capacity, at most 500000.
GROUP_POLICY = PolicyParams.from_mapping(
    {**POLICY_SECTION, "group_capacity_multiple": 0.5, "group_max_limit": 500_000.0}
)


def group_frame(*changes: dict, group: str = "G1") -> pd.DataFrame:
    """Scored frame of one group: each change applied to the base row, all with group_id ``group``."""
    return scored_frame(*({"group_id": group, **change} for change in changes))


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("review_months_by_grade", [12, 12, 12], "10 whole numbers of months"),
    ("review_months_by_grade", [1, 12, 12, 12, 6, 6, 3, 3, 1, 1], "never increase"),
    ("review_months_by_grade", [12, 12, 12, 12, 6, 6, 3, 3, 1, 0], "at least 1"),
    ("review_months_watch", 0, "whole number of at least 1"),
    ("review_months_watch", 1.5, "whole number of at least 1"),
    ("scale_version", "", "quoted text"),
    ("new_customer_months", -1, "at least 0"),
    ("new_customer_limit", 6_000_000.0, "at most max_limit"),
    ("group_capacity_multiple", 0.0, "greater than 0, or null"),
    ("group_max_limit", -5.0, "greater than 0, or null"),
    ("group_max_limit", 1_500.0, "multiple of rounding_unit"),
])
def test_policy_params_rejects_new_keys(key, value, rule):
    """The review, new-customer and group keys are validated with the key and rule named."""
    with pytest.raises(ParamsError, match=rf"policy\.{key}: it must be .*{rule}"):
        PolicyParams.from_mapping({**POLICY_SECTION, key: value})


def test_policy_params_group_caps_optional():
    """Both group caps may be null, and then no group is capped."""
    assert not POLICY.groups_capped
    assert GROUP_POLICY.groups_capped
    assert GROUP_POLICY.group_capacity_multiple == 0.5


# ---------------------------------------------------------------- group caps


def test_group_cap_scales_members_proportionally():
    """Two members of 190000 each against a cap of 200000 get 100000 each, rounded down."""
    # Capacity 200000 each, combined 400000 × 0.5 = 200000.
    out = propose_limits(group_frame({}, {}), policy=GROUP_POLICY, as_of=AS_OF)
    assert out["group_cap"].tolist() == [200_000.0, 200_000.0]
    assert out["new_limit"].tolist() == [100_000.0, 100_000.0]
    assert (out["binding_rule"] == "group_cap").all()
    assert (out["action"] == "new").all()
    assert out["group_limit_total"].tolist() == [200_000.0, 200_000.0]
    assert out["proposed_limit"].tolist() == [190_000.0, 190_000.0]


def test_group_cap_rounds_down_shares():
    """Shares off the rounding grid are rounded down, so the total stays under the cap."""
    # Capacities 200000, 100000, 150000 → combined 450000 × 0.5 = 225000.
    frame = group_frame({}, {"equity_base": 1_000_000.0}, {"equity_base": 1_500_000.0})
    out = propose_limits(frame, policy=GROUP_POLICY, as_of=AS_OF)
    assert out["group_cap"].iloc[0] == pytest.approx(225_000.0)
    assert out["new_limit"].sum() <= 225_000.0
    assert (out["new_limit"] % 1000 == 0).all()
    before = np.array([190_000.0, 95_000.0, 142_000.0])
    np.testing.assert_allclose(out["new_limit"], np.floor(before * 225_000 / before.sum() / 1000) * 1000)


def test_group_cap_locked_member_keeps_limit():
    """A locked member keeps its limit and the others absorb the whole cut."""
    frame = group_frame({"limit_locked": True, "current_limit": 150_000.0}, {}, {})
    out = propose_limits(frame, policy=GROUP_POLICY, as_of=AS_OF)
    cap = out["group_cap"].iloc[0]  # 0.5 × 600000 = 300000
    assert cap == pytest.approx(300_000.0)
    assert out.loc[0, "new_limit"] == 150_000.0
    assert out.loc[0, "binding_rule"] == "locked"
    assert out.loc[1, "new_limit"] == 75_000.0
    assert out.loc[2, "new_limit"] == 75_000.0
    assert out["new_limit"].sum() <= cap


def test_group_cap_locked_over_cap_zeroes_others():
    """Locked limits above the cap keep their value; the other members get 0 and the group stays over."""
    frame = group_frame({"limit_locked": True, "current_limit": 450_000.0}, {"current_limit": 100_000.0})
    out = propose_limits(frame, policy=GROUP_POLICY, as_of=AS_OF)
    assert out.loc[0, "new_limit"] == 450_000.0
    assert out.loc[1, "new_limit"] == 0.0
    assert out.loc[1, "action"] == "suspend"
    assert out.loc[1, "is_pending"]
    assert isinstance(out.loc[1, "notice_en"], str)
    assert out["group_limit_total"].iloc[0] > out["group_cap"].iloc[0]


def test_group_cap_share_below_min_limit_is_zero():
    """A share under min_limit becomes 0, because no limit is granted below the floor."""
    policy = PolicyParams.from_mapping({**POLICY_SECTION, "group_max_limit": 25_000.0})
    frame = group_frame({}, {}, {})  # 25000 / 3 = 8333 < 10000
    out = propose_limits(frame, policy=policy, as_of=AS_OF)
    assert (out["new_limit"] == 0.0).all()
    assert (out["action"] == "hold").all()


def test_group_cut_pending_decrease():
    """A group cut of a limit in force is a decrease that waits for notice past the threshold."""
    frame = group_frame({"current_limit": 190_000.0}, {"current_limit": 190_000.0})
    out = propose_limits(frame, policy=GROUP_POLICY, as_of=AS_OF, base_currency="CNY")
    assert (out["action"] == "decrease").all()
    assert out["is_pending"].all()
    assert (out["effective_on"] == pd.Timestamp("2026-01-31")).all()
    assert out["notice_en"].str.contains("CNY 100,000").all()


def test_group_cap_outranks_step_down_cap():
    """The group cap cuts past max_step_down."""
    policy = PolicyParams.from_mapping({**POLICY_SECTION, "max_step_down": 0.1, "group_max_limit": 200_000.0})
    frame = group_frame({"current_limit": 190_000.0}, {"current_limit": 190_000.0})
    out = propose_limits(frame, policy=policy, as_of=AS_OF)
    assert out["new_limit"].sum() <= 200_000.0
    assert (out["binding_rule"] == "group_cap").all()


def test_group_under_cap_unchanged():
    """A group within its cap and customers outside any group are not cut."""
    frame = pd.concat([group_frame({"equity_base": 1e8, "revenue_base": 1e8}), scored_frame({"group_id": None})],
                      ignore_index=True)
    frame["customer_id"] = ["A", "B"]
    out = propose_limits(frame, policy=GROUP_POLICY, as_of=AS_OF)
    assert out.loc[0, "binding_rule"] != "group_cap"
    assert np.isnan(out.loc[1, "group_cap"])
    assert np.isnan(out.loc[1, "group_limit_total"])
    assert pd.isna(out.loc[1, "group_id"])


def test_group_thin_file_member_counts_thin_cap():
    """A member without statements counts with thin_file_max_limit in the combined capacity."""
    frame = group_frame({}, {"has_statements": False, "equity_base": np.nan, "revenue_base": np.nan,
                             "statement_age_months": np.nan})
    out = propose_limits(frame, policy=GROUP_POLICY, as_of=AS_OF)
    assert out["group_cap"].iloc[0] == pytest.approx(0.5 * (200_000.0 + 50_000.0))


def test_group_exposure_sums_members():
    """group_exposure is the members' open exposure added up."""
    frame = group_frame({"open_exposure": 10_000.0}, {"open_exposure": 25_000.0})
    out = propose_limits(frame, policy=GROUP_POLICY, as_of=AS_OF)
    assert out["group_exposure"].tolist() == [35_000.0, 35_000.0]


def test_group_cap_recorded_in_calculation_log():
    """The log names the group, its cap and the limit before the group cap."""
    out = propose_limits(group_frame({}, {}), policy=GROUP_POLICY, as_of=AS_OF)
    log = json.loads(out["calculation_log"].iloc[0])
    assert log["binding_rule"] == "group_cap"
    assert log["inputs"]["group_id"] == "G1"
    assert log["steps"]["group_cap"] == 200_000.0
    assert log["steps"]["limit_before_group_cap"] == 190_000.0
    assert log["params"]["group_capacity_multiple"] == 0.5


# ---------------------------------------------------------------- new customers


def test_new_customer_need_uses_tenure_months():
    """A customer of 2 months has its need averaged over 2 months, not 6."""
    # 120000 invoiced in 2 months: 60000 a month; need 60000 × 45 / 30 = 90000.
    row = propose_limits(scored_frame({"tenure_months": 2.0, "invoiced_6m": 120_000.0,
                                       "avg_monthly_invoiced_6m": 20_000.0}),
                         policy=POLICY, as_of=AS_OF).iloc[0]
    assert row["need_limit"] == pytest.approx(90_000.0)
    log = json.loads(row["calculation_log"])
    assert log["steps"]["new_customer"] is True
    assert log["steps"]["monthly_volume"] == pytest.approx(60_000.0)


def test_new_customer_starting_limit():
    """A new customer without invoices starts from new_customer_limit × its factors."""
    row = propose_limits(scored_frame({"tenure_months": 0.5, "invoiced_6m": 0.0,
                                       "avg_monthly_invoiced_6m": 0.0}),
                         policy=POLICY, as_of=AS_OF).iloc[0]
    assert row["model_limit"] == 19_000.0  # 20000 × 0.95 (grade 3)
    assert row["binding_rule"] == "new_customer"
    assert row["action"] == "new"


def test_established_customer_without_invoices_gets_floor():
    """Past new_customer_months, a customer without invoices has need 0 and gets the floor."""
    row = propose_limits(scored_frame({"tenure_months": 30.0, "invoiced_6m": 0.0,
                                       "avg_monthly_invoiced_6m": 0.0}),
                         policy=POLICY, as_of=AS_OF).iloc[0]
    assert row["model_limit"] == POLICY.min_limit
    assert row["binding_rule"] == "min_limit"


# ---------------------------------------------------------------- review cycle


@pytest.mark.parametrize(("change", "months", "review_on"), [
    ({"grade": "1", "pd_12m": 0.001}, 12, "2027-01-01"),
    ({"grade": "5", "pd_12m": 0.03}, 6, "2026-07-01"),
    ({"grade": "8", "pd_12m": 0.15}, 3, "2026-04-01"),
    ({"grade": "10", "pd_12m": 0.5}, 1, "2026-02-01"),
    ({"grade": "D"}, 1, "2026-02-01"),
    # A grade 1 customer suspended for zero capacity is on the watch cycle.
    ({"grade": "1", "pd_12m": 0.001, "equity_base": -1.0, "current_limit": 50_000.0}, 1, "2026-02-01"),
    # A temporary limit expiring before the review brings the review forward.
    ({"grade": "1", "pd_12m": 0.001, "current_limit": 50_000.0,
      "limit_valid_to": pd.Timestamp("2026-03-15")}, 12, "2026-03-15"),
    # An expired temporary limit does not.
    ({"grade": "1", "pd_12m": 0.001, "current_limit": 50_000.0,
      "limit_valid_to": pd.Timestamp("2025-12-15")}, 12, "2027-01-01"),
])
def test_next_review_by_grade(change, months, review_on):
    """The review cycle follows the grade; D and suspended customers are reviewed monthly."""
    row = propose_limits(scored_frame(change), policy=POLICY, as_of=AS_OF).iloc[0]
    assert row["review_frequency_months"] == months
    assert row["next_review_on"] == pd.Timestamp(review_on)


def test_next_review_month_end_clips():
    """A cycle starting on 31 January ends on the last day of a shorter month."""
    frame = scored_frame({"grade": "10", "pd_12m": 0.5})
    row = propose_limits(frame, policy=POLICY, as_of=pd.Timestamp("2026-01-31").date()).iloc[0]
    assert row["next_review_on"] == pd.Timestamp("2026-02-28")
