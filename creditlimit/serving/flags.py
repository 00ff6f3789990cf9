"""Early-warning risk flags per customer, with texts in zh_CN and en."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.catalog import FEATURES
from creditlimit.i18n import register, translate
from creditlimit.serving.reasons import format_value

__all__ = [
    "FlagParams", "raise_flags", "SEVERITIES", "SEVERITY", "FLAG_COLUMNS",
    "flag_texts", "flag_frame", "typed_flags",
]

logger = logging.getLogger(__name__)

SEVERITIES = ("info", "low", "medium", "high", "critical")
FLAG_COLUMNS = ("customer_id", "code", "severity", "subject", "value", "threshold", "text_zh", "text_en")
# Severity of each overdue band, from the lowest threshold to the highest.
OVERDUE_SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY = {
    "high_utilisation": "medium",
    "over_limit": "high",
    "stale_statements": "low",
    "missing_statements": "low",
    "thin_file": "info",
    "unseen_category": "low",
    "review_required": "medium",
    # Raised after the policy, by creditlimit.serving.early_warning.
    "pd_jump": "medium",
    "grade_downgrade": "high",
    "worsening_payment_trend": "medium",
    "dispute_spike": "medium",
    "concentration": "medium",
    "group_over_cap": "high",
    "quarantined_input": "low",
}
SCORED_COLUMNS = (
    "customer_id", "max_dpd_now", "open_exposure", "current_limit", "limit_valid_to",
    "statement_age_months", "has_statements", "invoice_count_12m",
)
LIMIT_COLUMNS = ("customer_id", "current_limit", "proposed_limit", "needs_review")
UNSEEN_COLUMNS = ("customer_id", "column", "value")

register({
    "flags.missing_param": {
        "en": "Flag parameter flags.{param} is missing. Add it to the flags section of params.yaml.",
        "zh_CN": "缺少预警参数 flags.{param}。请在 params.yaml 的 flags 部分添加该参数。",
    },
    "flags.unknown_param": {
        "en": "Unknown flag parameter flags.{param}. Remove it or correct its spelling. Known parameters: {known}.",
        "zh_CN": "未知的预警参数 flags.{param}。请删除该参数或更正拼写，可用参数为 {known}。",
    },
    "flags.invalid_param": {
        "en": (
            "Invalid flag parameter flags.{param}: it must be {rule_en}, but got {value}. "
            "Correct the value in the flags section of params.yaml."
        ),
        "zh_CN": "预警参数 flags.{param} 无效：应为{rule_zh}，实际为 {value}。请在 params.yaml 的 flags 部分修正该值。",
    },
    "flags.missing_columns": {
        "en": "The {frame} frame lacks the columns {columns} that the risk flags need. Pass the {frame} frame of this run.",
        "zh_CN": "{frame}表缺少风险预警所需的列 {columns}。请传入本次运行的{frame}表。",
    },
    "flags.overdue": {
        "en": "Open invoices are {value} past due (threshold {threshold}).",
        "zh_CN": "存在逾期{value}的未结发票（阈值{threshold}）。",
    },
    "flags.high_utilisation": {
        "en": "Utilisation of the current limit is {value} (threshold {threshold}).",
        "zh_CN": "当前额度使用率为{value}（阈值{threshold}）。",
    },
    "flags.over_limit": {
        "en": "Open exposure of {value} exceeds the current limit of {threshold}.",
        "zh_CN": "未结清敞口{value}超过当前额度{threshold}。",
    },
    "flags.over_limit_no_limit": {
        "en": "Open exposure of {value} is outstanding, but the customer has no credit limit in force.",
        "zh_CN": "存在未结清敞口{value}，但该客户没有有效的信用额度。",
    },
    "flags.stale_statements": {
        "en": "The latest financial statement is {value} old (threshold {threshold}). Request current statements.",
        "zh_CN": "最新财务报表距今{value}（阈值{threshold}），请索取最新财务报表。",
    },
    "flags.stale_statements_unused": {
        "en": "The latest financial statement is too old to be used (older than the feature window, threshold {threshold}). Request current statements.",
        "zh_CN": "最新财务报表过旧，已超出特征使用期限而未被采用（阈值{threshold}），请索取最新财务报表。",
    },
    "flags.missing_statements": {
        "en": "No financial statement was published before {as_of}, so the limit rests on trading history alone.",
        "zh_CN": "{as_of}之前没有已发布的财务报表，额度仅依据交易记录确定。",
    },
    "flags.thin_file": {
        "en": (
            "Thin file: no financial statements and {value} invoices in the last 12 months "
            "(fewer than {threshold} counts as thin)."
        ),
        "zh_CN": "信息不足：无财务报表，近12个月发票数为{value}（少于{threshold}张即为信息不足）。",
    },
    "flags.unseen_category": {
        "en": "The {feature} value '{category}' was not seen in training, so the model scored it as missing.",
        "zh_CN": "{feature}取值“{category}”未在训练数据中出现，模型按缺失值评分。",
    },
    "flags.review_required": {
        "en": "Limit review required: {reason}. Current limit {current}, proposed limit {proposed}.",
        "zh_CN": "需要人工复核额度：{reason}。当前额度{current}，建议额度{proposed}。",
    },
    "flags.review.stale_statements_for_increase": {
        "en": "the proposed increase is on hold because the financial statements are missing or too old",
        "zh_CN": "财务报表缺失或过旧，建议的上调暂缓",
    },
    "flags.review.missing_inputs": {
        "en": "the policy could not compute a limit because the PD, grade or trading need is missing",
        "zh_CN": "违约概率、等级或交易需求缺失，策略无法计算额度",
    },
    "flags.review.locked_missing_inputs": {
        "en": "the limit is locked and the policy could not compute a limit because inputs are missing",
        "zh_CN": "额度已锁定，且因输入缺失策略无法计算额度",
    },
    "flags.review.locked_zero_proposal": {
        "en": "the limit is locked, but the policy proposes no credit (default, cut-off grade or zero factor)",
        "zh_CN": "额度已锁定，但策略建议不予授信（违约、等级超过门槛或系数为零）",
    },
    "flags.review.locked_expired_limit": {
        "en": "the limit is locked, but its temporary validity has expired",
        "zh_CN": "额度已锁定，但临时额度已过期",
    },
    "flags.review.other": {
        "en": "the limit decision needs a manual check",
        "zh_CN": "额度决策需要人工核查",
    },
})

_LABELS = {spec.name: (spec.label_en, spec.label_zh) for spec in FEATURES}


@dataclass(frozen=True)
class FlagParams:
    """Validated ``flags`` section of params.yaml.

    Attributes
    ----------
    overdue_days : tuple of int
        Four strictly increasing days-past-due thresholds for the low, medium,
        high and critical overdue flags.
    high_utilisation : float
        Utilisation of the current limit, in (0, 1], from which a flag is raised.
    stale_statement_months : float
        Statements older than this many months raise a flag.
    thin_file_max_invoices : int
        A customer without statements and fewer invoices than this in 12
        months is a thin file.
    pd_jump_min_increase : float
        PD jump: the PD rose by at least this much (absolute, in (0, 1)) since
        the previous run ...
    pd_jump_min_ratio : float
        ... and is at least this multiple (> 1) of the previous PD.
    downgrade_notches : int
        Grade downgrade: the grade worsened by at least this many notches since
        the previous run (D counts as the notch after the worst grade).
    recent_months : int
        Length of the recent window compared with the last 12 months for the
        payment trend and the dispute spike, in months (1 to 11).
    trend_min_increase_days : float
        Worsening payment trend: mean days late of invoices paid in the recent
        window exceeds the 12-month mean by at least this many days ...
    trend_min_payments : int
        ... over at least this many invoices paid in the recent window.
    dispute_spike_share : float
        Dispute spike: share of disputed invoices issued in the recent window
        reaches this share, in (0, 1] ...
    dispute_spike_ratio : float
        ... and at least this multiple (>= 1) of the 12-month share ...
    dispute_min_invoices : int
        ... with at least this many disputed invoices in the recent window.
    concentration_share : float
        Concentration: a customer's open exposure reaches this share, in (0, 1],
        of the portfolio's total open exposure.
    concentration_min_customers : int
        Portfolios with fewer scored customers raise no concentration flag,
        because a share of a handful of customers does not measure a book's concentration.
    quarantined_min_rows : int
        Quarantined input: at least this many of the customer's input rows were
        quarantined by validation.
    """

    overdue_days: tuple[int, ...]
    high_utilisation: float
    stale_statement_months: float
    thin_file_max_invoices: int
    pd_jump_min_increase: float
    pd_jump_min_ratio: float
    downgrade_notches: int
    recent_months: int
    trend_min_increase_days: float
    trend_min_payments: int
    dispute_spike_share: float
    dispute_spike_ratio: float
    dispute_min_invoices: int
    concentration_share: float
    concentration_min_customers: int
    quarantined_min_rows: int

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> FlagParams:
        """Validate the ``flags`` section of params.yaml into a frozen object.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        known = [field.name for field in fields(cls)]
        for key in mapping:
            if key not in known:
                raise ParamsError("flags.unknown_param", param=key, known=", ".join(known))
        for key in known:
            if key not in mapping:
                raise ParamsError("flags.missing_param", param=key)

        bands = mapping["overdue_days"]
        whole = isinstance(bands, (list, tuple)) and all(_is_whole(b) for b in bands)
        if not whole or len(bands) != 4 or bands[0] < 1 or any(b <= a for a, b in zip(bands, bands[1:])):
            raise _invalid(
                "overdue_days", bands,
                "four strictly increasing whole numbers of days, the first at least 1",
                "四个严格递增的整数天数，第一个不小于 1",
            )
        values = {"overdue_days": tuple(int(b) for b in bands)}
        for key, rule in _NUMBER_RULES.items():
            values[key] = _checked_number(mapping, key, *rule)
        for key, (minimum, maximum) in _WHOLE_RULES.items():
            values[key] = _checked_whole(mapping, key, minimum, maximum)
        return cls(**values)


