"""Tests of the credit policy: parameter checks, the limit formula and the adjustment rules."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.serving.policy import ACTIONS, BINDING_RULES, PolicyParams, propose_limits

AS_OF = date(2026, 1, 1)

# Same values as the policy section of params.yaml, kept here so tests do not move
# when the shipped parameters are tuned.
POLICY_SECTION = {
    "version": "2026.1",
    "scale_version": "MS-test",
    "pd_upper_bounds": [0.003, 0.006, 0.012, 0.02, 0.035, 0.06, 0.10, 0.16, 0.25, 1.0],
    "review_months_by_grade": [12, 12, 12, 12, 6, 6, 3, 3, 1, 1],
    "review_months_watch": 1,
    "cutoff_grade": 9,
    "grade_factors": [1.0, 1.0, 0.95, 0.9, 0.85, 0.75, 0.6, 0.45, 0.0, 0.0],
    "industry_factors": {
        "construction": 0.8, "retail": 0.9, "manufacturing": 1.0, "wholesale": 1.0,
        "services": 1.0, "agriculture": 0.85, "technology": 1.0,
    },
    "default_industry_factor": 1.0,
    "equity_share": 0.10,
    "revenue_share": 0.08,
    "need_buffer_days": 15,
    "lgd": 0.45,
    "max_expected_loss": 50000.0,
    "min_limit": 10000.0,
    "max_limit": 5000000.0,
    "rounding_unit": 1000.0,
    "thin_file_max_limit": 50000.0,
    "new_customer_months": 6,
    "new_customer_limit": 20000.0,
    # Off here so single-customer cases are not capped; group tests turn them on.
    "group_capacity_multiple": None,
    "group_max_limit": None,
    "max_statement_age_months": 18,
    "max_step_up": 0.5,
    "max_step_down": 1.0,
    "notice_threshold": 0.2,
    "notice_days": 30,
    "max_dpd_for_increase": 30,
}
POLICY = PolicyParams.from_mapping(POLICY_SECTION)

BASE_ROW = {
    "customer_id": "C0",
    "pd_12m": 0.01,
    "grade": "3",
    "industry": "manufacturing",
    "equity_base": 2_000_000.0,
    "revenue_base": 10_000_000.0,
    "has_statements": True,
    "avg_monthly_invoiced_6m": 300_000.0,
    "payment_terms_days": 30.0,
    "statement_age_months": 6.0,
    "current_limit": np.nan,
    "limit_locked": False,
    "limit_valid_to": pd.NaT,
    "is_defaulted": False,
    "open_exposure": 100_000.0,
}
NO_STATEMENTS = {"has_statements": False, "equity_base": np.nan, "revenue_base": np.nan,
                 "statement_age_months": np.nan}


def scored_frame(*changes: dict) -> pd.DataFrame:
    """Build a scored frame with one row per change applied to BASE_ROW."""
    rows = []
    for i, change in enumerate(changes):
        row = {**BASE_ROW, "customer_id": f"C{i}", **change}
        rows.append(row)
    return pd.DataFrame(rows)


def one(change: dict, policy: PolicyParams = POLICY) -> pd.Series:
    """Return the single output row for BASE_ROW with ``change`` applied."""
    return propose_limits(scored_frame(change), policy=policy, as_of=AS_OF).iloc[0]


def grade_of(pd_value: float, policy: PolicyParams = POLICY) -> str:
    """Grade from the master scale: grade g covers PDs up to pd_upper_bounds[g-1]."""
    return str(int(np.searchsorted(policy.pd_upper_bounds, pd_value, side="left")) + 1)


# ---------------------------------------------------------------- parameters


def test_policy_params_accepts_shipped_params_yaml():
    """The policy section shipped in params.yaml passes validation."""
    params_file = Path(__file__).resolve().parents[2] / "params.yaml"
    section = yaml.safe_load(params_file.read_text(encoding="utf-8"))["policy"]
    policy = PolicyParams.from_mapping(section)
    assert policy.n_grades == len(section["pd_upper_bounds"])


def test_policy_params_fields_are_typed_and_frozen():
    """Validated values are tuples, floats and a read-only industry mapping."""
    assert POLICY.pd_upper_bounds[-1] == 1.0
    assert isinstance(POLICY.grade_factors, tuple)
    assert POLICY.need_buffer_days == 15.0
    assert POLICY.industry_factors["retail"] == 0.9
    with pytest.raises(TypeError):
        POLICY.industry_factors["retail"] = 2.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        POLICY.lgd = 0.5  # type: ignore[misc]


INVALID_POLICY_CASES = [
    ("pd_upper_bounds", [0.01, 0.005, 1.0], "strictly increasing"),
    ("pd_upper_bounds", [0.01, 0.5, 0.9], "ending at 1.0"),
    ("pd_upper_bounds", [], "non-empty list"),
    ("pd_upper_bounds", [0.0, 0.5, 1.0], "strictly increasing"),
    ("grade_factors", [1.0, 0.9], "10 factors"),
    ("grade_factors", [1.0, 1.0, 0.95, 0.9, 0.85, 0.75, 0.6, 0.45, 0.5, 0.0], "never increase"),
    ("grade_factors", [1.2, 1.0, 0.95, 0.9, 0.85, 0.75, 0.6, 0.45, 0.0, 0.0], r"in \[0, 1\]"),
    ("cutoff_grade", 0, "whole grade from 1 to 10"),
    ("cutoff_grade", 11, "whole grade from 1 to 10"),
    ("cutoff_grade", 9.0, "whole grade from 1 to 10"),
    ("lgd", 0.0, r"in \(0, 1\]"),
    ("lgd", 1.5, r"in \(0, 1\]"),
    ("equity_share", 0.0, r"in \(0, 1\]"),
    ("revenue_share", 1.2, r"in \(0, 1\]"),
    ("rounding_unit", 0.0, "greater than 0"),
    ("max_limit", -1.0, "greater than 0"),
    ("min_limit", 6_000_000.0, "at most max_limit"),
    ("min_limit", 10_500.0, "multiple of rounding_unit"),
    ("thin_file_max_limit", 5000.0, "between min_limit"),
    ("max_expected_loss", 1000.0, "at least min_limit"),
    ("need_buffer_days", -1, "at least 0"),
    ("max_step_down", 1.5, r"in \[0, 1\]"),
    ("notice_threshold", -0.1, r"in \[0, 1\]"),
    ("notice_days", -5, "whole number of days"),
    ("notice_days", 2.5, "whole number of days"),
    ("max_step_up", float("nan"), "finite number"),
    ("lgd", True, "finite number"),
    ("version", 2026.1, "quoted text"),
    ("default_industry_factor", -0.5, "at least 0"),
]


@pytest.mark.parametrize(("key", "value", "rule"), INVALID_POLICY_CASES)
def test_policy_params_rejects_invalid_value(key, value, rule):
    """Each broken rule raises ParamsError naming the key, the rule and the value."""
    section = {**POLICY_SECTION, key: value}
    with pytest.raises(ParamsError, match=rf"policy\.{key}: it must be .*{rule}.*but got"):
        PolicyParams.from_mapping(section)


def test_policy_params_rejects_negative_industry_factor():
    """A negative industry factor is named with its industry."""
    section = {**POLICY_SECTION, "industry_factors": {"retail": -0.1}}
    with pytest.raises(ParamsError, match=r"policy\.industry_factors\.retail.*got -0\.1"):
        PolicyParams.from_mapping(section)


def test_policy_params_error_in_chinese():
    """The invalid-value message is rendered in zh_CN under that locale."""
    section = {**POLICY_SECTION, "lgd": 1.5}
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"策略参数 policy\.lgd 无效：应为区间 \(0, 1\] 内的数值，实际为 1\.5"):
        PolicyParams.from_mapping(section)


def test_policy_params_rejects_missing_and_unknown_keys():
    """A missing key and an unknown key are both reported in en and zh_CN."""
    missing = {k: v for k, v in POLICY_SECTION.items() if k != "lgd"}
    with pytest.raises(ParamsError, match=r"policy\.lgd is missing"):
        PolicyParams.from_mapping(missing)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"缺少策略参数 policy\.lgd"):
        PolicyParams.from_mapping(missing)

    unknown = {**POLICY_SECTION, "lgdd": 0.4}
    with pytest.raises(ParamsError, match=r"Unknown policy parameter policy\.lgdd"):
        PolicyParams.from_mapping(unknown)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"未知的策略参数 policy\.lgdd"):
        PolicyParams.from_mapping(unknown)


# ---------------------------------------------------------------- model limit grid

# Hand-computed with the POLICY_SECTION values:
# capacity = min(equity × 0.10, revenue × 0.08); need = monthly × (terms + 15) / 30;
# limit = min(capacity, need) × grade factor × industry factor, capped at
# 50000 / (PD × 0.45), clipped to [10000, 5000000], rounded down to 1000.
GRID = [
    # capacity 200000 < need 450000; × 0.95 (grade 3) = 190000
    ("capacity", {}, 200_000.0, 450_000.0, 190_000.0, "capacity"),
    # capacity 500000 > need 100000 × 75 / 30 = 250000; × 0.85 × 0.8 = 170000
    ("need", {"equity_base": 5e6, "revenue_base": 2e7, "avg_monthly_invoiced_6m": 100_000.0,
              "payment_terms_days": 60.0, "grade": "5", "pd_12m": 0.03, "industry": "construction"},
     500_000.0, 250_000.0, 170_000.0, "need"),
    # min(5e6, 3e6) × 0.45 = 1.35e6 > el cap 50000 / (0.15 × 0.45) = 740740.74 → 740000
    ("el_cap", {"equity_base": 5e7, "revenue_base": 5e8, "avg_monthly_invoiced_6m": 2e6,
                "grade": "8", "pd_12m": 0.15},
     5_000_000.0, 3_000_000.0, 740_000.0, "el_cap"),
    # capacity 5000 × 1.0 → raised to the 10000 floor
    ("min_limit", {"equity_base": 50_000.0, "revenue_base": 1e6, "avg_monthly_invoiced_6m": 20_000.0,
                   "grade": "1", "pd_12m": 0.002},
     5_000.0, 30_000.0, 10_000.0, "min_limit"),
    # min(5e7, 1.5e7) → capped at the 5e6 ceiling
    ("max_limit", {"equity_base": 5e8, "revenue_base": 1e9, "avg_monthly_invoiced_6m": 1e7,
                   "grade": "1", "pd_12m": 0.001},
     50_000_000.0, 15_000_000.0, 5_000_000.0, "max_limit"),
    # no statements: need 150000 × 1.0 → thin-file cap 50000
    ("thin_file_cap", {**NO_STATEMENTS, "avg_monthly_invoiced_6m": 100_000.0, "grade": "2",
                       "pd_12m": 0.005},
     np.nan, 150_000.0, 50_000.0, "thin_file_cap"),
    # no statements: need 30000 × 0.9 × 0.9 = 24300 → 24000
    ("thin_file_need", {**NO_STATEMENTS, "avg_monthly_invoiced_6m": 20_000.0, "grade": "4",
                        "pd_12m": 0.015, "industry": "retail"},
     np.nan, 30_000.0, 24_000.0, "need"),
    # capacity 123456.7 → rounded down to 123000
    ("rounding", {"equity_base": 1_234_567.0, "revenue_base": 1e8, "grade": "1", "pd_12m": 0.002},
     123_456.7, 450_000.0, 123_000.0, "capacity"),
    # equity ≤ 0 → capacity 0 → floor
    ("negative_equity", {"equity_base": -1e6}, 0.0, 450_000.0, 0.0, "capacity"),
    # an industry missing from the table takes the default factor 1.0
    ("unknown_industry", {"industry": "mining"}, 200_000.0, 450_000.0, 190_000.0, "capacity"),
    ("missing_industry", {"industry": None}, 200_000.0, 450_000.0, 190_000.0, "capacity"),
    # grade 10 is above the cut-off 9
    ("cutoff", {"grade": "10", "pd_12m": 0.4}, 200_000.0, 450_000.0, 0.0, "cutoff_grade"),
    # grade 9 is not above the cut-off, but its factor is 0
    ("zero_grade_factor", {"grade": "9", "pd_12m": 0.2}, 200_000.0, 450_000.0, 0.0, "grade_factor"),
    ("grade_d", {"grade": "D", "pd_12m": 1.0}, 200_000.0, 450_000.0, 0.0, "defaulted"),
    ("defaulted_flag", {"is_defaulted": True}, 200_000.0, 450_000.0, 0.0, "defaulted"),
    ("missing_pd", {"pd_12m": np.nan}, 200_000.0, 450_000.0, np.nan, "missing_inputs"),
    ("missing_grade", {"grade": None}, 200_000.0, 450_000.0, np.nan, "missing_inputs"),
]


@pytest.mark.parametrize(("case", "change", "capacity", "need", "limit", "rule"), GRID, ids=[g[0] for g in GRID])
def test_propose_limits_hand_computed_grid(case, change, capacity, need, limit, rule):
    """Capacity, need, model limit and binding rule match hand-computed values."""
    row = one(change)
    assert row["capacity_limit"] == pytest.approx(capacity, nan_ok=True)
    assert row["need_limit"] == pytest.approx(need)
    assert row["model_limit"] == pytest.approx(limit, nan_ok=True)
    assert row["proposed_limit"] == pytest.approx(limit, nan_ok=True)
    assert row["binding_rule"] == rule


def test_propose_limits_factors_and_el_cap_columns():
    """Grade factor, industry factor and the expected-loss cap are reported per customer."""
    row = one({"grade": "5", "pd_12m": 0.03, "industry": "construction"})
    assert row["grade_factor"] == 0.85
    assert row["industry_factor"] == 0.8
    assert row["el_cap"] == pytest.approx(50000 / (0.03 * 0.45))


def test_propose_limits_zero_pd_has_no_el_cap():
    """A PD of 0 gives an unbounded expected-loss cap and a finite limit."""
    row = one({"pd_12m": 0.0, "grade": "1"})
    assert math.isinf(row["el_cap"])
    assert row["model_limit"] == 200_000.0


# ---------------------------------------------------------------- adjustment rules


def test_propose_limits_new_customer_gets_new_limit():
    """No current limit and a positive proposal gives action new, effective at as_of."""
    for current in (np.nan, 0.0):
        row = one({"current_limit": current})
        assert row["action"] == "new"
        assert row["new_limit"] == 190_000.0
        assert row["effective_on"] == pd.Timestamp(AS_OF)
        assert not row["needs_review"]


def test_propose_limits_increase_capped_by_step_up():
    """An increase stops at current × 1.5, and within the cap the proposal is granted."""
    capped = one({"current_limit": 100_000.0})
    assert capped["action"] == "increase"
    assert capped["new_limit"] == 150_000.0
    assert capped["binding_rule"] == "step_up_cap"

    within = one({"current_limit": 150_000.0})
    assert within["action"] == "increase"
    assert within["new_limit"] == 190_000.0
    assert within["binding_rule"] == "capacity"


def test_propose_limits_step_up_cap_rounds_down():
    """The step-up cap of a current limit off the rounding grid is rounded down."""
    row = one({"current_limit": 100_500.0})
    assert row["new_limit"] == 150_000.0  # 100500 × 1.5 = 150750 → 150000


def test_propose_limits_stale_statements_block_increase():
    """Statements older than the maximum hold the limit and ask for review."""
    row = one({"current_limit": 100_000.0, "statement_age_months": 19.0})
    assert row["action"] == "hold"
    assert row["new_limit"] == 100_000.0
    assert row["needs_review"]
    assert row["binding_rule"] == "stale_statements"
    assert row["review_reason"] == "stale_statements_for_increase"
    assert row["proposed_limit"] == 190_000.0


def test_propose_limits_overdue_blocks_increase():
    """An open invoice 30 or more days past due keeps the limit unchanged and asks for review."""
    row = one({"current_limit": 100_000.0, "max_dpd_now": 30.0})
    assert row["action"] == "hold"
    assert row["new_limit"] == 100_000.0
    assert row["needs_review"]
    assert row["binding_rule"] == "overdue"
    assert row["review_reason"] == "overdue_blocks_increase"
    below = one({"current_limit": 100_000.0, "max_dpd_now": 29.0})
    assert below["action"] == "increase"


def test_propose_limits_statement_at_max_age_allows_increase():
    """A statement exactly max_statement_age_months old still allows an increase."""
    row = one({"current_limit": 150_000.0, "statement_age_months": 18.0})
    assert row["action"] == "increase"


def test_propose_limits_no_statements_block_increase():
    """A thin-file customer never gets an increase over its current limit."""
    row = one({**NO_STATEMENTS, "current_limit": 20_000.0})
    assert row["proposed_limit"] == 50_000.0
    assert row["action"] == "hold"
    assert row["new_limit"] == 20_000.0
    assert row["binding_rule"] == "stale_statements"


def test_propose_limits_small_decrease_takes_effect_now():
    """A decrease within the notice threshold is effective at as_of without a notice."""
    row = one({"current_limit": 200_000.0})
    assert row["action"] == "decrease"
    assert row["new_limit"] == 190_000.0
    assert row["effective_on"] == pd.Timestamp(AS_OF)
    assert not row["is_pending"]
    assert pd.isna(row["notice_en"])
    assert pd.isna(row["notice_zh"])


def test_propose_limits_large_decrease_is_pending_with_notice():
    """A decrease past the threshold waits notice_days and has a notice in both languages."""
    frame = scored_frame({"current_limit": 400_000.0})
    row = propose_limits(frame, policy=POLICY, as_of=AS_OF, base_currency="CNY").iloc[0]
    assert row["action"] == "decrease"
    assert row["is_pending"]
    assert row["new_limit"] == 190_000.0
    assert row["effective_on"] == pd.Timestamp("2026-01-31")
    assert "CNY 400,000" in row["notice_en"]
    assert "CNY 190,000" in row["notice_en"]
    assert "2026-01-31" in row["notice_en"]
    assert "credit department" in row["notice_en"]
    assert "CNY 400,000" in row["notice_zh"]
    assert "CNY 190,000" in row["notice_zh"]
    assert "2026-01-31" in row["notice_zh"]
    assert "信用管理部" in row["notice_zh"]


def test_propose_limits_decrease_at_threshold_is_not_pending():
    """A decrease of exactly notice_threshold takes effect at once."""
    row = one({"current_limit": 237_500.0})  # 190000 / 237500 = 0.8, a 20 % cut
    assert row["action"] == "decrease"
    assert not row["is_pending"]


def test_propose_limits_decrease_capped_by_step_down():
    """With max_step_down 0.3 a decrease stops at 70 % of the current limit."""
    policy = PolicyParams.from_mapping({**POLICY_SECTION, "max_step_down": 0.3})
    row = one({"current_limit": 400_000.0}, policy)
    assert row["new_limit"] == 280_000.0
    assert row["binding_rule"] == "step_down_cap"
    assert row["is_pending"]


def test_propose_limits_zero_step_down_holds():
    """With max_step_down 0 no decrease is possible and the limit holds."""
    policy = PolicyParams.from_mapping({**POLICY_SECTION, "max_step_down": 0.0})
    row = one({"current_limit": 400_000.0}, policy)
    assert row["action"] == "hold"
    assert row["new_limit"] == 400_000.0
    assert row["binding_rule"] == "step_down_cap"


def test_propose_limits_default_suspends_at_once():
    """A defaulted customer's limit is suspended immediately, ignoring caps and notice."""
    policy = PolicyParams.from_mapping({**POLICY_SECTION, "max_step_down": 0.3})
    row = one({"grade": "D", "current_limit": 400_000.0}, policy)
    assert row["action"] == "suspend"
    assert row["new_limit"] == 0.0
    assert row["effective_on"] == pd.Timestamp(AS_OF)
    assert not row["is_pending"]
    assert row["binding_rule"] == "defaulted"


