"""Early-warning flags that compare runs, recent months, the portfolio and the input quality.

:func:`creditlimit.serving.flags.raise_flags` judges each customer's own row. The
flags here need more context: the previous run (PD jump, grade downgrade), the
recent months against the last 12 (payment trend, dispute spike), the whole
portfolio (concentration), the customer's group (group over its cap) and the
validation quarantine (quarantined input rows). Each rule skips quietly when its
input is absent, for example on the first run or before group limits exist.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from creditlimit.i18n import register
from creditlimit.serving.flags import SEVERITY, FlagParams, flag_frame, flag_texts, typed_flags
from creditlimit.serving.reasons import format_value

__all__ = ["EARLY_WARNING_CODES", "concentration_flags", "raise_early_warnings", "grade_notches"]

logger = logging.getLogger(__name__)

EARLY_WARNING_CODES = (
    "pd_jump", "grade_downgrade", "worsening_payment_trend", "dispute_spike",
    "concentration", "group_over_cap", "quarantined_input",
)

register({
    "flags.pd_jump": {
        "en": (
            "The PD rose from {previous} to {current} since the run of {previous_as_of} "
            "(threshold: a rise of {threshold} to at least {ratio} times the previous PD)."
        ),
        "zh_CN": "违约概率自{previous_as_of}的评分以来由{previous}升至{current}（阈值：上升{threshold}且达到原违约概率的{ratio}倍）。",
    },
    "flags.grade_downgrade": {
        "en": (
            "The grade fell by {value} notches, from {previous} to {current}, since the run "
            "of {previous_as_of} (threshold {threshold} notches)."
        ),
        "zh_CN": "信用等级自{previous_as_of}的评分以来下调{value}级，由{previous}级降至{current}级（阈值{threshold}级）。",
    },
    "flags.worsening_payment_trend": {
        "en": (
            "Invoices paid in the last {months} months were {recent} late on average "
            "({payments} invoices), against {year} over 12 months (threshold: {threshold} more)."
        ),
        "zh_CN": "近{months}个月付清的发票平均逾期{recent}（共{payments}张），近12个月平均为{year}（阈值：高出{threshold}）。",
    },
    "flags.dispute_spike": {
        "en": (
            "{recent} of the invoices issued in the last {months} months are disputed "
            "({count} invoices), against {year} over 12 months (threshold {threshold})."
        ),
        "zh_CN": "近{months}个月开具的发票中有{recent}存在争议（{count}张），近12个月为{year}（阈值{threshold}）。",
    },
    "flags.concentration": {
        "en": "Open exposure of {amount} is {value} of the portfolio's total open exposure (threshold {threshold}).",
        "zh_CN": "未结清敞口{amount}占组合未结清敞口总额的{value}（阈值{threshold}）。",
    },
    "flags.group_over_cap": {
        "en": "Group {group} has an exposure of {value}, above its group cap of {threshold}.",
        "zh_CN": "集团{group}的敞口为{value}，超过集团限额{threshold}。",
    },
    "flags.quarantined_input": {
        "en": (
            "{value} input rows of this customer were quarantined by validation ({details}), "
            "so the scores leave them out. Correct them in the source data."
        ),
        "zh_CN": "该客户有{value}行输入数据被校验隔离（{details}），评分未使用这些数据。请在源数据中更正。",
    },
})


def grade_notches(grades: Sequence[object], grade_order: Sequence[str]) -> np.ndarray:
    """Return each grade's position on the master scale (0 best), NaN when unknown."""
    position = {grade: float(i) for i, grade in enumerate(grade_order)}
    return np.asarray([position.get(str(g), np.nan) if not pd.isna(g) else np.nan for g in grades],
                      dtype=np.float64)


def raise_early_warnings(
    scored: pd.DataFrame,
    *,
    limits: pd.DataFrame,
    params: FlagParams,
    grade_order: Sequence[str],
    previous_limits: pd.DataFrame | None = None,
    previous_as_of: object = None,
    quarantine: pd.DataFrame | None = None,
    base_currency: str | None = None,
) -> pd.DataFrame:
    """Raise the flags that need the previous run, recent behaviour, the portfolio or the quarantine.

    Parameters
    ----------
    scored : pandas.DataFrame
        One row per customer with ``customer_id``, ``pd_12m``, ``grade`` and the
        features. ``open_exposure``, ``mean_days_late_12m``,
        ``disputed_share_12m`` and the columns of
        :func:`creditlimit.features.recent_behaviour.recent_behaviour` are read
        when present.
    limits : pandas.DataFrame
        The run's limits; ``group_id``, ``group_cap`` and ``group_exposure``
        are read when present.
    params : FlagParams
        Validated flag parameters.
    grade_order : sequence of str
        Grades from best to worst, ending with ``"D"``.
    previous_limits : pandas.DataFrame, optional
        Limits of the previous run (``customer_id``, ``pd_12m``, ``grade``).
    previous_as_of : date-like, optional
        The previous run's as-of date, shown in texts.
    quarantine : pandas.DataFrame, optional
        Output of :func:`creditlimit.features.quarantine.quarantine_summary`.
    base_currency : str, optional
        Currency code written with amounts.

    Returns
    -------
    pandas.DataFrame
        Flags with the columns of ``creditlimit.serving.flags.FLAG_COLUMNS``.
    """
    parts = [
        _previous_run_flags(scored, previous_limits, previous_as_of, params, grade_order),
        _trend_flags(scored, params),
        _dispute_flags(scored, params),
        concentration_flags(scored, params, base_currency),
        _group_flags(limits, base_currency),
        _quarantine_flags(quarantine, scored["customer_id"], params),
    ]
    flags = pd.concat([p for p in parts if len(p)] or [flag_frame([])], ignore_index=True)
    logger.info("raised %d early-warning flags: %s", len(flags), flags["code"].value_counts().to_dict())
    return typed_flags(flags)