# Each number parameter: (lower bound, lower bound inclusive, upper bound, upper inclusive).
_NUMBER_RULES: dict[str, tuple[float, bool, float, bool]] = {
    "high_utilisation": (0.0, False, 1.0, True),
    "stale_statement_months": (0.0, False, math.inf, False),
    "pd_jump_min_increase": (0.0, False, 1.0, False),
    "pd_jump_min_ratio": (1.0, False, math.inf, False),
    "trend_min_increase_days": (0.0, False, math.inf, False),
    "dispute_spike_share": (0.0, False, 1.0, True),
    "dispute_spike_ratio": (1.0, True, math.inf, False),
    "concentration_share": (0.0, False, 1.0, True),
}
# Each whole-number parameter: (minimum, maximum), both inclusive.
_WHOLE_RULES: dict[str, tuple[int, int | None]] = {
    "thin_file_max_invoices": (0, None),
    "downgrade_notches": (1, None),
    "recent_months": (1, 11),
    "trend_min_payments": (1, None),
    "dispute_min_invoices": (1, None),
    "concentration_min_customers": (1, None),
    "quarantined_min_rows": (1, None),
}


def _checked_number(
    mapping: Mapping[str, object], key: str, low: float, low_closed: bool, high: float, high_closed: bool
) -> float:
    value = _number(mapping, key)
    above = value >= low if low_closed else value > low
    below = value <= high if high_closed else value < high
    if above and below:
        return value
    if math.isinf(high) and low_closed:
        raise _invalid(key, value, f"at least {low:g}", f"不小于 {low:g} 的数值")
    if math.isinf(high):
        raise _invalid(key, value, f"greater than {low:g}", f"大于 {low:g} 的数值")
    interval = f"{'[' if low_closed else '('}{low:g}, {high:g}{']' if high_closed else ')'}"
    raise _invalid(key, value, f"in {interval}", f"区间 {interval} 内的数值")