def test_propose_limits_cutoff_suspension_pending():
    """A suspension for risk (cut-off grade, zero capacity) waits for the notice period."""
    policy = PolicyParams.from_mapping({**POLICY_SECTION, "max_step_down": 0.3})
    cases = [({"grade": "10", "pd_12m": 0.5}, "cutoff_grade"), ({"equity_base": -1e6}, "capacity")]
    for change, rule in cases:
        row = one({**change, "current_limit": 400_000.0}, policy)
        assert row["action"] == "suspend"
        assert row["new_limit"] == 0.0
        assert row["is_pending"]
        assert row["effective_on"] == pd.Timestamp(AS_OF) + pd.Timedelta(days=policy.notice_days)
        assert row["binding_rule"] == rule
        assert "0" in row["notice_en"]
        assert row["notice_zh"]


def test_propose_limits_expired_renewal_capped():
    """An expired temporary limit is renewed within the step-up cap, with fresh statements only."""
    expired = {"current_limit": 100_000.0, "limit_valid_to": pd.Timestamp(AS_OF) - pd.Timedelta(days=1)}
    row = one(expired)
    assert row["action"] == "new"
    assert row["new_limit"] <= 150_000.0
    stale = one({**expired, "statement_age_months": 30.0})
    assert stale["action"] == "hold"
    assert stale["new_limit"] == 0.0
    assert stale["needs_review"]
    assert stale["binding_rule"] == "stale_statements"


