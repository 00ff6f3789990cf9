"""Validated ``report`` section of params.yaml."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from creditlimit.errors import ParamsError
from creditlimit.i18n import LOCALES, register

__all__ = ["ReportParams"]

register({
    "report.params.missing": {
        "en": "Parameter report.{name} is missing. Add it to the report section of params.yaml.",
        "zh_CN": "缺少参数 report.{name}。请在 params.yaml 的 report 部分添加。",
    },
    "report.params.unknown": {
        "en": "Parameter report.{name} is unknown. Known parameters: {known}.",
        "zh_CN": "参数 report.{name} 无法识别。可用参数：{known}。",
    },
    "report.params.invalid": {
        "en": "Parameter report.{name} must be {rule}; got {value!r}.",
        "zh_CN": "参数 report.{name} 必须{rule_zh}；实际为 {value!r}。",
    },
})

_RULES = {
    "whole": ("a whole number >= 1", "是大于等于 1 的整数"),
    "share": ("a number > 0", "是大于 0 的数"),
    "locales": (f"a non-empty list of distinct locales from {list(LOCALES)}",
                f"是由 {list(LOCALES)} 中不重复的语言组成的非空列表"),
    "buckets": ("a list of increasing whole numbers of days >= 1",
                "是递增的天数（大于等于 1 的整数）列表"),
    "order": ("greater than report.psi_warning", "大于 report.psi_warning"),
}


@dataclass(frozen=True)
class ReportParams:
    """Settings of the credit usage report.

    Attributes
    ----------
    locales : tuple of str
        Languages written; ``index.html`` opens the first.
    history_months : int
        Months of invoice, payment and overdue history on customer pages.
    top_movers : int
        Customers listed among the largest increases and decreases.
    ageing_bucket_days : tuple of int
        Upper bounds (days past due) of the overdue buckets; one more bucket contains
        everything older than the last bound.
    psi_warning, psi_alert : float
        PSI/CSI thresholds of a moderate and a significant shift.
    psi_bins : int
        Quantile bins of the PSI of a numeric variable.
    review_horizon_days : int
        Scheduled reviews due within this many days after as_of are listed.
    waterfall_features : int
        Largest SHAP contributions drawn one by one; the rest form one step.
    """

    locales: tuple[str, ...]
    history_months: int
    top_movers: int
    ageing_bucket_days: tuple[int, ...]
    psi_warning: float
    psi_alert: float
    psi_bins: int
    review_horizon_days: int
    waterfall_features: int

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> ReportParams:
        """Validate the ``report`` section.

        Raises
        ------
        ParamsError
            Naming the key, the rule and the value received.
        """
        known = [name for name in cls.__dataclass_fields__]
        for name in mapping:
            if name not in known:
                raise ParamsError("report.params.unknown", name=name, known=", ".join(known))
        for name in known:
            if name not in mapping:
                raise ParamsError("report.params.missing", name=name)
        params = cls(
            locales=_locales(mapping["locales"]),
            history_months=_whole(mapping, "history_months"),
            top_movers=_whole(mapping, "top_movers"),
            ageing_bucket_days=_buckets(mapping["ageing_bucket_days"]),
            psi_warning=_positive(mapping, "psi_warning"),
            psi_alert=_positive(mapping, "psi_alert"),
            psi_bins=_whole(mapping, "psi_bins"),
            review_horizon_days=_whole(mapping, "review_horizon_days"),
            waterfall_features=_whole(mapping, "waterfall_features"),
        )
        if params.psi_alert <= params.psi_warning:
            _fail("psi_alert", "order", params.psi_alert)
        return params


def _fail(name: str, rule: str, value: object) -> None:
    en, zh = _RULES[rule]
    raise ParamsError("report.params.invalid", name=name, rule=en, rule_zh=zh, value=value)


def _whole(mapping: Mapping[str, object], name: str) -> int:
    value = mapping[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(name, "whole", value)
    return int(value)


def _positive(mapping: Mapping[str, object], name: str) -> float:
    value = mapping[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        _fail(name, "share", value)
    return float(value)


def _locales(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value or len(set(value)) != len(value) \
            or any(item not in LOCALES for item in value):
        _fail("locales", "locales", value)
    return tuple(value)


def _buckets(value: object) -> tuple[int, ...]:
    valid = isinstance(value, list | tuple) and len(value) > 0 and all(
        isinstance(day, int) and not isinstance(day, bool) and day >= 1 for day in value)
    if not valid or list(value) != sorted(set(value)):
        _fail("ageing_bucket_days", "buckets", value)
    return tuple(value)