def _previous_run_flags(
    scored: pd.DataFrame,
    previous: pd.DataFrame | None,
    previous_as_of: object,
    params: FlagParams,
    grade_order: Sequence[str],
) -> pd.DataFrame:
    if previous is None or previous.empty or not {"customer_id", "pd_12m", "grade"} <= set(previous.columns):
        return flag_frame([])
    before = previous.drop_duplicates("customer_id").set_index("customer_id")
    ids = scored["customer_id"].to_numpy(dtype=object)
    pd_now = _floats(scored["pd_12m"])
    pd_before = _floats(before["pd_12m"].reindex(ids))
    grade_now = scored["grade"].astype("str").to_numpy()
    grade_before = before["grade"].reindex(ids).to_numpy(dtype=object)
    when = "" if previous_as_of is None else pd.Timestamp(previous_as_of).date().isoformat()
    rows = []

    with np.errstate(invalid="ignore"):
        jumped = ((pd_now - pd_before) >= params.pd_jump_min_increase) & (
            pd_now >= params.pd_jump_min_ratio * pd_before)
    for i in np.flatnonzero(jumped):
        texts = flag_texts(
            "flags.pd_jump",
            previous=lambda loc, v=pd_before[i]: format_value(v, "percent", locale=loc),
            current=lambda loc, v=pd_now[i]: format_value(v, "percent", locale=loc),
            threshold=lambda loc: format_value(params.pd_jump_min_increase, "percent", locale=loc),
            ratio=lambda loc: f"{params.pd_jump_min_ratio:g}",
            previous_as_of=lambda loc: when,
        )
        rows.append((ids[i], "pd_jump", SEVERITY["pd_jump"], "pd_12m",
                     pd_now[i] - pd_before[i], params.pd_jump_min_increase, *texts))

    notches = grade_notches(grade_now, grade_order) - grade_notches(grade_before, grade_order)
    with np.errstate(invalid="ignore"):
        downgraded = notches >= params.downgrade_notches
    for i in np.flatnonzero(downgraded):
        texts = flag_texts(
            "flags.grade_downgrade",
            value=lambda loc, v=notches[i]: format_value(v, "count", locale=loc),
            previous=lambda loc, g=grade_before[i]: str(g),
            current=lambda loc, g=grade_now[i]: str(g),
            threshold=lambda loc: str(params.downgrade_notches),
            previous_as_of=lambda loc: when,
        )
        rows.append((ids[i], "grade_downgrade", SEVERITY["grade_downgrade"], "grade",
                     notches[i], float(params.downgrade_notches), *texts))
    return flag_frame(rows)


def _trend_flags(scored: pd.DataFrame, params: FlagParams) -> pd.DataFrame:
    needed = ("mean_days_late_recent", "paid_invoices_recent", "mean_days_late_12m")
    if any(column not in scored.columns for column in needed):
        return flag_frame([])
    recent = _floats(scored["mean_days_late_recent"])
    payments = _floats(scored["paid_invoices_recent"])
    year = _floats(scored["mean_days_late_12m"])
    increase = recent - year
    with np.errstate(invalid="ignore"):
        raised = (increase >= params.trend_min_increase_days) & (payments >= params.trend_min_payments)
    ids = scored["customer_id"].to_numpy(dtype=object)
    rows = []
    for i in np.flatnonzero(raised):
        texts = flag_texts(
            "flags.worsening_payment_trend",
            months=lambda loc: str(params.recent_months),
            recent=lambda loc, v=recent[i]: format_value(v, "days", locale=loc),
            payments=lambda loc, v=payments[i]: format_value(v, "count", locale=loc),
            year=lambda loc, v=year[i]: format_value(v, "days", locale=loc),
            threshold=lambda loc: format_value(params.trend_min_increase_days, "days", locale=loc),
        )
        rows.append((ids[i], "worsening_payment_trend", SEVERITY["worsening_payment_trend"],
                     "mean_days_late_recent", increase[i], params.trend_min_increase_days, *texts))
    return flag_frame(rows)


