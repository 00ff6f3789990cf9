"""Validated ``train.challenger`` parameters of the challenger scorecard."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

from creditlimit.errors import ParamsError
from creditlimit.i18n import register

__all__ = ["BinningOptions", "ChallengerParams"]

register({
    "model.scorecard.param_invalid": {
        "en": "train.challenger.{name} must be {rule}; got {value!r}.",
        "zh_CN": "train.challenger.{name} 必须是{rule_zh}；实际为 {value!r}。",
    },
    "model.scorecard.param_unknown": {
        "en": "{section}: unknown parameter(s) {names}. Allowed parameters: {allowed}.",
        "zh_CN": "{section}：未知参数 {names}。允许的参数：{allowed}。",
    },
    "model.scorecard.param_missing": {
        "en": "train.challenger: required parameter '{name}' is missing. Add it to params.yaml.",
        "zh_CN": "train.challenger：缺少必需参数“{name}”。请在 params.yaml 中添加。",
    },
})


@dataclass(frozen=True)
class BinningOptions:
    """Optimal-binning limits passed to optbinning's ``BinningProcess``.

    Attributes
    ----------
    max_n_prebins : int
        Maximum number of pre-bins before optimisation.
    min_prebin_size : float
        Minimum share of rows in a pre-bin, in (0, 0.5].
    max_n_bins : int
        Maximum number of bins per feature (missing bin not counted).
    min_bin_size : float
        Minimum share of training rows in a bin, in (0, 0.5].
    """

    max_n_prebins: int = 20
    min_prebin_size: float = 0.05
    max_n_bins: int = 8
    min_bin_size: float = 0.05

    @classmethod
    def from_mapping(cls, mapping: object) -> BinningOptions:
        """Validate ``train.challenger.binning``; absent keys keep their defaults."""
        _check_keys("train.challenger.binning", mapping, ("max_n_prebins", "min_prebin_size",
                                                          "max_n_bins", "min_bin_size"))
        values = {**_defaults(cls), **mapping}
        return cls(
            max_n_prebins=_integer("binning.max_n_prebins", values["max_n_prebins"], minimum=2),
            min_prebin_size=_share("binning.min_prebin_size", values["min_prebin_size"]),
            max_n_bins=_integer("binning.max_n_bins", values["max_n_bins"], minimum=2),
            min_bin_size=_share("binning.min_bin_size", values["min_bin_size"]),
        )


@dataclass(frozen=True)
class ChallengerParams:
    """Validated ``train.challenger`` section.

    Attributes
    ----------
    enabled : bool
        Whether the train stage fits, logs and registers the challenger.
    pdo : float
        Points to double the odds: the score rises by ``pdo`` when the good:bad
        odds double. Positive.
    base_points : float
        Score at which the good:bad odds equal ``base_odds``.
    base_odds : float
        Good:bad odds at ``base_points`` (50 means 50 goods per bad). Positive.
    logistic_c : float
        Inverse L2 regularisation strength of the logistic regression. Positive.
    binning : BinningOptions
        Optimal-binning limits.
    """

    enabled: bool
    pdo: float
    base_points: float
    base_odds: float
    logistic_c: float = 1.0
    binning: BinningOptions = field(default_factory=BinningOptions)

    @classmethod
    def from_mapping(cls, mapping: object) -> ChallengerParams:
        """Validate ``train.challenger``.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        allowed = ("enabled", "pdo", "base_points", "base_odds", "logistic_c", "binning")
        _check_keys("train.challenger", mapping, allowed)
        for name in ("enabled", "pdo", "base_points", "base_odds"):
            if name not in mapping:
                raise ParamsError("model.scorecard.param_missing", name=name)
        enabled = mapping["enabled"]
        if not isinstance(enabled, bool):
            raise _invalid("enabled", enabled, "true or false", "true 或 false")
        base_points = mapping["base_points"]
        if not _is_number(base_points):
            raise _invalid("base_points", base_points, "a finite number", "有限数值")
        return cls(
            enabled=enabled,
            pdo=_positive("pdo", mapping["pdo"]),
            base_points=float(base_points),
            base_odds=_positive("base_odds", mapping["base_odds"]),
            logistic_c=_positive("logistic_c", mapping.get("logistic_c", 1.0)),
            binning=BinningOptions.from_mapping(mapping.get("binning", {})),
        )


def _check_keys(section: str, mapping: object, allowed: Sequence[str]) -> None:
    if not isinstance(mapping, Mapping):
        raise ParamsError("model.train.param_not_mapping", section=section, value=mapping)
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise ParamsError("model.scorecard.param_unknown", section=section,
                          names=", ".join(unknown), allowed=", ".join(allowed))


def _defaults(cls: type) -> dict:
    return {item.name: item.default for item in fields(cls)}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(name: str, value: object) -> float:
    if not _is_number(value) or value <= 0:
        raise _invalid(name, value, "a number > 0", "大于 0 的数值")
    return float(value)


def _integer(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _invalid(name, value, f"an integer >= {minimum}", f"大于等于 {minimum} 的整数")
    return int(value)


def _share(name: str, value: object) -> float:
    if not _is_number(value) or not 0 < value <= 0.5:
        raise _invalid(name, value, "a number in (0, 0.5]", "(0, 0.5] 区间内的数值")
    return float(value)


def _invalid(name: str, value: object, rule: str, rule_zh: str) -> ParamsError:
    return ParamsError("model.scorecard.param_invalid", name=name, value=value, rule=rule,
                       rule_zh=rule_zh)
