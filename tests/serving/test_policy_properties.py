"""Property tests of the credit policy over generated portfolios, group caps switched on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlimit.serving.policy import PolicyParams, propose_limits
from test_policy import AS_OF, POLICY_SECTION, customers, grade_of, pd_values, scored_frame

# Caps that bind often: half the combined capacity, at most 400000 per group.
POLICY = PolicyParams.from_mapping({**POLICY_SECTION, "group_capacity_multiple": 0.5, "group_max_limit": 400_000.0})
# Step caps that bind: at most +30 % and -40 % a cycle.
STEPPED = PolicyParams.from_mapping({**POLICY_SECTION, "group_capacity_multiple": 0.5,
                                     "group_max_limit": 400_000.0, "max_step_up": 0.3, "max_step_down": 0.4})
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

members = st.fixed_dictionaries(
    {"pd_12m": pd_values, "group_id": st.sampled_from([None, "G1", "G2", "G3"]),
     "tenure_months": st.one_of(st.just(np.nan), st.floats(0, 120)),
     "invoiced_6m": st.one_of(st.just(np.nan), st.just(0.0), st.floats(0, 3e7))},
)
portfolios = st.lists(st.tuples(customers, members), min_size=1, max_size=12)
policies = st.sampled_from([POLICY, STEPPED])


def portfolio_frame(portfolio) -> pd.DataFrame:
    """Scored frame of a generated portfolio, with each PD's grade from the master scale."""
    return scored_frame(*({**customer, **member, "grade": grade_of(member["pd_12m"])}
                          for customer, member in portfolio))


def in_force(frame: pd.DataFrame) -> np.ndarray:
    """The limit in force at as_of: the current limit unless missing, zero or expired."""
    current = frame["current_limit"].fillna(0.0).to_numpy()
    expired = (pd.to_datetime(frame["limit_valid_to"]) < pd.Timestamp(AS_OF)).to_numpy()
    return np.where(expired, 0.0, current)


@PROPERTY_SETTINGS
@given(portfolio=portfolios, policy=policies, data=st.data())
def test_portfolio_higher_pd_never_higher_limit(portfolio, policy, data):
    """Raising one customer's PD, all else equal, never raises its proposal or its new limit."""
    frame = portfolio_frame(portfolio)
    k = data.draw(st.integers(0, len(frame) - 1), label="customer")
    higher = min(frame.loc[k, "pd_12m"] + data.draw(st.floats(0, 1), label="pd step"), 1.0)
    riskier = frame.copy()
    riskier.loc[k, ["pd_12m", "grade"]] = [higher, grade_of(higher)]
    before = propose_limits(frame, policy=policy, as_of=AS_OF).iloc[k]
    after = propose_limits(riskier, policy=policy, as_of=AS_OF).iloc[k]
    for column in ("proposed_limit", "new_limit"):
        if not (np.isnan(before[column]) or np.isnan(after[column])):
            assert after[column] <= before[column], column


@PROPERTY_SETTINGS
@given(portfolio=portfolios, policy=policies)
def test_portfolio_locked_limits_never_move(portfolio, policy):
    """Every locked limit holds at its current value (0 when there is none), group cap or not."""
    frame = portfolio_frame(portfolio)
    out = propose_limits(frame, policy=policy, as_of=AS_OF)
    locked = frame["limit_locked"].to_numpy(dtype=bool)
    current = frame["current_limit"].fillna(0.0).clip(lower=0.0).to_numpy()
    np.testing.assert_array_equal(out["new_limit"].to_numpy()[locked], current[locked])
    assert (out["action"][locked] == "hold").all()


@PROPERTY_SETTINGS
@given(portfolio=portfolios, policy=policies)
def test_portfolio_caps_and_rounding_hold(portfolio, policy):
    """Proposals keep every cap and the rounding grid; changed limits keep the step caps and the grid."""
    frame = portfolio_frame(portfolio)
    out = propose_limits(frame, policy=policy, as_of=AS_OF)
    proposed = out["proposed_limit"].dropna()
    assert (proposed % policy.rounding_unit == 0).all()
    assert (proposed <= policy.max_limit).all()
    known = out["proposed_limit"].notna()
    assert (out["proposed_limit"][known] <= out["el_cap"][known] * (1 + 1e-12)).all()
    thin = ~frame["has_statements"].to_numpy(dtype=bool)
    assert (out["proposed_limit"][thin].dropna() <= policy.thin_file_max_limit).all()

    changed = out["action"].isin(["increase", "decrease", "new", "suspend"])
    assert (out["new_limit"][changed] % policy.rounding_unit == 0).all()
    limit_in_force = in_force(frame)
    increased = (out["action"] == "increase").to_numpy()
    assert (out["new_limit"].to_numpy()[increased] <= limit_in_force[increased] * (1 + policy.max_step_up)).all()
    assert (out["new_limit"][increased] <= out["proposed_limit"][increased]).all()
    # The step-down cap applies except where the group cap or a suspension cuts deeper.
    stepped = (out["action"] == "decrease").to_numpy() & (out["binding_rule"] != "group_cap").to_numpy()
    floor = limit_in_force[stepped] * (1 - policy.max_step_down)
    assert (out["new_limit"].to_numpy()[stepped] >= floor - policy.rounding_unit).all()