def _dispute_flags(scored: pd.DataFrame, params: FlagParams) -> pd.DataFrame:
    needed = ("disputed_share_recent", "disputed_invoices_recent", "disputed_share_12m")
    if any(column not in scored.columns for column in needed):
        return flag_frame([])
    recent = _floats(scored["disputed_share_recent"])
    count = _floats(scored["disputed_invoices_recent"])
    year = _floats(scored["disputed_share_12m"])
    with np.errstate(invalid="ignore"):
        raised = ((recent >= params.dispute_spike_share) & (recent >= params.dispute_spike_ratio * year)
                  & (count >= params.dispute_min_invoices))
    ids = scored["customer_id"].to_numpy(dtype=object)
    rows = []
    for i in np.flatnonzero(raised):
        texts = flag_texts(
            "flags.dispute_spike",
            months=lambda loc: str(params.recent_months),
            recent=lambda loc, v=recent[i]: format_value(v, "percent", locale=loc),
            count=lambda loc, v=count[i]: format_value(v, "count", locale=loc),
            year=lambda loc, v=year[i]: format_value(v, "percent", locale=loc),
            threshold=lambda loc: format_value(params.dispute_spike_share, "percent", locale=loc),
        )
        rows.append((ids[i], "dispute_spike", SEVERITY["dispute_spike"], "disputed_share_recent",
                     recent[i], params.dispute_spike_share, *texts))
    return flag_frame(rows)


def concentration_flags(scored: pd.DataFrame, params: FlagParams, base_currency: str | None) -> pd.DataFrame:
    """Flag each customer whose open exposure is at least ``concentration_share`` of the book's total.

    ``scored`` needs ``customer_id`` and ``open_exposure`` of every customer in the
    book; nothing is raised below ``concentration_min_customers`` customers.
    """
    if "open_exposure" not in scored.columns or len(scored) < params.concentration_min_customers:
        return flag_frame([])
    exposure = _floats(scored["open_exposure"])
    total = np.nansum(exposure)
    if not total > 0:
        return flag_frame([])
    share = exposure / total
    ids = scored["customer_id"].to_numpy(dtype=object)
    rows = []
    with np.errstate(invalid="ignore"):
        raised = share >= params.concentration_share
    for i in np.flatnonzero(raised):
        texts = flag_texts(
            "flags.concentration",
            amount=lambda loc, v=exposure[i]: format_value(v, "amount", locale=loc, base_currency=base_currency),
            value=lambda loc, v=share[i]: format_value(v, "percent", locale=loc),
            threshold=lambda loc: format_value(params.concentration_share, "percent", locale=loc),
        )
        rows.append((ids[i], "concentration", SEVERITY["concentration"], "open_exposure",
                     share[i], params.concentration_share, *texts))
    return flag_frame(rows)


def _group_flags(limits: pd.DataFrame, base_currency: str | None) -> pd.DataFrame:
    needed = ("customer_id", "group_id", "group_cap", "group_exposure")
    if any(column not in limits.columns for column in needed):
        return flag_frame([])
    cap = _floats(limits["group_cap"])
    exposure = _floats(limits["group_exposure"])
    has_group = limits["group_id"].notna().to_numpy() & (limits["group_id"].astype("str") != "").to_numpy()
    with np.errstate(invalid="ignore"):
        raised = has_group & (exposure > cap)
    ids = limits["customer_id"].to_numpy(dtype=object)
    groups = limits["group_id"].to_numpy(dtype=object)
    rows = []
    for i in np.flatnonzero(raised):
        texts = flag_texts(
            "flags.group_over_cap",
            group=lambda loc, g=groups[i]: str(g),
            value=lambda loc, v=exposure[i]: format_value(v, "amount", locale=loc, base_currency=base_currency),
            threshold=lambda loc, v=cap[i]: format_value(v, "amount", locale=loc, base_currency=base_currency),
        )
        rows.append((ids[i], "group_over_cap", SEVERITY["group_over_cap"], "group_exposure",
                     exposure[i], cap[i], *texts))
    return flag_frame(rows)


def _quarantine_flags(quarantine: pd.DataFrame | None, customer_ids: pd.Series, params: FlagParams) -> pd.DataFrame:
    if quarantine is None or quarantine.empty:
        return flag_frame([])
    scored_ids = set(customer_ids.astype("str"))
    known = quarantine[quarantine["customer_id"].astype("str").isin(scored_ids)]
    rows = []
    for customer_id, part in known.groupby("customer_id", sort=True):
        total = int(part["rows"].sum())
        if total < params.quarantined_min_rows:
            continue
        details = "; ".join(f"{t} {r}: {n}" for t, r, n in
                            part[["table", "reason_code", "rows"]].itertuples(index=False))
        texts = flag_texts(
            "flags.quarantined_input",
            value=lambda loc, v=total: str(v),
            details=lambda loc: details,
        )
        rows.append((customer_id, "quarantined_input", SEVERITY["quarantined_input"], "input_rows",
                     float(total), float(params.quarantined_min_rows), *texts))
    return flag_frame(rows)


def _floats(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