def test_propose_limits_cutoff_without_limit_holds_at_zero():
    """A zero proposal for a customer without a limit is a hold at 0."""
    row = one({"grade": "10", "pd_12m": 0.5})
    assert row["action"] == "hold"
    assert row["new_limit"] == 0.0


def test_propose_limits_locked_limit_never_moves():
    """A locked limit holds whatever the proposal, which is still shown."""
    for change in ({"current_limit": 100_000.0}, {"current_limit": 400_000.0},
                   {"current_limit": 100_000.0, "grade": "10", "pd_12m": 0.5}):
        row = one({**change, "limit_locked": True})
        assert row["action"] == "hold"
        assert row["new_limit"] == change["current_limit"]
        assert row["binding_rule"] == "locked"
        assert not np.isnan(row["proposed_limit"])


def test_propose_limits_locked_conflicts_need_review():
    """A locked limit with a zero proposal or an expired validity needs review."""
    zero = one({"current_limit": 100_000.0, "limit_locked": True, "grade": "10", "pd_12m": 0.5})
    assert zero["needs_review"]
    assert zero["review_reason"] == "locked_zero_proposal"

    expired = one({"current_limit": 100_000.0, "limit_locked": True,
                   "limit_valid_to": pd.Timestamp("2025-12-31")})
    assert expired["needs_review"]
    assert expired["review_reason"] == "locked_expired_limit"
    assert expired["new_limit"] == 100_000.0

    plain = one({"current_limit": 100_000.0, "limit_locked": True})
    assert not plain["needs_review"]