def _checked_whole(mapping: Mapping[str, object], key: str, minimum: int, maximum: int | None) -> int:
    value = mapping[key]
    if not _is_whole(value) or value < minimum or (maximum is not None and value > maximum):
        if maximum is None:
            rule_en, rule_zh = f"a whole number, at least {minimum}", f"不小于 {minimum} 的整数"
        else:
            rule_en, rule_zh = f"a whole number from {minimum} to {maximum}", f"{minimum} 到 {maximum} 之间的整数"
        raise _invalid(key, value, rule_en, rule_zh)
    return int(value)


def raise_flags(
    scored: pd.DataFrame,
    *,
    limits: pd.DataFrame,
    params: FlagParams,
    as_of: date,
    unseen_categories: pd.DataFrame | None = None,
    base_currency: str | None = None,
) -> pd.DataFrame:
    """Raise the early-warning flags of every customer.

    Parameters
    ----------
    scored : pandas.DataFrame
        The scored frame (features and context columns). The columns in
        ``SCORED_COLUMNS`` are read.
    limits : pandas.DataFrame
        Output of :func:`creditlimit.serving.policy.propose_limits`. Customers
        with ``needs_review`` get a ``review_required`` flag.
    params : FlagParams
        Validated flag parameters.
    as_of : datetime.date
        Decision date, used for the expiry of temporary limits.
    unseen_categories : pandas.DataFrame, optional
        One row per categorical value not seen in training, with columns
        ``customer_id``, ``column`` (the feature) and ``value``.
    base_currency : str, optional
        Currency code written with amounts in flag texts.

    Returns
    -------
    pandas.DataFrame
        One row per flag, sorted by ``customer_id``, ``code`` and ``subject``,
        with the columns in ``FLAG_COLUMNS``. ``subject`` is the column the flag
        is about. ``value`` and ``threshold`` are NaN where they do not apply.

    Raises
    ------
    InputDataError
        If a frame lacks a column the flags need.

    Notes
    -----
    Codes and severities:

    - ``overdue_<days>``: the highest overdue band reached, with severity low,
      medium, high or critical from the lowest band up
    - ``high_utilisation`` (medium): open exposure / current limit reaches the
      threshold
    - ``over_limit`` (high): open exposure exceeds the current limit
    - ``stale_statements`` (low) and ``missing_statements`` (low)
    - ``thin_file`` (info): also raised when the invoice count is missing
    - ``unseen_category`` (low) and ``review_required`` (medium)

    The codes that need the previous run, recent months, the whole book, the
    group or the quarantine (``pd_jump``, ``grade_downgrade``,
    ``worsening_payment_trend``, ``dispute_spike``, ``concentration``,
    ``group_over_cap``, ``quarantined_input``) are raised by
    :func:`creditlimit.serving.early_warning.raise_early_warnings`.

    The current limit is the one in force at ``as_of``. A missing, zero or
    expired limit counts as no limit, so any open exposure is over the limit.
    """
    as_of = pd.Timestamp(as_of).date()
    _require(scored, SCORED_COLUMNS, "scored")
    _require(limits, LIMIT_COLUMNS, "limits")
    if unseen_categories is not None:
        _require(unseen_categories, UNSEEN_COLUMNS, "unseen_categories")

    ids = scored["customer_id"].to_numpy(dtype=object)
    exposure = _floats(scored["open_exposure"])
    limit_in_force = _limit_in_force(scored, as_of)
    parts = [
        _overdue_flags(ids, _floats(scored["max_dpd_now"]), params),
        _utilisation_flags(ids, exposure, limit_in_force, params),
        _over_limit_flags(ids, exposure, limit_in_force, base_currency),
        _statement_flags(scored, ids, params, as_of),
        _unseen_flags(unseen_categories),
        _review_flags(limits, base_currency),
    ]
    flags = pd.concat([p for p in parts if len(p)] or [_empty()], ignore_index=True)
    flags = flags.sort_values(["customer_id", "code", "subject"], kind="mergesort", ignore_index=True)
    logger.info(
        "raised %d flags for %d customers as of %s: %s",
        len(flags), flags["customer_id"].nunique(), as_of, flags["code"].value_counts().to_dict(),
    )
    return typed_flags(flags)


