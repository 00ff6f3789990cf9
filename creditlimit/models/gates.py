"""Promotion gates: the checks a newly trained PD model must pass to become champion."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

from creditlimit.errors import ParamsError
from creditlimit.i18n import register, translate

__all__ = ["GATE_NAMES", "GateResult", "GateThresholds", "evaluate_gates"]

# Order of the gates in every report.
GATE_NAMES = (
    "min_oot_auc",
    "min_oot_ks",
    "max_oot_ece",
    "max_score_psi",
    "max_auc_drop_vs_champion",
)

register({
    "model.gates.duplicate_auc": {
        "en": (
            "train.gates.min_oot_auc is not allowed: the OOT AUC threshold is "
            "train.min_oot_auc. Remove it from train.gates."
        ),
        "zh_CN": "不允许 train.gates.min_oot_auc：跨时间测试 AUC 的阈值是 train.min_oot_auc。请将其从 train.gates 中删除。",
    },
    "model.gates.not_mapping": {
        "en": "train.gates must be a mapping of gate name to threshold; got {value!r}.",
        "zh_CN": "train.gates 必须是“门槛名称: 阈值”的映射；实际为 {value!r}。",
    },
    "model.gates.missing": {
        "en": "train.gates: required threshold(s) {names} missing. Add them to params.yaml.",
        "zh_CN": "train.gates：缺少必需的阈值 {names}。请在 params.yaml 中添加。",
    },
    "model.gates.unknown": {
        "en": "train.gates: unknown threshold(s) {names}; allowed: {allowed}.",
        "zh_CN": "train.gates：未知的阈值 {names}；允许的名称：{allowed}。",
    },
    "model.gates.invalid_threshold": {
        "en": "train.gates.{name} must be a number in [{low}, {high}]; got {value!r}.",
        "zh_CN": "train.gates.{name} 必须是 [{low}, {high}] 区间内的数值；实际为 {value!r}。",
    },
    "model.gates.label.min_oot_auc": {"en": "OOT AUC", "zh_CN": "跨时间测试 AUC"},
    "model.gates.label.min_oot_ks": {"en": "OOT KS", "zh_CN": "跨时间测试 KS"},
    "model.gates.label.max_oot_ece": {
        "en": "OOT expected calibration error",
        "zh_CN": "跨时间测试期望校准误差",
    },
    "model.gates.label.max_score_psi": {
        "en": "score PSI (train vs OOT)",
        "zh_CN": "评分 PSI（训练集对跨时间测试集）",
    },
    "model.gates.label.max_auc_drop_vs_champion": {
        "en": "OOT AUC drop versus the champion",
        "zh_CN": "跨时间测试 AUC 相对冠军模型的下降",
    },
    "model.gates.min_passed": {
        "en": "{name}: {label} {shown} is at least the minimum {threshold}: passed.",
        "zh_CN": "{name}：{label} {shown} 不低于下限 {threshold}：通过。",
    },
    "model.gates.min_failed": {
        "en": "{name}: {label} {shown} is below the minimum {threshold}: failed.",
        "zh_CN": "{name}：{label} {shown} 低于下限 {threshold}：未通过。",
    },
    "model.gates.max_passed": {
        "en": "{name}: {label} {shown} is at most the maximum {threshold}: passed.",
        "zh_CN": "{name}：{label} {shown} 不高于上限 {threshold}：通过。",
    },
    "model.gates.max_failed": {
        "en": "{name}: {label} {shown} is above the maximum {threshold}: failed.",
        "zh_CN": "{name}：{label} {shown} 高于上限 {threshold}：未通过。",
    },
    "model.gates.undefined": {
        "en": "{name}: {label} is undefined ({reason}), so the gate fails (threshold {threshold}).",
        "zh_CN": "{name}：{label} 未定义（{reason}），因此未通过（阈值 {threshold}）。",
    },
    "model.gates.champion_undefined": {
        "en": "{name}: the champion's AUC on the same OOT rows is undefined, so the gate fails (threshold {threshold}).",
        "zh_CN": "{name}：冠军模型在相同跨时间测试行上的 AUC 未定义，因此未通过（阈值 {threshold}）。",
    },
    "model.gates.no_champion": {
        "en": "{name}: no current champion to compare with: passed.",
        "zh_CN": "{name}：当前没有可比较的冠军模型：通过。",
    },
    "model.gates.champion_detail": {
        "en": " (champion {champion}, candidate {candidate} on the same OOT rows)",
        "zh_CN": "（相同跨时间测试行上冠军 {champion}，候选 {candidate}）",
    },
})

_LOCALES = {"en": "en", "zh": "zh_CN"}


@dataclass(frozen=True)
class GateThresholds:
    """Thresholds of the promotion gates (``train.min_oot_auc`` and ``train.gates``).

    Attributes
    ----------
    min_oot_auc : float
        Minimum out-of-time AUC (raw margin), in [0, 1].
    min_oot_ks : float
        Minimum out-of-time KS statistic, in [0, 1].
    max_oot_ece : float
        Maximum out-of-time expected calibration error of the PD, in [0, 1].
    max_score_psi : float
        Maximum PSI of the raw score between the training and out-of-time parts, >= 0.
    max_auc_drop_vs_champion : float
        Maximum amount by which the candidate's OOT AUC may trail the current
        champion's AUC on the same OOT rows, in [0, 1].
    """

    min_oot_auc: float
    min_oot_ks: float
    max_oot_ece: float
    max_score_psi: float
    max_auc_drop_vs_champion: float

    @classmethod
    def from_mapping(cls, mapping: Mapping) -> GateThresholds:
        """Validate a mapping with one number per gate and build the thresholds.

        Raises
        ------
        ParamsError
            If the mapping is not a mapping, a threshold is missing or unknown, or a
            value is not a number in its range.
        """
        if not isinstance(mapping, Mapping):
            raise ParamsError("model.gates.not_mapping", value=mapping)
        allowed = [item.name for item in fields(cls)]
        unknown = sorted(str(key) for key in mapping if key not in allowed)
        if unknown:
            raise ParamsError("model.gates.unknown", names=", ".join(unknown), allowed=", ".join(allowed))
        missing = [name for name in allowed if name not in mapping]
        if missing:
            raise ParamsError("model.gates.missing", names=", ".join(missing))
        return cls(**{name: _threshold(name, mapping[name]) for name in allowed})

    @classmethod
    def from_train_section(cls, train: Mapping) -> GateThresholds:
        """Build the thresholds from the ``train`` section: ``min_oot_auc`` plus ``gates``.

        Raises
        ------
        ParamsError
            As :meth:`from_mapping`, and if ``train.gates`` repeats ``min_oot_auc``.
        """
        gates = train.get("gates", {})
        if not isinstance(gates, Mapping):
            raise ParamsError("model.gates.not_mapping", value=gates)
        if "min_oot_auc" in gates:
            raise ParamsError("model.gates.duplicate_auc")
        return cls.from_mapping({**gates, "min_oot_auc": train.get("min_oot_auc")})


@dataclass(frozen=True)
class GateResult:
    """Outcome of one promotion gate.

    Attributes
    ----------
    name : str
        Gate name, one of :data:`GATE_NAMES`.
    value : float or None
        Measured value (for the champion gate, champion AUC minus candidate AUC);
        None when undefined or when there is no champion.
    threshold : float
        Threshold the value was compared with.
    passed : bool
        Whether the gate passed.
    text_en, text_zh : str
        The result in English and in Simplified Chinese.
    """

    name: str
    value: float | None
    threshold: float
    passed: bool
    text_en: str
    text_zh: str

    def text(self, locale: str) -> str:
        """Return the text in ``locale`` (``zh_CN`` or ``zh`` for Chinese, else English)."""
        return self.text_zh if locale.lower().startswith("zh") else self.text_en

    def to_dict(self) -> dict:
        """Return the result as a JSON-safe dictionary."""
        return {
            "name": self.name, "value": self.value, "threshold": self.threshold,
            "passed": self.passed, "text_en": self.text_en, "text_zh": self.text_zh,
        }


def evaluate_gates(
    *,
    metrics: Mapping[str, Mapping],
    stability: Mapping,
    champion_auc: float | None,
    thresholds: GateThresholds,
) -> list[GateResult]:
    """Check every promotion gate of a candidate model.

    Parameters
    ----------
    metrics : Mapping
        Per-part metrics of the candidate (``metrics["oot"]`` with ``auc``, ``ks``,
        ``ece`` and ``undefined``, as written by the train stage).
    stability : Mapping
        Stability record with ``score_psi`` (None when undefined).
    champion_auc : float or None
        AUC of the current champion on the same out-of-time rows; None when there is
        no champion, in which case the champion gate passes. NaN means the
        champion's AUC is undefined, and the gate fails.
    thresholds : GateThresholds

    Returns
    -------
    list of GateResult
        One result per gate, in the order of :data:`GATE_NAMES`. A metric that is
        undefined fails its gate.
    """
    oot = metrics.get("oot", {})
    # NOTE: the reasons of undefined metrics are English in both texts, because the
    # metrics record stores them in English only.
    undefined = oot.get("undefined", {})
    psi_reason = "score PSI missing"
    return [
        _compare("min_oot_auc", oot.get("auc"), thresholds.min_oot_auc, minimum=True,
                 reason=undefined.get("auc", "missing")),
        _compare("min_oot_ks", oot.get("ks"), thresholds.min_oot_ks, minimum=True,
                 reason=undefined.get("ks", "missing")),
        _compare("max_oot_ece", oot.get("ece"), thresholds.max_oot_ece, minimum=False,
                 reason=undefined.get("ece", "missing")),
        _compare("max_score_psi", stability.get("score_psi"), thresholds.max_score_psi,
                 minimum=False, reason=psi_reason),
        _champion_gate(oot.get("auc"), champion_auc, thresholds.max_auc_drop_vs_champion,
                       reason=undefined.get("auc", "missing")),
    ]


def _compare(
    name: str, value: float | None, threshold: float, *, minimum: bool, reason: str,
    detail: Mapping[str, str] | None = None,
) -> GateResult:
    if not _is_number(value):
        return _result(name, None, threshold, False, "model.gates.undefined", reason=reason)
    passed = value >= threshold if minimum else value <= threshold
    key = f"model.gates.{'min' if minimum else 'max'}_{'passed' if passed else 'failed'}"
    return _result(name, float(value), threshold, passed, key, shown=f"{value:.4f}", detail=detail)


def _champion_gate(
    candidate_auc: float | None, champion_auc: float | None, threshold: float, *, reason: str
) -> GateResult:
    name = "max_auc_drop_vs_champion"
    if champion_auc is None:
        return _result(name, None, threshold, True, "model.gates.no_champion")
    if not _is_number(candidate_auc):
        return _result(name, None, threshold, False, "model.gates.undefined", reason=reason)
    if not _is_number(champion_auc):
        return _result(name, None, threshold, False, "model.gates.champion_undefined")
    detail = {"champion": f"{champion_auc:.4f}", "candidate": f"{candidate_auc:.4f}"}
    # Rounded so that a drop equal to the margin in decimals (0.80 - 0.78 against
    # 0.02) passes despite binary floating-point error.
    drop = round(champion_auc - candidate_auc, 12)
    return _compare(name, drop, threshold, minimum=False, reason=reason, detail=detail)


def _result(
    name: str, value: float | None, threshold: float, passed: bool, key: str,
    detail: Mapping[str, str] | None = None, **params: object,
) -> GateResult:
    texts = {}
    for short, locale in _LOCALES.items():
        label = translate(f"model.gates.label.{name}", locale)
        if detail is not None:
            label += translate("model.gates.champion_detail", locale, **detail)
        texts[short] = translate(key, locale, name=name, label=label,
                                 threshold=f"{threshold:.4f}", **params)
    return GateResult(name=name, value=value, threshold=threshold, passed=passed,
                      text_en=texts["en"], text_zh=texts["zh"])


def _threshold(name: str, value: object) -> float:
    high = math.inf if name == "max_score_psi" else 1.0
    if not _is_number(value) or not 0.0 <= value <= high:
        raise ParamsError("model.gates.invalid_threshold", name=name, low=0, high=high, value=value)
    return float(value)


def _is_number(value: object) -> bool:
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    return valid and math.isfinite(value)