def test_propose_limits_missing_lock_means_unlocked():
    """A missing limit_locked value counts as not locked."""
    frame = scored_frame({"current_limit": 100_000.0})
    frame["limit_locked"] = pd.array([pd.NA], dtype="boolean")
    row = propose_limits(frame, policy=POLICY, as_of=AS_OF).iloc[0]
    assert not row["limit_locked"]
    assert row["action"] == "increase"


def test_propose_limits_expired_temporary_limit_counts_as_none():
    """A limit valid until before as_of is treated as 0, so the proposal is a new limit."""
    expired = one({"current_limit": 400_000.0, "limit_valid_to": pd.Timestamp("2025-12-31")})
    assert expired["current_limit_expired"]
    assert expired["current_limit"] == 400_000.0
    assert expired["action"] == "new"
    assert expired["new_limit"] == 190_000.0
    assert not expired["is_pending"]

    valid_today = one({"current_limit": 400_000.0, "limit_valid_to": pd.Timestamp("2026-01-01")})
    assert not valid_today["current_limit_expired"]
    assert valid_today["action"] == "decrease"


def test_propose_limits_missing_inputs_hold_and_review():
    """Without a PD the limit in force holds and the decision needs review."""
    row = one({"pd_12m": np.nan, "grade": None, "current_limit": 80_000.0})
    assert row["action"] == "hold"
    assert row["new_limit"] == 80_000.0
    assert row["needs_review"]
    assert row["binding_rule"] == "missing_inputs"


