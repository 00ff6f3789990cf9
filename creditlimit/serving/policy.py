"""Credit policy v1: PD grade, capacity and trading need to a proposed limit, then adjustment rules."""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError
from creditlimit.i18n import register, translate_all
from creditlimit.serving.calculation_log import calculation_logs
from creditlimit.serving.groups import allocate_group_caps, group_caps, group_totals
from creditlimit.serving.policy_params import PolicyParams
from creditlimit.serving.reasons import format_value
from creditlimit.serving.review import next_reviews

__all__ = ["PolicyParams", "propose_limits", "ACTIONS", "BINDING_RULES", "SCORED_COLUMNS"]

logger = logging.getLogger(__name__)

ACTIONS = ("increase", "decrease", "hold", "new", "suspend")
BINDING_RULES = (
    "need", "capacity", "el_cap", "min_limit", "max_limit", "thin_file_cap",
    "cutoff_grade", "grade_factor", "industry_factor", "defaulted", "missing_inputs",
    "locked", "step_up_cap", "step_down_cap", "stale_statements", "overdue",
    "new_customer", "group_cap",
)
# Columns of the scored frame that the policy reads.
SCORED_COLUMNS = (
    "customer_id", "pd_12m", "grade", "industry", "equity_base", "revenue_base",
    "has_statements", "avg_monthly_invoiced_6m", "payment_terms_days",
    "statement_age_months", "current_limit", "limit_locked", "limit_valid_to",
    "is_defaulted", "open_exposure",
)
# Read when present: without max_dpd_now no increase is blocked for delinquency,
# without group_id no group is capped, and without tenure_months or invoiced_6m
# no customer counts as new.
OPTIONAL_COLUMNS = ("max_dpd_now", "group_id", "tenure_months", "invoiced_6m")
DAYS_PER_MONTH = 30.0
# Months of volume that avg_monthly_invoiced_6m averages over.
NEED_WINDOW_MONTHS = 6.0

register({
    "policy.missing_columns": {
        "en": (
            "The scored frame lacks the columns {columns} that the credit policy needs. "
            "Build features with the context columns and add pd_12m and grade."
        ),
        "zh_CN": "评分表缺少信用策略所需的列 {columns}。请生成包含上下文列的特征表，并加入 pd_12m 和 grade。",
    },
    "policy.duplicate_customers": {
        "en": "The scored frame has more than one row for customers {customers}. Score each customer once per as_of.",
        "zh_CN": "评分表中客户 {customers} 出现多行。每个评估日每位客户只能评分一次。",
    },
    "policy.as_of_mismatch": {
        "en": "The scored frame is dated {found}, but limits are requested as of {as_of}. Score the snapshots of {as_of}.",
        "zh_CN": "评分表的评估日为 {found}，但请求的额度评估日为 {as_of}。请对 {as_of} 的快照评分。",
    },
    "policy.invalid_grade": {
        "en": (
            "Customer {customer_id} has grade '{value}', which is not on the master scale "
            "(grades 1 to {n_grades}, or D for defaulted). Regrade the customer with the "
            "master scale of this policy version."
        ),
        "zh_CN": (
            "客户 {customer_id} 的等级“{value}”不在主标尺上（1 至 {n_grades} 级，违约为 D）。"
            "请按本策略版本的主标尺重新评级。"
        ),
    },
    "policy.invalid_pd": {
        "en": "Customer {customer_id} has pd_12m {value}, outside [0, 1]. Check the model calibration output.",
        "zh_CN": "客户 {customer_id} 的 pd_12m 为 {value}，超出 [0, 1] 区间。请检查模型校准输出。",
    },
    "policy.notice": {
        "en": (
            "Customer account {customer_id}: your credit limit will change from {old_limit} "
            "to {new_limit} on {effective_on}. Until then your current limit stays in force. "
            "If you have questions about this change, please contact our credit department "
            "before {effective_on}."
        ),
        "zh_CN": (
            "客户账户 {customer_id}：您的信用额度将于 {effective_on} 由 {old_limit} 调整为 "
            "{new_limit}，在此之前现有额度继续有效。如对本次调整有疑问，请在 {effective_on} "
            "之前联系我司信用管理部。"
        ),
    },
})


# ---------------------------------------------------------------- limits


