"""Policy parameters: the validated ``policy`` section of params.yaml and its messages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

from creditlimit.errors import ParamsError
from creditlimit.i18n import register

__all__ = ["PolicyParams"]

register({
    "policy.missing_param": {
        "en": "Policy parameter policy.{param} is missing. Add it to the policy section of params.yaml.",
        "zh_CN": "缺少策略参数 policy.{param}。请在 params.yaml 的 policy 部分添加该参数。",
    },
    "policy.unknown_param": {
        "en": (
            "Unknown policy parameter policy.{param}. Remove it or correct its spelling. "
            "Known parameters: {known}."
        ),
        "zh_CN": "未知的策略参数 policy.{param}。请删除该参数或更正拼写，可用参数为 {known}。",
    },
    "policy.invalid_param": {
        "en": (
            "Invalid policy parameter policy.{param}: it must be {rule_en}, but got {value}. "
            "Correct the value in the policy section of params.yaml."
        ),
        "zh_CN": (
            "策略参数 policy.{param} 无效：应为{rule_zh}，实际为 {value}。"
            "请在 params.yaml 的 policy 部分修正该值。"
        ),
    },
})


@dataclass(frozen=True)
class PolicyParams:
    """Validated ``policy`` section of params.yaml.

    Attributes
    ----------
    version : str
        Policy version recorded with every decision.
    scale_version : str
        Version of the master scale (the PD bands), recorded on every row so a
        grade migration across a scale change can be told apart.
    pd_upper_bounds : tuple of float
        Master scale: grade g (1 best) covers PDs up to ``pd_upper_bounds[g-1]``.
        Strictly increasing, ending at 1.0.
    review_months_by_grade : tuple of int
        Months until the next review per grade, one whole number of at least 1
        per grade, never longer for a worse grade.
    review_months_watch : int
        Months until the next review of a defaulted (grade D), suspended or
        ungraded customer.
    cutoff_grade : int
        Grades above this get a zero limit (cash in advance).
    grade_factors : tuple of float
        Limit multiplier per grade, in [0, 1] and non-increasing. A factor of 0
        is a zero limit, the same as a grade above the cut-off.
    industry_factors : Mapping of str to float
        Read-only limit multiplier per industry, at least 0.
    default_industry_factor : float
        Multiplier for an industry not listed, or a missing industry.
    equity_share, revenue_share : float
        Capacity limit = min(equity × equity_share, revenue × revenue_share).
    need_buffer_days : float
        Days added to the payment terms for the need limit.
    lgd : float
        Loss given default in (0, 1].
    max_expected_loss : float
        Expected-loss cap in base currency: limit ≤ max_expected_loss / (PD × LGD).
    min_limit, max_limit : float
        Policy floor and ceiling of a granted limit, base currency.
    rounding_unit : float
        Limits are rounded down to a multiple of this.
    thin_file_max_limit : float
        Ceiling for customers without a usable statement.
    new_customer_months : float
        A customer with a tenure below this many months is new: its need uses
        the average monthly volume over its months of tenure. 0 turns the rule off.
    new_customer_limit : float
        Starting base (before the grade and industry factors) of a new customer
        that has not been invoiced yet, base currency, at most ``max_limit``.
    group_capacity_multiple : float or None
        Group cap as a multiple of the members' combined capacity; None for no
        capacity-based group cap.
    group_max_limit : float or None
        Absolute group cap in base currency; None for none. With both set, the
        lower cap applies; with neither, groups are not capped.
    max_statement_age_months : float
        An increase needs a statement at most this old.
    max_dpd_for_increase : float
        An increase needs the oldest open invoice to be less than this many days
        past due.
    max_step_up : float
        Largest increase per cycle as a share of the current limit.
    max_step_down : float
        Largest decrease per cycle as a share of the current limit, in [0, 1].
    notice_threshold : float
        A decrease by more than this share of the current limit waits
        ``notice_days`` and comes with a customer notice.
    notice_days : int
        Notice period in calendar days.
    """

    version: str
    scale_version: str
    pd_upper_bounds: tuple[float, ...]
    review_months_by_grade: tuple[int, ...]
    review_months_watch: int
    cutoff_grade: int
    grade_factors: tuple[float, ...]
    industry_factors: Mapping[str, float]
    default_industry_factor: float
    equity_share: float
    revenue_share: float
    need_buffer_days: float
    lgd: float
    max_expected_loss: float
    min_limit: float
    max_limit: float
    rounding_unit: float
    thin_file_max_limit: float
    new_customer_months: float
    new_customer_limit: float
    group_capacity_multiple: float | None
    group_max_limit: float | None
    max_statement_age_months: float
    max_dpd_for_increase: float
    max_step_up: float
    max_step_down: float
    notice_threshold: float
    notice_days: int

    @property
    def n_grades(self) -> int:
        """Number of non-default grades on the master scale."""
        return len(self.pd_upper_bounds)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> PolicyParams:
        """Validate the ``policy`` section of params.yaml into a frozen object.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule. The
            message names the key, the rule and the value received.
        """
        known = [field.name for field in fields(cls)]
        for key in mapping:
            if key not in known:
                raise ParamsError("policy.unknown_param", param=key, known=", ".join(known))
        for key in known:
            if key not in mapping:
                raise ParamsError("policy.missing_param", param=key)

        values = dict(_check_scale(mapping))
        values.update(_check_factors(mapping, n_grades=len(values["pd_upper_bounds"])))
        values.update(_check_amounts(mapping))
        values.update(_check_adjustment(mapping))
        values.update(_check_review(mapping, n_grades=len(values["pd_upper_bounds"])))
        values.update(_check_new_customers_and_groups(mapping, values))
        return cls(**values)

    @property
    def groups_capped(self) -> bool:
        """True when at least one group cap is configured."""
        return self.group_capacity_multiple is not None or self.group_max_limit is not None


# ---------------------------------------------------------------- parameter checks


def _invalid(key: str, value: object, rule_en: str, rule_zh: str) -> ParamsError:
    return ParamsError("policy.invalid_param", param=key, value=value, rule_en=rule_en, rule_zh=rule_zh)


def _number(mapping: Mapping[str, object], key: str) -> float:
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(key, value, "a finite number", "有限数值")
    return float(value)


def _in_range(
    mapping: Mapping[str, object], key: str, low: float, high: float, *, open_low: bool = False
) -> float:
    value = _number(mapping, key)
    too_low = value <= low if open_low else value < low
    if too_low or value > high:
        bracket = "(" if open_low else "["
        interval = f"{bracket}{low:g}, {high:g}]"
        raise _invalid(key, value, f"in {interval}", f"区间 {interval} 内的数值")
    return value


def _positive(mapping: Mapping[str, object], key: str) -> float:
    value = _number(mapping, key)
    if value <= 0:
        raise _invalid(key, value, "greater than 0", "大于 0 的数值")
    return value


def _non_negative(mapping: Mapping[str, object], key: str) -> float:
    value = _number(mapping, key)
    if value < 0:
        raise _invalid(key, value, "at least 0", "不小于 0 的数值")
    return value


def _number_list(mapping: Mapping[str, object], key: str) -> tuple[float, ...]:
    value = mapping[key]
    if not isinstance(value, (list, tuple)) or not value:
        raise _invalid(key, value, "a non-empty list of numbers", "非空数值列表")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise _invalid(key, value, "a non-empty list of finite numbers", "由有限数值组成的非空列表")
    return tuple(float(item) for item in value)


def _check_scale(mapping: Mapping[str, object]) -> dict[str, object]:
    versions = {}
    for key in ("version", "scale_version"):
        versions[key] = mapping[key]
        if not isinstance(versions[key], str) or not versions[key].strip():
            raise _invalid(key, versions[key], 'a quoted text such as "2026.1"', '带引号的文本，例如 "2026.1"')

    bounds = _number_list(mapping, "pd_upper_bounds")
    increasing = all(b > a for a, b in zip(bounds, bounds[1:]))
    if not increasing or bounds[0] <= 0 or bounds[-1] != 1.0:
        raise _invalid(
            "pd_upper_bounds", list(bounds),
            "PDs in (0, 1], strictly increasing and ending at 1.0",
            "位于 (0, 1] 的违约概率，严格递增且以 1.0 结尾",
        )

    cutoff = mapping["cutoff_grade"]
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or not 1 <= cutoff <= len(bounds):
        raise _invalid(
            "cutoff_grade", cutoff,
            f"a whole grade from 1 to {len(bounds)}", f"1 至 {len(bounds)} 之间的整数等级",
        )
    return {**versions, "pd_upper_bounds": bounds, "cutoff_grade": cutoff}


def _check_factors(mapping: Mapping[str, object], *, n_grades: int) -> dict[str, object]:
    grade_factors = _number_list(mapping, "grade_factors")
    in_unit = all(0.0 <= f <= 1.0 for f in grade_factors)
    non_increasing = all(b <= a for a, b in zip(grade_factors, grade_factors[1:]))
    if len(grade_factors) != n_grades or not in_unit or not non_increasing:
        raise _invalid(
            "grade_factors", list(grade_factors),
            f"{n_grades} factors (one per grade) in [0, 1] that never increase from grade 1 to {n_grades}",
            f"{n_grades} 个系数（每级一个），位于 [0, 1] 且从 1 级到 {n_grades} 级不递增",
        )

    industry = mapping["industry_factors"]
    if not isinstance(industry, Mapping):
        raise _invalid("industry_factors", industry, "a mapping of industry to factor", "行业到系数的映射")
    for name, factor in industry.items():
        valid = not isinstance(factor, bool) and isinstance(factor, (int, float))
        if not isinstance(name, str) or not name or not valid or not math.isfinite(factor) or factor < 0:
            raise _invalid(
                f"industry_factors.{name}", factor,
                "a finite number of at least 0 under a non-empty industry name",
                "非空行业名称下不小于 0 的有限数值",
            )
    return {
        "grade_factors": grade_factors,
        "industry_factors": MappingProxyType({k: float(v) for k, v in industry.items()}),
        "default_industry_factor": _non_negative(mapping, "default_industry_factor"),
        "equity_share": _in_range(mapping, "equity_share", 0.0, 1.0, open_low=True),
        "revenue_share": _in_range(mapping, "revenue_share", 0.0, 1.0, open_low=True),
        "need_buffer_days": _non_negative(mapping, "need_buffer_days"),
        "lgd": _in_range(mapping, "lgd", 0.0, 1.0, open_low=True),
    }


def _check_amounts(mapping: Mapping[str, object]) -> dict[str, float]:
    values = {
        "max_expected_loss": _positive(mapping, "max_expected_loss"),
        "min_limit": _non_negative(mapping, "min_limit"),
        "max_limit": _positive(mapping, "max_limit"),
        "rounding_unit": _positive(mapping, "rounding_unit"),
        "thin_file_max_limit": _non_negative(mapping, "thin_file_max_limit"),
    }
    unit = values["rounding_unit"]
    for key in ("min_limit", "max_limit", "thin_file_max_limit"):
        steps = values[key] / unit
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            raise _invalid(
                key, values[key],
                f"a multiple of rounding_unit ({unit:g}) so rounding down keeps the limits",
                f"rounding_unit（{unit:g}）的整数倍，以便向下取整后仍满足限额",
            )
    if values["min_limit"] > values["max_limit"]:
        raise _invalid(
            "min_limit", values["min_limit"],
            f"at most max_limit ({values['max_limit']:g})", f"不大于 max_limit（{values['max_limit']:g}）",
        )
    if not values["min_limit"] <= values["thin_file_max_limit"] <= values["max_limit"]:
        raise _invalid(
            "thin_file_max_limit", values["thin_file_max_limit"],
            f"between min_limit ({values['min_limit']:g}) and max_limit ({values['max_limit']:g})",
            f"介于 min_limit（{values['min_limit']:g}）与 max_limit（{values['max_limit']:g}）之间",
        )
    # At PD 1 the expected-loss cap is max_expected_loss / lgd, and the floor must not exceed it.
    lgd = _in_range(mapping, "lgd", 0.0, 1.0, open_low=True)
    if values["max_expected_loss"] / lgd < values["min_limit"]:
        raise _invalid(
            "max_expected_loss", values["max_expected_loss"],
            f"at least min_limit × lgd ({values['min_limit'] * lgd:g}) so the floor never breaks the expected-loss cap",
            f"不小于 min_limit × lgd（{values['min_limit'] * lgd:g}），使最低额度不突破预期损失上限",
        )
    return values


def _check_adjustment(mapping: Mapping[str, object]) -> dict[str, object]:
    notice_days = mapping["notice_days"]
    if isinstance(notice_days, bool) or not isinstance(notice_days, int) or notice_days < 0:
        raise _invalid("notice_days", notice_days, "a whole number of days, at least 0", "不小于 0 的整数天数")
    return {
        "max_statement_age_months": _positive(mapping, "max_statement_age_months"),
        "max_dpd_for_increase": _positive(mapping, "max_dpd_for_increase"),
        "max_step_up": _non_negative(mapping, "max_step_up"),
        "max_step_down": _in_range(mapping, "max_step_down", 0.0, 1.0),
        "notice_threshold": _in_range(mapping, "notice_threshold", 0.0, 1.0),
        "notice_days": notice_days,
    }


def _whole(key: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _invalid(key, value, f"a whole number of at least {low}", f"不小于 {low} 的整数")
    return value


def _check_review(mapping: Mapping[str, object], *, n_grades: int) -> dict[str, object]:
    months = mapping["review_months_by_grade"]
    rule_en = (f"{n_grades} whole numbers of months (one per grade), at least 1, "
               f"that never increase from grade 1 to {n_grades}")
    rule_zh = f"{n_grades} 个整数月数（每级一个），不小于 1，且从 1 级到 {n_grades} 级不递增"
    if not isinstance(months, (list, tuple)) or len(months) != n_grades:
        raise _invalid("review_months_by_grade", months, rule_en, rule_zh)
    whole = all(not isinstance(m, bool) and isinstance(m, int) and m >= 1 for m in months)
    if not whole or any(b > a for a, b in zip(months, months[1:])):
        raise _invalid("review_months_by_grade", list(months), rule_en, rule_zh)
    return {
        "review_months_by_grade": tuple(months),
        "review_months_watch": _whole("review_months_watch", mapping["review_months_watch"], 1),
    }


def _optional_positive(mapping: Mapping[str, object], key: str) -> float | None:
    if mapping[key] is None:
        return None
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise _invalid(key, value, "a number greater than 0, or null for none", "大于 0 的数值，或 null 表示不设")
    return float(value)


def _check_new_customers_and_groups(mapping: Mapping[str, object], values: Mapping[str, object]) -> dict[str, object]:
    max_limit = values["max_limit"]
    new_limit = _non_negative(mapping, "new_customer_limit")
    if new_limit > max_limit:
        raise _invalid("new_customer_limit", new_limit, f"at most max_limit ({max_limit:g})",
                       f"不大于 max_limit（{max_limit:g}）")
    group_max = _optional_positive(mapping, "group_max_limit")
    unit = values["rounding_unit"]
    if group_max is not None and abs(group_max / unit - round(group_max / unit)) > 1e-9 * max(1.0, group_max / unit):
        raise _invalid(
            "group_max_limit", group_max,
            f"a multiple of rounding_unit ({unit:g}) so rounded limits can fill it",
            f"rounding_unit（{unit:g}）的整数倍，以便取整后的额度可以用足",
        )
    return {
        "new_customer_months": _non_negative(mapping, "new_customer_months"),
        "new_customer_limit": new_limit,
        "group_capacity_multiple": _optional_positive(mapping, "group_capacity_multiple"),
        "group_max_limit": group_max,
    }