def test_propose_limits_unchanged_proposal_holds():
    """A proposal equal to the current limit is a hold with the policy's binding rule."""
    row = one({"current_limit": 190_000.0})
    assert row["action"] == "hold"
    assert row["binding_rule"] == "capacity"
    assert not row["needs_review"]


def test_propose_limits_exposure_columns():
    """Utilisation and available credit are computed against the new limit."""
    frame = scored_frame(
        {"current_limit": 150_000.0, "open_exposure": 95_000.0},
        {"grade": "10", "pd_12m": 0.5, "open_exposure": 5_000.0},
        {"open_exposure": np.nan},
    )
    out = propose_limits(frame, policy=POLICY, as_of=AS_OF)
    assert out.loc[0, "exposure"] == 95_000.0
    assert out.loc[0, "utilisation"] == pytest.approx(0.5)
    assert out.loc[0, "available_credit"] == 95_000.0
    assert np.isnan(out.loc[1, "utilisation"])  # new limit 0
    assert out.loc[1, "available_credit"] == -5_000.0
    assert np.isnan(out.loc[2, "utilisation"])
    assert np.isnan(out.loc[2, "available_credit"])


def test_propose_limits_output_columns_and_types():
    """The frame keeps input order and the documented columns, actions and rules."""
    frame = scored_frame({}, {"current_limit": 400_000.0}, {"grade": "D"})
    out = propose_limits(frame, policy=POLICY, as_of=AS_OF)
    expected = [
        "customer_id", "current_limit", "limit_valid_to", "current_limit_expired", "limit_locked",
        "capacity_limit", "need_limit", "grade_factor", "industry_factor", "el_cap", "model_limit",
        "proposed_limit", "new_limit", "action", "effective_on", "is_pending", "needs_review",
        "review_reason", "binding_rule", "notice_zh", "notice_en", "exposure", "utilisation",
        "available_credit", "group_id", "group_cap", "group_exposure", "group_limit_total",
        "review_frequency_months", "next_review_on", "policy_version", "scale_version",
        "calculation_log",
    ]
    assert list(out.columns) == expected
    assert out["customer_id"].tolist() == ["C0", "C1", "C2"]
    assert pd.api.types.is_datetime64_dtype(out["effective_on"])
    assert out["needs_review"].dtype == bool
    assert set(out["action"]) <= set(ACTIONS)
    assert set(out["binding_rule"]) <= set(BINDING_RULES)
    assert (out["policy_version"] == "2026.1").all()
    assert (out["scale_version"] == "MS-test").all()
    assert pd.api.types.is_datetime64_dtype(out["next_review_on"])