@PROPERTY_SETTINGS
@given(portfolio=portfolios, policy=policies)
def test_portfolio_group_caps_hold(portfolio, policy):
    """A group's limits add up to at most its cap, unless its locked limits alone exceed it."""
    frame = portfolio_frame(portfolio)
    out = propose_limits(frame, policy=policy, as_of=AS_OF)
    grouped = out[out["group_id"].notna()].assign(locked=frame["limit_locked"].to_numpy()[out["group_id"].notna()])
    for group_id, members in grouped.groupby("group_id"):
        cap = members["group_cap"].iloc[0]
        total = members["new_limit"].sum()
        assert members["group_limit_total"].iloc[0] == pytest.approx(total)
        locked_total = members.loc[members["locked"], "new_limit"].sum()
        if locked_total <= cap:
            assert total <= cap + 1e-6, group_id
        else:
            assert (members.loc[~members["locked"], "new_limit"] == 0).all(), group_id


@PROPERTY_SETTINGS
@given(portfolio=portfolios, policy=policies)
def test_portfolio_large_decrease_pending_with_notice(portfolio, policy):
    """Every risk cut past the notice threshold is pending with notices in both languages."""
    frame = portfolio_frame(portfolio)
    out = propose_limits(frame, policy=policy, as_of=AS_OF, base_currency="CNY")
    limit_in_force = in_force(frame)
    defaulted = frame["is_defaulted"].to_numpy(dtype=bool) | (frame["grade"] == "D").to_numpy()
    for i, row in out.iterrows():
        risk_cut = row["action"] == "decrease" or (row["action"] == "suspend" and not defaulted[i])
        if not risk_cut:
            assert not row["is_pending"]
            continue
        cut = (limit_in_force[i] - row["new_limit"]) / limit_in_force[i]
        assert row["is_pending"] == (cut > policy.notice_threshold)
        if row["is_pending"]:
            assert row["effective_on"] == pd.Timestamp(AS_OF) + pd.Timedelta(days=policy.notice_days)
            assert "CNY" in row["notice_en"]
            assert "CNY" in row["notice_zh"]
        else:
            assert row["effective_on"] == pd.Timestamp(AS_OF)


@PROPERTY_SETTINGS
@given(portfolio=portfolios, policy=policies)
def test_portfolio_no_increase_with_stale_statements(portfolio, policy):
    """An increase only ever goes to a customer whose statements are within the maximum age."""
    frame = portfolio_frame(portfolio)
    out = propose_limits(frame, policy=policy, as_of=AS_OF)
    raised = (out["action"] == "increase").to_numpy()
    age = frame["statement_age_months"].to_numpy()
    assert (age[raised] <= policy.max_statement_age_months).all()


@PROPERTY_SETTINGS
@given(portfolio=portfolios, policy=policies)
def test_portfolio_review_dates_follow_grades(portfolio, policy):
    """Every review falls within the cycle, and a worse grade is never reviewed less often."""
    frame = portfolio_frame(portfolio)
    out = propose_limits(frame, policy=policy, as_of=AS_OF)
    start = pd.Timestamp(AS_OF)
    assert (out["next_review_on"] >= start).all()
    latest = start + pd.DateOffset(months=max(policy.review_months_by_grade))
    assert (out["next_review_on"] <= latest).all()
    graded = out[~out["action"].eq("suspend") & frame["grade"].ne("D").to_numpy()
                 & ~frame["is_defaulted"].to_numpy(dtype=bool)]
    by_grade = graded.assign(grade=frame.loc[graded.index, "grade"].astype(int))
    by_grade = by_grade.sort_values("grade")
    assert (np.diff(by_grade["review_frequency_months"].to_numpy()) <= 0).all()