def propose_limits(
    scored: pd.DataFrame,
    *,
    policy: PolicyParams,
    as_of: date,
    base_currency: str | None = None,
) -> pd.DataFrame:
    """Propose each customer's limit and adjust it against the current limit.

    Parameters
    ----------
    scored : pandas.DataFrame
        One row per customer: the feature frame with its context columns plus
        ``pd_12m`` (PD in [0, 1]) and ``grade`` ('1'..'n' or 'D'). The columns in
        ``SCORED_COLUMNS`` are read, with amounts in base currency, and those in
        ``OPTIONAL_COLUMNS`` when present.
    policy : PolicyParams
        Validated policy parameters.
    as_of : datetime.date
        Decision date. Every change that is not pending takes effect on it.
    base_currency : str, optional
        Currency code written with amounts in customer notices.

    Returns
    -------
    pandas.DataFrame
        One row per customer, in input order, with these columns:

        - ``customer_id``, ``current_limit`` (as given), ``limit_valid_to``,
          ``current_limit_expired``, ``limit_locked``
        - ``capacity_limit``, ``need_limit``, ``grade_factor``,
          ``industry_factor``, ``el_cap`` (inf when PD is 0), ``model_limit``,
          ``proposed_limit``
        - ``new_limit``: the limit in force from ``effective_on`` (datetime64)
        - ``action``: one of ``ACTIONS``
        - ``is_pending``, ``needs_review``, ``review_reason``
        - ``binding_rule``: one of ``BINDING_RULES``
        - ``notice_zh``, ``notice_en``: customer notice of a pending decrease or
          suspension
        - ``exposure`` (open exposure), ``utilisation`` (exposure / new limit,
          NaN when the new limit is 0), ``available_credit`` (may be negative)
        - ``group_id``, ``group_cap`` (NaN outside a capped group),
          ``group_exposure`` and ``group_limit_total`` (sums over the group's
          rows in this frame, NaN outside a group)
        - ``review_frequency_months`` (int), ``next_review_on`` (datetime64)
        - ``policy_version``, ``scale_version``, ``calculation_log`` (JSON text)

    Raises
    ------
    InputDataError
        If columns are missing, a customer appears twice, the frame's ``as_of``
        differs, a grade is off the master scale or a PD is outside [0, 1].

    Notes
    -----
    The model limit is min(capacity, need) × grade factor × industry factor,
    capped by the expected-loss cap, clipped to [min_limit, max_limit] and rounded
    down to ``rounding_unit``. Without a usable statement (capacity missing) the
    need alone is used and ``thin_file_max_limit`` caps the result. A new
    customer (tenure below ``new_customer_months``) has its need measured on the
    average monthly volume over its months of tenure, and one not invoiced yet
    starts from ``new_customer_limit`` in place of the need. Defaulted
    customers, grades above the cut-off, a zero grade or industry factor and a
    non-positive equity or revenue (zero capacity) get 0.
    ``proposed_limit`` equals ``model_limit``: the standalone proposal before the
    adjustment rules and the group cap.

    The adjustment rules apply in this order:

    1. A locked limit never moves (action ``hold``), but the proposal is still
       shown.
    2. A missing proposal (missing PD, grade or trading need) holds the limit in
       force and needs review.
    3. A temporary limit whose ``limit_valid_to`` is before ``as_of`` is no longer
       in force. Its renewal (action ``new``) is capped at the expired amount ×
       (1 + max_step_up) and needs fresh statements, else the customer holds at 0
       and needs review.
    4. A zero proposal suspends a positive limit. A defaulted customer is
       suspended at once; any other suspension (cut-off grade, zero factor or zero
       capacity) is pending with notice like a large decrease.
    5. No limit in force and a positive proposal: ``new`` at once.
    6. An increase needs statements at most ``max_statement_age_months`` old (a
       customer without statements never qualifies) and no open invoice
       ``max_dpd_for_increase`` or more days past due. Otherwise the limit holds
       and needs review. An increase is capped at current × (1 + max_step_up),
       rounded down.
    7. A decrease stops at current × (1 - max_step_down), rounded up.
    8. Group cap: when the limits of a ``group_id`` add up to more than its cap,
       the unlocked members' limits are scaled down proportionally and rounded
       down (see :mod:`creditlimit.serving.groups`), even past the step-down cap.
    9. A decrease or risk suspension by more than ``notice_threshold`` of the
       limit in force is pending until ``as_of + notice_days`` and comes with a
       customer notice.

    The next review is ``as_of`` plus the grade's ``review_months_by_grade``
    (``review_months_watch`` for grade D and suspended customers), or the expiry
    of a temporary limit in force when that comes first.

    Every step is row-wise except the group cap, which needs every member of a
    group in the same frame.
    """
    as_of = pd.Timestamp(as_of).date()
    inputs = _read_inputs(scored, policy=policy, as_of=as_of)
    steps = _model_limits(inputs, policy)
    steps["proposed_limit"] = steps["model_limit"]
    steps.update(_adjust_limits(inputs, steps, policy))
    steps.update(_apply_group_caps(inputs, steps, policy))
    steps.update(_schedule(inputs, steps, policy, as_of))

    frame = _assemble(inputs, steps, policy, as_of, base_currency)
    logger.info(
        "proposed limits for %d customers as of %s (policy %s): %s",
        len(frame), as_of, policy.version, frame["action"].value_counts().to_dict(),
    )
    return frame