def test_propose_limits_does_not_mutate_input():
    """The scored frame is left unchanged."""
    frame = scored_frame({"current_limit": 400_000.0}, {"limit_locked": None})
    before = frame.copy()
    propose_limits(frame, policy=POLICY, as_of=AS_OF)
    pd.testing.assert_frame_equal(frame, before)


def test_propose_limits_empty_frame():
    """An empty scored frame gives an empty result with the same columns."""
    frame = scored_frame({}).iloc[0:0]
    out = propose_limits(frame, policy=POLICY, as_of=AS_OF)
    assert len(out) == 0
    assert "calculation_log" in out.columns


# ---------------------------------------------------------------- calculation log


def test_calculation_log_records_inputs_factors_and_rule():
    """The log is sorted-key JSON with every input, the factors, the steps and the rule."""
    frame = scored_frame({"current_limit": 400_000.0, "pd_12m": 0.0, "grade": "1",
                          "statement_age_months": np.nan})
    row = propose_limits(frame, policy=POLICY, as_of=AS_OF).iloc[0]
    text = row["calculation_log"]
    log = json.loads(text)
    assert text == json.dumps(log, sort_keys=True, ensure_ascii=False)
    assert log["binding_rule"] == row["binding_rule"]
    assert log["as_of"] == "2026-01-01"
    assert log["policy_version"] == "2026.1"
    assert log["inputs"]["pd_12m"] == 0.0
    assert log["inputs"]["statement_age_months"] is None  # NaN is written as null
    assert log["inputs"]["limit_valid_to"] is None
    assert log["inputs"]["current_limit"] == 400_000.0
    assert log["params"]["lgd"] == 0.45
    assert log["params"]["grade_factors"][0] == 1.0
    assert log["steps"]["el_cap"] is None  # unbounded at PD 0
    assert log["steps"]["capacity_limit"] == 200_000.0
    assert log["steps"]["need_limit"] == 450_000.0
    assert log["steps"]["grade_factor"] == 1.0
    assert log["steps"]["industry_factor"] == 1.0
    assert log["steps"]["model_limit"] == 200_000.0
    assert log["steps"]["new_limit"] == row["new_limit"]
    assert log["steps"]["effective_on"] == "2026-01-31"