def _overdue_flags(ids: np.ndarray, dpd: np.ndarray, params: FlagParams) -> pd.DataFrame:
    bands = np.asarray(params.overdue_days, dtype=np.float64)
    raised = np.flatnonzero(dpd >= bands[0])
    # The highest band whose threshold the days past due reach.
    band = np.searchsorted(bands, dpd[raised], side="right") - 1
    rows = []
    for i, b in zip(raised, band):
        texts = flag_texts(
            "flags.overdue",
            value=lambda loc, v=dpd[i]: format_value(v, "days", locale=loc),
            threshold=lambda loc, t=bands[b]: format_value(t, "days", locale=loc),
        )
        code = f"overdue_{params.overdue_days[b]}"
        rows.append((ids[i], code, OVERDUE_SEVERITIES[b], "max_dpd_now", dpd[i], bands[b], *texts))
    return flag_frame(rows)


def _utilisation_flags(
    ids: np.ndarray, exposure: np.ndarray, limit_in_force: np.ndarray, params: FlagParams
) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(limit_in_force > 0, exposure / limit_in_force, np.nan)
    threshold = params.high_utilisation
    rows = []
    for i in np.flatnonzero(utilisation >= threshold):
        texts = flag_texts(
            "flags.high_utilisation",
            value=lambda loc, v=utilisation[i]: format_value(v, "percent", locale=loc),
            threshold=lambda loc: format_value(threshold, "percent", locale=loc),
        )
        rows.append((ids[i], "high_utilisation", SEVERITY["high_utilisation"], "utilisation",
                     utilisation[i], threshold, *texts))
    return flag_frame(rows)