def _read_inputs(scored: pd.DataFrame, *, policy: PolicyParams, as_of: date) -> dict[str, np.ndarray]:
    """Check the scored frame and return its policy inputs as numpy arrays."""
    missing = [column for column in SCORED_COLUMNS if column not in scored.columns]
    if missing:
        raise InputDataError("policy.missing_columns", columns=missing)
    duplicated = scored["customer_id"][scored["customer_id"].duplicated()]
    if len(duplicated):
        raise InputDataError("policy.duplicate_customers", customers=list(duplicated.unique()[:5]))
    if "as_of" in scored.columns:
        found = sorted({d.date() for d in pd.to_datetime(scored["as_of"]).dropna()} - {as_of})
        if found:
            raise InputDataError("policy.as_of_mismatch", found=found[0].isoformat(), as_of=as_of.isoformat())

    customer_ids = scored["customer_id"].to_numpy(dtype=object)
    pd_12m = _floats(scored["pd_12m"])
    out_of_range = np.flatnonzero((pd_12m < 0) | (pd_12m > 1))
    if out_of_range.size:
        i = out_of_range[0]
        raise InputDataError("policy.invalid_pd", customer_id=customer_ids[i], value=pd_12m[i])
    grade_number, grade_is_default, grade_text = _parse_grades(scored["grade"], customer_ids, policy)

    valid_to = pd.to_datetime(scored["limit_valid_to"])
    return {
        "customer_id": customer_ids,
        "pd_12m": pd_12m,
        "grade": grade_text,
        "grade_number": grade_number,
        "industry": scored["industry"].to_numpy(dtype=object),
        "equity_base": _floats(scored["equity_base"]),
        "revenue_base": _floats(scored["revenue_base"]),
        "has_statements": _booleans(scored["has_statements"]),
        "avg_monthly_invoiced_6m": _floats(scored["avg_monthly_invoiced_6m"]),
        "payment_terms_days": _floats(scored["payment_terms_days"]),
        "statement_age_months": _floats(scored["statement_age_months"]),
        "current_limit": _floats(scored["current_limit"]),
        "limit_locked": _booleans(scored["limit_locked"]),
        "limit_valid_to": valid_to.to_numpy(),
        "current_limit_expired": (valid_to < pd.Timestamp(as_of)).to_numpy(dtype=bool),
        # A 'D' grade is a default as well as the is_defaulted flag.
        "is_defaulted": _booleans(scored["is_defaulted"]) | grade_is_default,
        "open_exposure": _floats(scored["open_exposure"]),
        "max_dpd_now": _optional_floats(scored, "max_dpd_now"),
        "tenure_months": _optional_floats(scored, "tenure_months"),
        "invoiced_6m": _optional_floats(scored, "invoiced_6m"),
        "group_id": (scored["group_id"].astype(object).where(scored["group_id"].notna(), None).to_numpy(dtype=object)
                     if "group_id" in scored.columns else np.full(len(scored), None, dtype=object)),
    }