# ---------------------------------------------------------------- input checks


def test_propose_limits_rejects_missing_columns():
    """A scored frame without a needed column is rejected in en and zh_CN."""
    frame = scored_frame({}).drop(columns=["equity_base", "grade"])
    with pytest.raises(InputDataError, match=r"lacks the columns \['grade', 'equity_base'\]"):
        propose_limits(frame, policy=POLICY, as_of=AS_OF)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"评分表缺少信用策略所需的列"):
        propose_limits(frame, policy=POLICY, as_of=AS_OF)


def test_propose_limits_rejects_bad_grade_and_pd():
    """A grade off the master scale and a PD outside [0, 1] name the customer and value."""
    with pytest.raises(InputDataError, match=r"Customer C0 has grade '11'.*grades 1 to 10"):
        propose_limits(scored_frame({"grade": "11"}), policy=POLICY, as_of=AS_OF)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"客户 C0 的等级“A”不在主标尺上"):
        propose_limits(scored_frame({"grade": "A"}), policy=POLICY, as_of=AS_OF)
    with pytest.raises(InputDataError, match=r"Customer C0 has pd_12m 1\.2, outside \[0, 1\]"):
        propose_limits(scored_frame({"pd_12m": 1.2}), policy=POLICY, as_of=AS_OF)


def test_propose_limits_rejects_duplicates_and_other_as_of():
    """Two rows of one customer, or snapshots of another date, are rejected."""
    frame = pd.concat([scored_frame({}), scored_frame({})], ignore_index=True)
    with pytest.raises(InputDataError, match=r"more than one row for customers \['C0'\]"):
        propose_limits(frame, policy=POLICY, as_of=AS_OF)

    dated = scored_frame({}).assign(as_of=pd.Timestamp("2025-12-01"))
    with pytest.raises(InputDataError, match=r"dated 2025-12-01, but limits are requested as of 2026-01-01"):
        propose_limits(dated, policy=POLICY, as_of=AS_OF)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"评分表的评估日为 2025-12-01"):
        propose_limits(dated, policy=POLICY, as_of=AS_OF)


# ---------------------------------------------------------------- properties

amounts = st.one_of(st.just(np.nan), st.floats(-1e6, 1e9, allow_nan=False))
customers = st.fixed_dictionaries({
    "industry": st.sampled_from(["construction", "retail", "manufacturing", "mining", None]),
    "equity_base": amounts,
    "revenue_base": amounts,
    "has_statements": st.booleans(),
    "avg_monthly_invoiced_6m": st.one_of(st.just(np.nan), st.floats(0, 5e6)),
    "payment_terms_days": st.sampled_from([0.0, 15.0, 30.0, 60.0, 90.0]),
    "statement_age_months": st.one_of(st.just(np.nan), st.floats(0, 40)),
    "current_limit": st.one_of(st.just(np.nan), st.just(0.0), st.floats(1000, 6e6)),
    "limit_locked": st.booleans(),
    "limit_valid_to": st.sampled_from([pd.NaT, pd.Timestamp("2025-06-30"), pd.Timestamp("2027-01-01")]),
    "is_defaulted": st.booleans(),
    "open_exposure": st.floats(0, 1e7),
})
PROPERTY_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_propose_limits_limit_falls_along_pd_grid():
    """Along a fine PD grid, for customers of several sizes, the limit never rises."""
    pd_grid = np.linspace(0.0, 1.0, 401)
    for size in (1e5, 1e6, 1e7, 1e8):
        rows = [
            {"pd_12m": p, "grade": grade_of(p), "equity_base": size, "revenue_base": 5 * size,
             "avg_monthly_invoiced_6m": size / 10, "current_limit": size / 20}
            for p in pd_grid
        ]
        out = propose_limits(scored_frame(*rows), policy=POLICY, as_of=AS_OF)
        for column in ("proposed_limit", "new_limit"):
            steps = np.diff(out[column].to_numpy())
            assert (steps <= 0).all(), f"{column} rises with PD for size {size:g}"
        assert out["proposed_limit"].iloc[0] > out["proposed_limit"].iloc[-1]