def _over_limit_flags(
    ids: np.ndarray, exposure: np.ndarray, limit_in_force: np.ndarray, base_currency: str | None
) -> pd.DataFrame:
    rows = []
    for i in np.flatnonzero(exposure > limit_in_force):
        key = "flags.over_limit" if limit_in_force[i] > 0 else "flags.over_limit_no_limit"
        texts = flag_texts(
            key,
            value=lambda loc, v=exposure[i]: format_value(v, "amount", locale=loc, base_currency=base_currency),
            threshold=lambda loc, t=limit_in_force[i]: format_value(
                t, "amount", locale=loc, base_currency=base_currency
            ),
        )
        rows.append((ids[i], "over_limit", SEVERITY["over_limit"], "open_exposure",
                     exposure[i], limit_in_force[i], *texts))
    return flag_frame(rows)


def _statement_flags(
    scored: pd.DataFrame, ids: np.ndarray, params: FlagParams, as_of: date
) -> pd.DataFrame:
    age = _floats(scored["statement_age_months"])
    has_statements = scored["has_statements"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    invoices = _floats(scored["invoice_count_12m"])
    rows = []
    stale_limit = params.stale_statement_months
    for i in np.flatnonzero(age > stale_limit):
        texts = flag_texts(
            "flags.stale_statements",
            value=lambda loc, v=age[i]: format_value(v, "months", locale=loc),
            threshold=lambda loc: format_value(stale_limit, "months", locale=loc),
        )
        rows.append((ids[i], "stale_statements", SEVERITY["stale_statements"], "statement_age_months",
                     age[i], stale_limit, *texts))

    # The features leave the age missing when the latest statement is older than
    # their window: such a customer is the stalest of all, not an unflagged one.
    for i in np.flatnonzero(has_statements & np.isnan(age)):
        texts = flag_texts(
            "flags.stale_statements_unused",
            threshold=lambda loc: format_value(stale_limit, "months", locale=loc),
        )
        rows.append((ids[i], "stale_statements", SEVERITY["stale_statements"], "statement_age_months",
                     np.nan, stale_limit, *texts))

    for i in np.flatnonzero(~has_statements):
        texts = flag_texts("flags.missing_statements", as_of=lambda loc: as_of.isoformat())
        rows.append((ids[i], "missing_statements", SEVERITY["missing_statements"], "has_statements",
                     np.nan, np.nan, *texts))

    # A missing invoice count cannot show the file is thick, so it counts as thin.
    limit = params.thin_file_max_invoices
    thin = ~has_statements & ((invoices < limit) | np.isnan(invoices))
    for i in np.flatnonzero(thin):
        texts = flag_texts(
            "flags.thin_file",
            value=lambda loc, v=invoices[i]: format_value(v, "count", locale=loc),
            threshold=lambda loc: format_value(limit, "count", locale=loc),
        )
        rows.append((ids[i], "thin_file", SEVERITY["thin_file"], "invoice_count_12m",
                     invoices[i], float(limit), *texts))
    return flag_frame(rows)


def _unseen_flags(unseen: pd.DataFrame | None) -> pd.DataFrame:
    if unseen is None:
        return flag_frame([])
    rows = []
    for customer_id, column, value in unseen[list(UNSEEN_COLUMNS)].itertuples(index=False):
        label_en, label_zh = _LABELS.get(column, (column, column))
        labels = {"en": label_en, "zh_CN": label_zh}
        texts = flag_texts(
            "flags.unseen_category",
            feature=lambda loc: labels[loc],
            category=lambda loc, v=value: format_value(v, "category", locale=loc),
        )
        rows.append((customer_id, "unseen_category", SEVERITY["unseen_category"], column,
                     np.nan, np.nan, *texts))
    return flag_frame(rows)


def _review_flags(limits: pd.DataFrame, base_currency: str | None) -> pd.DataFrame:
    needs_review = limits["needs_review"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    reasons = limits["review_reason"] if "review_reason" in limits.columns else pd.Series([None] * len(limits))
    ids = limits["customer_id"].to_numpy(dtype=object)
    current = _floats(limits["current_limit"])
    proposed = _floats(limits["proposed_limit"])
    rows = []
    for i in np.flatnonzero(needs_review):
        reason = reasons.iloc[i]
        reason_key = f"flags.review.{reason}"
        if pd.isna(reason) or reason_key not in _REVIEW_KEYS:
            reason_key = "flags.review.other"
        texts = flag_texts(
            "flags.review_required",
            reason=lambda loc, k=reason_key: translate(k, loc),
            current=lambda loc, v=current[i]: format_value(v, "amount", locale=loc, base_currency=base_currency),
            proposed=lambda loc, v=proposed[i]: format_value(v, "amount", locale=loc, base_currency=base_currency),
        )
        rows.append((ids[i], "review_required", SEVERITY["review_required"], "proposed_limit",
                     proposed[i], np.nan, *texts))
    return flag_frame(rows)


_REVIEW_KEYS = {
    "flags.review.stale_statements_for_increase",
    "flags.review.missing_inputs",
    "flags.review.locked_missing_inputs",
    "flags.review.locked_zero_proposal",
    "flags.review.locked_expired_limit",
}


def flag_texts(key: str, **parts: object) -> tuple[str, str]:
    """Render ``key`` in zh_CN and en. A part is a value or a function of the locale."""
    rendered = []
    for locale in ("zh_CN", "en"):
        values = {name: part(locale) if callable(part) else part for name, part in parts.items()}
        rendered.append(translate(key, locale, **values))
    return rendered[0], rendered[1]


def _limit_in_force(scored: pd.DataFrame, as_of: date) -> np.ndarray:
    """Return the current limit in force at ``as_of``: 0 when missing, zero or expired."""
    current = _floats(scored["current_limit"])
    expired = (pd.to_datetime(scored["limit_valid_to"]) < pd.Timestamp(as_of)).to_numpy(dtype=bool)
    return np.where((current > 0) & ~expired, current, 0.0)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputDataError("flags.missing_columns", frame=name, columns=missing)


def flag_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(FLAG_COLUMNS)) if rows else _empty()


def _empty() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="float64" if column in ("value", "threshold") else "str")
                         for column in FLAG_COLUMNS})


def typed_flags(flags: pd.DataFrame) -> pd.DataFrame:
    typed = {}
    for column in FLAG_COLUMNS:
        dtype = "float64" if column in ("value", "threshold") else "str"
        typed[column] = flags[column].astype(dtype)
    return pd.DataFrame(typed)


def _invalid(key: str, value: object, rule_en: str, rule_zh: str) -> ParamsError:
    return ParamsError("flags.invalid_param", param=key, value=value, rule_en=rule_en, rule_zh=rule_zh)


def _number(mapping: Mapping[str, object], key: str) -> float:
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(key, value, "a finite number", "有限数值")
    return float(value)


def _is_whole(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _floats(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