def _parse_grades(
    grades: pd.Series, customer_ids: np.ndarray, policy: PolicyParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map grade text to its number (NaN for D or missing) and a D mask."""
    scale = {str(g): float(g) for g in range(1, policy.n_grades + 1)}
    text = np.array([None if pd.isna(g) else str(g) for g in grades], dtype=object)
    number = np.full(len(text), np.nan)
    is_default = np.zeros(len(text), dtype=bool)
    for i, grade in enumerate(text):
        if grade is None:
            continue
        if grade == "D":
            is_default[i] = True
        elif grade in scale:
            number[i] = scale[grade]
        else:
            raise InputDataError(
                "policy.invalid_grade", customer_id=customer_ids[i], value=grade, n_grades=policy.n_grades
            )
    return number, is_default, text


def _model_limits(inputs: dict[str, np.ndarray], policy: PolicyParams) -> dict[str, np.ndarray]:
    """Compute the policy limit before the adjustment rules, with the rule that set it."""
    has_statements = inputs["has_statements"]
    equity, revenue = inputs["equity_base"], inputs["revenue_base"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Capacity is the lower of the equity and revenue shares, and 0 once either base is not positive.
        from_equity = equity * policy.equity_share
        from_revenue = revenue * policy.revenue_share
        capacity = np.minimum(from_equity, from_revenue)
        capacity = np.where(has_statements & ((equity <= 0) | (revenue <= 0)), 0.0, capacity)
        capacity = np.where(has_statements, capacity, np.nan)

        # Need: recent monthly volume over the payment terms plus the buffer.
        monthly_volume, is_new, not_invoiced = _monthly_volume(inputs, policy)
        days = inputs["payment_terms_days"] + policy.need_buffer_days
        need = np.maximum(monthly_volume * days / DAYS_PER_MONTH, 0.0)
        # A new customer not invoiced yet has no need to measure, so it starts from new_customer_limit.
        need_base = np.where(not_invoiced, policy.new_customer_limit, need)

        # A thin file has no usable capacity, so the need alone sets the base.
        thin_file = np.isnan(capacity)
        base = np.where(thin_file, need_base, np.minimum(capacity, need_base))
        rule = np.where(not_invoiced, "new_customer", "need").astype(object)
        rule = np.where(~thin_file & (capacity < need_base), "capacity", rule)

        grade_factor = _grade_factors(inputs, policy)
        industry_factor = _industry_factors(inputs["industry"], policy)
        factored = base * grade_factor * industry_factor
        el_cap = policy.max_expected_loss / (inputs["pd_12m"] * policy.lgd)

    capped = np.minimum(factored, el_cap)
    rule = np.where(el_cap < factored, "el_cap", rule)
    clipped = np.clip(capped, policy.min_limit, policy.max_limit)
    rule = np.where(capped < policy.min_limit, "min_limit", rule)
    rule = np.where(capped > policy.max_limit, "max_limit", rule)
    over_thin_cap = thin_file & (clipped > policy.thin_file_max_limit)
    clipped = np.where(over_thin_cap, policy.thin_file_max_limit, clipped)
    rule = np.where(over_thin_cap, "thin_file_cap", rule)
    model_limit = _round_down(clipped, policy.rounding_unit)
    rule = np.where(np.isnan(model_limit), "missing_inputs", rule)

    # Zero decisions override the formula, and the first matching reason is recorded.
    zero_rule = np.select(
        [
            inputs["is_defaulted"],
            inputs["grade_number"] > policy.cutoff_grade,
            grade_factor == 0,
            industry_factor == 0,
            # Non-positive equity or revenue leaves no capacity, and the minimum
            # limit must not lift such a customer back to a positive limit.
            ~thin_file & (capacity <= 0),
        ],
        ["defaulted", "cutoff_grade", "grade_factor", "industry_factor", "capacity"],
        default="",
    ).astype(object)
    zero_decision = zero_rule != ""
    return {
        "capacity_from_equity": from_equity,
        "capacity_from_revenue": from_revenue,
        "capacity_limit": capacity,
        "monthly_volume": monthly_volume,
        "new_customer": is_new,
        "need_limit": need,
        "thin_file": thin_file,
        "base_limit": base,
        "grade_factor": grade_factor,
        "industry_factor": industry_factor,
        "factored_limit": factored,
        "el_cap": el_cap,
        "zero_decision": zero_decision,
        "model_limit": np.where(zero_decision, 0.0, model_limit),
        "proposal_rule": np.where(zero_decision, zero_rule, rule),
    }


def _monthly_volume(
    inputs: dict[str, np.ndarray], policy: PolicyParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the monthly volume the need is built on, the new-customer mask and the not-invoiced mask.

    ``avg_monthly_invoiced_6m`` divides six months of invoices by 6, which
    understates a customer trading for fewer months. A new customer's volume is
    averaged over its months of tenure instead (at least 1, at most 6).
    """
    tenure = inputs["tenure_months"]
    average = inputs["avg_monthly_invoiced_6m"]
    with np.errstate(invalid="ignore"):
        is_new = tenure < policy.new_customer_months
        invoiced_6m = np.where(np.isnan(inputs["invoiced_6m"]), average * NEED_WINDOW_MONTHS, inputs["invoiced_6m"])
        months = np.clip(np.nan_to_num(tenure, nan=NEED_WINDOW_MONTHS), 1.0, NEED_WINDOW_MONTHS)
        volume = np.where(is_new, invoiced_6m / months, average)
        not_invoiced = is_new & (invoiced_6m == 0)
    return volume, is_new, not_invoiced


def _grade_factors(inputs: dict[str, np.ndarray], policy: PolicyParams) -> np.ndarray:
    factors = np.asarray(policy.grade_factors)
    number = inputs["grade_number"]
    known = ~np.isnan(number)
    result = np.full(number.shape, np.nan)
    result[known] = factors[number[known].astype(int) - 1]
    # A defaulted customer gets factor 0, which records that it gets no credit.
    return np.where(inputs["is_defaulted"], 0.0, result)


def _industry_factors(industry: np.ndarray, policy: PolicyParams) -> np.ndarray:
    table = policy.industry_factors
    return np.array(
        [table.get(name, policy.default_industry_factor) if isinstance(name, str) else policy.default_industry_factor
         for name in industry],
        dtype=np.float64,
    )


def _adjust_limits(
    inputs: dict[str, np.ndarray], steps: dict[str, np.ndarray], policy: PolicyParams
) -> dict[str, np.ndarray]:
    """Apply the adjustment rules to the proposal against the limit in force."""
    current = inputs["current_limit"]
    has_current = current > 0
    in_force = np.where(has_current & ~inputs["current_limit_expired"], current, 0.0)
    proposal = steps["model_limit"]
    fresh = inputs["statement_age_months"] <= policy.max_statement_age_months
    # An expired temporary limit is no longer in force, but a renewal may not jump
    # past the step-up cap on it and needs fresh statements like any increase.
    expired = has_current & inputs["current_limit_expired"]
    reference = np.where(expired, current, in_force)
    up_cap = _round_down(reference * (1 + policy.max_step_up), policy.rounding_unit)
    down_floor = np.minimum(_round_up(in_force * (1 - policy.max_step_down), policy.rounding_unit), in_force)
    increase_to = np.minimum(proposal, up_cap)
    decrease_to = np.maximum(proposal, down_floor)

    # The cases are in priority order, and the first true condition decides.
    conditions = {
        "locked": inputs["limit_locked"],
        "missing": np.isnan(proposal),
        "suspend": steps["zero_decision"] & (in_force > 0),
        "stale_renewal": expired & (proposal > 0) & ~fresh,
        "renewal": expired & (proposal > 0),
        "new": (in_force == 0) & (proposal > 0),
        "no_limit": in_force == 0,
        "stale_increase": (proposal > in_force) & ~fresh,
        "overdue_increase": (proposal > in_force) & (inputs["max_dpd_now"] >= policy.max_dpd_for_increase),
        "increase": (proposal > in_force) & (increase_to > in_force),
        "increase_rounded_away": proposal > in_force,
        "decrease": (proposal < in_force) & (decrease_to < in_force),
        "decrease_capped_away": proposal < in_force,
    }
    rule = steps["proposal_rule"]
    choices = {
        # case: (new limit, action, binding rule)
        "locked": (np.where(has_current, current, 0.0), "hold", "locked"),
        "missing": (in_force, "hold", "missing_inputs"),
        "suspend": (0.0, "suspend", rule),
        "stale_renewal": (0.0, "hold", "stale_statements"),
        "renewal": (increase_to, "new", np.where(up_cap < proposal, "step_up_cap", rule)),
        "new": (proposal, "new", rule),
        "no_limit": (0.0, "hold", rule),
        "stale_increase": (in_force, "hold", "stale_statements"),
        "overdue_increase": (in_force, "hold", "overdue"),
        "increase": (increase_to, "increase", np.where(up_cap < proposal, "step_up_cap", rule)),
        "increase_rounded_away": (in_force, "hold", "step_up_cap"),
        "decrease": (decrease_to, "decrease", np.where(down_floor > proposal, "step_down_cap", rule)),
        "decrease_capped_away": (in_force, "hold", "step_down_cap"),
    }
    masks = list(conditions.values())
    new_limit = np.select(masks, [c[0] for c in choices.values()], default=in_force)
    action = np.select(masks, [c[1] for c in choices.values()], default="hold").astype(object)
    binding_rule = np.select(masks, [c[2] for c in choices.values()], default=rule).astype(object)
    case = np.select(masks, list(conditions), default="unchanged").astype(object)
    return {
        "limit_in_force": in_force,
        "statements_fresh": fresh,
        "step_up_cap": up_cap,
        "step_down_floor": down_floor,
        "new_limit": new_limit,
        "action": action,
        "binding_rule": binding_rule,
        "adjustment_case": case,
    }


def _apply_group_caps(
    inputs: dict[str, np.ndarray], steps: dict[str, np.ndarray], policy: PolicyParams
) -> dict[str, np.ndarray]:
    """Cut the limits of groups over their cap and restate the action of every cut member.

    The allocation rule is in :mod:`creditlimit.serving.groups`. A cut member's
    action follows from its new limit against the limit in force: ``decrease``,
    ``suspend`` (cut to 0), ``hold``, or a smaller ``increase`` or ``new`` limit.
    """
    group_ids = inputs["group_id"]
    combined_capacity, cap = group_caps(group_ids, steps["capacity_limit"], steps["thin_file"], policy)
    locked = steps["adjustment_case"] == "locked"
    new_limit, cut = allocate_group_caps(group_ids, steps["new_limit"], locked, cap, policy)

    in_force = steps["limit_in_force"]
    restated = np.select(
        [new_limit > in_force, (new_limit < in_force) & (new_limit == 0), new_limit < in_force],
        ["increase", "suspend", "decrease"], default="hold",
    )
    restated = np.where((in_force == 0) & (new_limit > 0), "new", restated).astype(object)
    return {
        "group_combined_capacity": combined_capacity,
        "group_cap": cap,
        "limit_before_group_cap": steps["new_limit"],
        "new_limit": new_limit,
        "action": np.where(cut, restated, steps["action"]),
        "binding_rule": np.where(cut, "group_cap", steps["binding_rule"]),
        "group_exposure": group_totals(group_ids, inputs["open_exposure"]),
        "group_limit_total": group_totals(group_ids, new_limit),
    }


def _schedule(
    inputs: dict[str, np.ndarray], steps: dict[str, np.ndarray], policy: PolicyParams, as_of: date
) -> dict[str, np.ndarray]:
    """Date each change, decide which cuts wait for notice, and schedule the next review."""
    in_force, new_limit, action = steps["limit_in_force"], steps["new_limit"], steps["action"]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_cut = (in_force - new_limit) / in_force
    # A cut for risk, including a suspension for a cut-off grade or a group cap,
    # is announced notice_days ahead. Only a defaulted customer is suspended at once.
    risk_cut = (action == "decrease") | ((action == "suspend") & ~inputs["is_defaulted"])
    is_pending = risk_cut & (relative_cut > policy.notice_threshold)
    start = np.datetime64(as_of, "D")
    effective_on = np.where(is_pending, start + np.timedelta64(policy.notice_days, "D"), start)
    review_reason = _review_reasons(inputs, steps, steps["adjustment_case"], inputs["current_limit"] > 0)
    frequency, next_review_on = next_reviews(
        grade_number=inputs["grade_number"], watch=inputs["is_defaulted"] | (action == "suspend"),
        limit_valid_to=inputs["limit_valid_to"], as_of=as_of, policy=policy,
    )
    return {
        "is_pending": is_pending,
        "effective_on": effective_on.astype("datetime64[ms]"),
        "needs_review": review_reason != "",
        "review_reason": np.where(review_reason == "", None, review_reason),
        "review_frequency_months": frequency,
        "next_review_on": next_review_on,
    }


def _review_reasons(
    inputs: dict[str, np.ndarray],
    steps: dict[str, np.ndarray],
    case: np.ndarray,
    has_current: np.ndarray,
) -> np.ndarray:
    """Name why a decision needs an analyst, or '' when it does not."""
    locked = case == "locked"
    reason = np.select(
        [
            locked & np.isnan(steps["model_limit"]),
            locked & steps["zero_decision"] & has_current,
            locked & inputs["current_limit_expired"] & has_current,
            case == "missing",
            case == "stale_increase",
            case == "stale_renewal",
            case == "overdue_increase",
        ],
        ["locked_missing_inputs", "locked_zero_proposal", "locked_expired_limit",
         "missing_inputs", "stale_statements_for_increase", "stale_statements_for_renewal",
         "overdue_blocks_increase"],
        default="",
    )
    return reason.astype(object)


def _round_down(values: np.ndarray, unit: float) -> np.ndarray:
    # The small tolerance keeps a value like 11999.999999 (float error) on 12000.
    return np.floor(values / unit + 1e-9) * unit


def _round_up(values: np.ndarray, unit: float) -> np.ndarray:
    # Adding 0.0 turns the -0.0 that ceil gives for tiny negatives into 0.0.
    return np.ceil(values / unit - 1e-9) * unit + 0.0


# ---------------------------------------------------------------- output


def _assemble(
    inputs: dict[str, np.ndarray],
    steps: dict[str, np.ndarray],
    policy: PolicyParams,
    as_of: date,
    base_currency: str | None,
) -> pd.DataFrame:
    exposure = inputs["open_exposure"]
    new_limit = steps["new_limit"]
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(new_limit > 0, exposure / new_limit, np.nan)
    notice_zh, notice_en = _notices(inputs, steps, base_currency)
    frame = pd.DataFrame({
        "customer_id": pd.Series(inputs["customer_id"]),
        "current_limit": inputs["current_limit"],
        "limit_valid_to": inputs["limit_valid_to"],
        "current_limit_expired": inputs["current_limit_expired"],
        "limit_locked": inputs["limit_locked"],
        "capacity_limit": steps["capacity_limit"],
        "need_limit": steps["need_limit"],
        "grade_factor": steps["grade_factor"],
        "industry_factor": steps["industry_factor"],
        "el_cap": steps["el_cap"],
        "model_limit": steps["model_limit"],
        "proposed_limit": steps["proposed_limit"],
        "new_limit": new_limit,
        "action": pd.Series(steps["action"], dtype="str"),
        "effective_on": steps["effective_on"],
        "is_pending": steps["is_pending"],
        "needs_review": steps["needs_review"],
        "review_reason": pd.Series(steps["review_reason"], dtype="str"),
        "binding_rule": pd.Series(steps["binding_rule"], dtype="str"),
        "notice_zh": pd.Series(notice_zh, dtype="str"),
        "notice_en": pd.Series(notice_en, dtype="str"),
        "exposure": exposure,
        "utilisation": utilisation,
        "available_credit": new_limit - exposure,
        "group_id": pd.Series(inputs["group_id"], dtype="str"),
        "group_cap": steps["group_cap"],
        "group_exposure": steps["group_exposure"],
        "group_limit_total": steps["group_limit_total"],
        "review_frequency_months": steps["review_frequency_months"],
        "next_review_on": steps["next_review_on"],
        "policy_version": policy.version,
        "scale_version": policy.scale_version,
    })
    frame["calculation_log"] = calculation_logs(inputs, steps, policy, as_of)
    return frame


def _notices(
    inputs: dict[str, np.ndarray], steps: dict[str, np.ndarray], base_currency: str | None
) -> tuple[list[str | None], list[str | None]]:
    """Write the customer notice of every pending decrease, in zh_CN and en."""
    notice_zh: list[str | None] = [None] * len(steps["new_limit"])
    notice_en: list[str | None] = [None] * len(steps["new_limit"])
    for i in np.flatnonzero(steps["is_pending"]):
        effective_on = pd.Timestamp(steps["effective_on"][i]).date().isoformat()
        # Amounts are written the same way in both languages ("CNY 120,000").
        old_limit = format_value(steps["limit_in_force"][i], "amount", locale="en", base_currency=base_currency)
        new_limit = format_value(steps["new_limit"][i], "amount", locale="en", base_currency=base_currency)
        rendered = translate_all(
            "policy.notice", customer_id=inputs["customer_id"][i], effective_on=effective_on,
            old_limit=old_limit, new_limit=new_limit,
        )
        notice_zh[i], notice_en[i] = rendered["zh_CN"], rendered["en"]
    return notice_zh, notice_en


def _floats(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)


def _optional_floats(scored: pd.DataFrame, column: str) -> np.ndarray:
    return _floats(scored[column]) if column in scored.columns else np.full(len(scored), np.nan)


def _booleans(column: pd.Series) -> np.ndarray:
    # Missing means False for these flags: not locked, not defaulted, no statements.
    return column.astype("boolean").fillna(False).to_numpy(dtype=bool)