# Most PDs of a portfolio sit below the cut-off bands, so draws favour [0, 0.3].
pd_values = st.one_of(st.floats(0, 0.3), st.floats(0, 1))


@PROPERTY_SETTINGS
@given(customer=customers, first=pd_values, step=st.one_of(st.floats(0, 0.1), st.floats(0, 1)))
def test_propose_limits_higher_pd_never_higher_limit(customer, first, step):
    """With all else equal, a higher PD (and its grade) never gets a higher limit."""
    low, high = first, min(first + step, 1.0)
    frame = scored_frame(
        {**customer, "pd_12m": low, "grade": grade_of(low)},
        {**customer, "pd_12m": high, "grade": grade_of(high)},
    )
    out = propose_limits(frame, policy=POLICY, as_of=AS_OF)
    for column in ("proposed_limit", "new_limit"):
        safe, risky = out[column]
        if not (np.isnan(safe) or np.isnan(risky)):
            assert risky <= safe


@PROPERTY_SETTINGS
@given(customer=customers, pd_value=pd_values)
def test_propose_limits_rounding_always_holds(customer, pd_value):
    """Proposals are multiples of the rounding unit, and so is any changed limit."""
    out = propose_limits(
        scored_frame({**customer, "pd_12m": pd_value, "grade": grade_of(pd_value)}),
        policy=POLICY, as_of=AS_OF,
    ).iloc[0]
    if not np.isnan(out["proposed_limit"]):
        assert out["proposed_limit"] % POLICY.rounding_unit == 0
        assert out["proposed_limit"] <= POLICY.max_limit
    if out["action"] in ("increase", "decrease", "new", "suspend"):
        assert out["new_limit"] % POLICY.rounding_unit == 0


@PROPERTY_SETTINGS
@given(customer=customers, pd_value=pd_values)
def test_propose_limits_locked_never_moves(customer, pd_value):
    """A locked limit always holds at its current value (0 when there is none)."""
    change = {**customer, "limit_locked": True, "pd_12m": pd_value, "grade": grade_of(pd_value)}
    out = propose_limits(scored_frame(change), policy=POLICY, as_of=AS_OF).iloc[0]
    current = customer["current_limit"]
    assert out["action"] == "hold"
    assert out["new_limit"] == (current if current > 0 else 0.0)
    assert out["binding_rule"] == "locked"


@PROPERTY_SETTINGS
@given(customer=customers, pd_value=pd_values,
       age=st.one_of(st.just(np.nan), st.floats(18.01, 100)))
def test_propose_limits_no_increase_with_stale_statements(customer, pd_value, age):
    """Statements missing or older than the maximum never allow an increase."""
    change = {**customer, "statement_age_months": age, "pd_12m": pd_value, "grade": grade_of(pd_value)}
    out = propose_limits(scored_frame(change), policy=POLICY, as_of=AS_OF).iloc[0]
    assert out["action"] != "increase"


@PROPERTY_SETTINGS
@given(customer=customers, pd_value=pd_values)
def test_propose_limits_large_decrease_always_pending(customer, pd_value):
    """Every cut for risk is pending with notices exactly when it cuts more than the threshold."""
    change = {**customer, "pd_12m": pd_value, "grade": grade_of(pd_value)}
    out = propose_limits(scored_frame(change), policy=POLICY, as_of=AS_OF).iloc[0]
    risk_cut = out["action"] == "decrease" or (out["action"] == "suspend" and not customer["is_defaulted"])
    if not risk_cut:
        assert not out["is_pending"]
        return
    current = customer["current_limit"]
    cut = (current - out["new_limit"]) / current
    assert out["is_pending"] == (cut > POLICY.notice_threshold)
    if out["is_pending"]:
        assert out["effective_on"] == pd.Timestamp("2026-01-31")
        assert isinstance(out["notice_en"], str)
        assert isinstance(out["notice_zh"], str)
    else:
        assert out["effective_on"] == pd.Timestamp(AS_OF)
