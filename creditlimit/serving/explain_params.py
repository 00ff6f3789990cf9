"""Explanation parameters: the validated ``explain`` section of params.yaml.

The section sets how a change since the previous run is attributed to its causes
and which actions the search for a restoring change may take.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

from creditlimit.errors import ParamsError
from creditlimit.features.catalog import FEATURES
from creditlimit.i18n import register

__all__ = ["ExplainParams", "RESTORE_ACTIONS"]

# Actions a customer can take, each with its wording. The params choose which
# features each action moves and to what target.
RESTORE_ACTIONS = ("pay_overdue", "pay_on_time", "resolve_disputes", "reduce_leverage", "improve_liquidity")

register({
    "explain.missing_param": {
        "en": "Explanation parameter explain.{param} is missing. Add it to the explain section of params.yaml.",
        "zh_CN": "缺少解释参数 explain.{param}。请在 params.yaml 的 explain 部分添加该参数。",
    },
    "explain.unknown_param": {
        "en": "Unknown explanation parameter explain.{param}. Remove it or correct its spelling. Known parameters: {known}.",
        "zh_CN": "未知的解释参数 explain.{param}。请删除该参数或更正拼写，可用参数为 {known}。",
    },
    "explain.invalid_param": {
        "en": (
            "Invalid explanation parameter explain.{param}: it must be {rule_en}, but got {value}. "
            "Correct the value in the explain section of params.yaml."
        ),
        "zh_CN": "解释参数 explain.{param} 无效：应为{rule_zh}，实际为 {value}。请在 params.yaml 的 explain 部分修正该值。",
    },
})

_NUMERIC_FEATURES = {spec.name for spec in FEATURES if spec.unit != "category"}


@dataclass(frozen=True)
class ExplainParams:
    """Validated ``explain`` section of params.yaml.

    Attributes
    ----------
    top_causes : int
        Most feature causes listed per changed customer.
    min_contribution_change : float
        A feature is a cause when its SHAP contribution moved by at least this
        much, in log-odds.
    min_relative_change : float
        Trading need or capacity is a cause when it moved by at least this share
        of its previous value.
    restore_steps : tuple of float
        Shares of the way from a feature's value to its action target tried by
        the restore search, strictly increasing in (0, 1].
    restore_max_actions : int
        Most actions combined in one restoring change.
    restore_actions : Mapping[str, Mapping[str, float]]
        Action name (one of ``RESTORE_ACTIONS``) to the targets of the numeric
        model features it moves. A feature with a monotone constraint only moves
        towards a lower PD; an unconstrained one moves as a consequence of the
        action (paying overdue invoices lowers the overdue amount).
    """

    top_causes: int
    min_contribution_change: float
    min_relative_change: float
    restore_steps: tuple[float, ...]
    restore_max_actions: int
    restore_actions: Mapping[str, Mapping[str, float]]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> ExplainParams:
        """Validate the ``explain`` section of params.yaml into a frozen object.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        known = [field.name for field in fields(cls)]
        for key in mapping:
            if key not in known:
                raise ParamsError("explain.unknown_param", param=key, known=", ".join(known))
        for key in known:
            if key not in mapping:
                raise ParamsError("explain.missing_param", param=key)
        return cls(
            top_causes=_whole(mapping, "top_causes", 1),
            min_contribution_change=_non_negative(mapping, "min_contribution_change"),
            min_relative_change=_non_negative(mapping, "min_relative_change"),
            restore_steps=_steps(mapping["restore_steps"]),
            restore_max_actions=_whole(mapping, "restore_max_actions", 1),
            restore_actions=_actions(mapping["restore_actions"]),
        )


def _whole(mapping: Mapping[str, object], key: str, minimum: int) -> int:
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _invalid(key, value, f"a whole number, at least {minimum}", f"不小于 {minimum} 的整数")
    return value


def _non_negative(mapping: Mapping[str, object], key: str) -> float:
    value = mapping[key]
    if not _is_number(value) or value < 0:
        raise _invalid(key, value, "a finite number of at least 0", "不小于 0 的有限数值")
    return float(value)


def _steps(value: object) -> tuple[float, ...]:
    valid = (isinstance(value, (list, tuple)) and value and all(_is_number(v) and 0 < v <= 1 for v in value)
             and all(b > a for a, b in zip(value, value[1:])))
    if not valid:
        raise _invalid("restore_steps", value, "a strictly increasing list of shares in (0, 1]",
                       "区间 (0, 1] 内严格递增的比例列表")
    return tuple(float(v) for v in value)


def _actions(value: object) -> Mapping[str, Mapping[str, float]]:
    if not isinstance(value, Mapping) or not value:
        raise _invalid("restore_actions", value, f"a mapping of actions ({', '.join(RESTORE_ACTIONS)}) to targets",
                       f"动作（{', '.join(RESTORE_ACTIONS)}）到目标值的映射")
    actions = {}
    for name, targets in value.items():
        key = f"restore_actions.{name}"
        if name not in RESTORE_ACTIONS:
            raise _invalid(key, name, f"one of {', '.join(RESTORE_ACTIONS)}", f"{', '.join(RESTORE_ACTIONS)} 之一")
        if not isinstance(targets, Mapping) or not targets:
            raise _invalid(key, targets, "a mapping of numeric model features to target values",
                           "数值型模型特征到目标值的映射")
        for feature, target in targets.items():
            if feature not in _NUMERIC_FEATURES or not _is_number(target):
                raise _invalid(f"{key}.{feature}", target,
                               "a finite target of a numeric model feature of the feature catalog",
                               "特征目录中数值型模型特征的有限目标值")
        actions[name] = MappingProxyType({feature: float(t) for feature, t in targets.items()})
    return MappingProxyType(actions)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _invalid(key: str, value: object, rule_en: str, rule_zh: str) -> ParamsError:
    return ParamsError("explain.invalid_param", param=key, value=value, rule_en=rule_en, rule_zh=rule_zh)
