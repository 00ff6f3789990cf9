"""Tests for creditlimit.models.gates: every promotion gate on hand-built metrics."""

from __future__ import annotations

import math

import pytest

from creditlimit.errors import ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.gates import GATE_NAMES, GateThresholds, evaluate_gates

THRESHOLDS = GateThresholds(
    min_oot_auc=0.70, min_oot_ks=0.30, max_oot_ece=0.05, max_score_psi=0.10,
    max_auc_drop_vs_champion=0.02,
)


def _metrics(**oot) -> dict:
    values = {"auc": 0.80, "ks": 0.45, "ece": 0.02, "undefined": {}}
    values.update(oot)
    return {"oot": values}


def _gates(*, metrics=None, psi=0.01, champion_auc=None) -> dict:
    results = evaluate_gates(
        metrics=metrics or _metrics(), stability={"score_psi": psi},
        champion_auc=champion_auc, thresholds=THRESHOLDS,
    )
    return {result.name: result for result in results}


def test_evaluate_gates_all_pass():
    """A good candidate with no champion passes every gate, listed in order."""
    results = evaluate_gates(metrics=_metrics(), stability={"score_psi": 0.01},
                             champion_auc=None, thresholds=THRESHOLDS)
    assert [result.name for result in results] == list(GATE_NAMES)
    assert all(result.passed for result in results)


@pytest.mark.parametrize(
    ("name", "metrics", "psi", "value", "text_en", "text_zh"),
    [
        ("min_oot_auc", _metrics(auc=0.70), 0.01, 0.70, "0.7000 is at least the minimum 0.7000: passed",
         "不低于下限 0.7000：通过"),
        ("min_oot_ks", _metrics(ks=0.30), 0.01, 0.30, "OOT KS 0.3000 is at least the minimum 0.3000: passed",
         "不低于下限"),
        ("max_oot_ece", _metrics(ece=0.05), 0.01, 0.05, "0.0500 is at most the maximum 0.0500: passed",
         "不高于上限 0.0500：通过"),
        ("max_score_psi", _metrics(), 0.10, 0.10, "score PSI (train vs OOT) 0.1000 is at most the maximum",
         "评分 PSI"),
    ],
)
def test_evaluate_gates_passes_at_threshold(name, metrics, psi, value, text_en, text_zh):
    """A value equal to its threshold passes, with a text in each language."""
    result = _gates(metrics=metrics, psi=psi)[name]
    assert result.passed is True
    assert result.value == pytest.approx(value)
    assert text_en in result.text_en
    assert text_zh in result.text_zh


@pytest.mark.parametrize(
    ("name", "metrics", "psi", "text_en", "text_zh"),
    [
        ("min_oot_auc", _metrics(auc=0.6999), 0.01, "OOT AUC 0.6999 is below the minimum 0.7000: failed",
         "跨时间测试 AUC 0.6999 低于下限 0.7000：未通过"),
        ("min_oot_ks", _metrics(ks=0.25), 0.01, "OOT KS 0.2500 is below the minimum 0.3000: failed",
         "跨时间测试 KS 0.2500 低于下限 0.3000：未通过"),
        ("max_oot_ece", _metrics(ece=0.08), 0.01, "0.0800 is above the maximum 0.0500: failed",
         "期望校准误差 0.0800 高于上限 0.0500：未通过"),
        ("max_score_psi", _metrics(), 0.25, "0.2500 is above the maximum 0.1000: failed",
         "0.2500 高于上限 0.1000：未通过"),
    ],
)
def test_evaluate_gates_fails_beyond_threshold(name, metrics, psi, text_en, text_zh):
    """A value on the wrong side of its threshold fails only its own gate."""
    results = _gates(metrics=metrics, psi=psi)
    assert results[name].passed is False
    assert text_en in results[name].text_en
    assert text_zh in results[name].text_zh
    assert [other for other, result in results.items() if not result.passed] == [name]


@pytest.mark.parametrize(
    ("name", "metrics", "psi"),
    [
        ("min_oot_auc", _metrics(auc=None, undefined={"auc": "undefined: one class (40 goods, 0 bads)"}), 0.01),
        ("min_oot_ks", _metrics(ks=None, undefined={"ks": "undefined: one class (40 goods, 0 bads)"}), 0.01),
        ("max_oot_ece", _metrics(ece=None, undefined={"ece": "undefined: no rows"}), 0.01),
        ("max_score_psi", _metrics(), None),
        ("max_score_psi", _metrics(), math.nan),
    ],
)
def test_evaluate_gates_undefined_metric_fails(name, metrics, psi):
    """An undefined metric fails its gate and the text gives the reason."""
    result = _gates(metrics=metrics, psi=psi)[name]
    assert result.passed is False
    assert result.value is None
    reason = metrics["oot"]["undefined"].get(name.split("_")[-1], "score PSI missing")
    assert f"is undefined ({reason}), so the gate fails" in result.text_en
    assert f"未定义（{reason}），因此未通过" in result.text_zh


def test_evaluate_gates_no_champion_passes():
    """Without a champion the comparison gate passes and its text states that."""
    result = _gates(champion_auc=None)["max_auc_drop_vs_champion"]
    assert result.passed is True
    assert result.value is None
    assert "no current champion to compare with: passed" in result.text_en
    assert "当前没有可比较的冠军模型：通过" in result.text_zh


def test_evaluate_gates_champion_drop_within_margin_passes():
    """A candidate 0.02 below the champion on the same rows passes a 0.02 margin."""
    result = _gates(metrics=_metrics(auc=0.78), champion_auc=0.80)["max_auc_drop_vs_champion"]
    assert result.passed is True
    assert result.value == pytest.approx(0.02)
    assert "(champion 0.8000, candidate 0.7800 on the same OOT rows) 0.0200 is at most" in result.text_en


def test_evaluate_gates_champion_drop_beyond_margin_fails():
    """A candidate 0.05 below the champion fails, in both languages."""
    result = _gates(metrics=_metrics(auc=0.75), champion_auc=0.80)["max_auc_drop_vs_champion"]
    assert result.passed is False
    assert result.value == pytest.approx(0.05)
    assert "0.0500 is above the maximum 0.0200: failed" in result.text_en
    assert "冠军 0.8000，候选 0.7500" in result.text_zh
    assert "高于上限 0.0200：未通过" in result.text_zh


def test_evaluate_gates_better_candidate_passes():
    """A candidate above the champion has a negative drop and passes."""
    result = _gates(metrics=_metrics(auc=0.85), champion_auc=0.80)["max_auc_drop_vs_champion"]
    assert result.passed is True
    assert result.value == pytest.approx(-0.05)


def test_evaluate_gates_champion_undefined_fails():
    """A champion whose AUC is undefined on the OOT rows fails the comparison gate."""
    result = _gates(champion_auc=math.nan)["max_auc_drop_vs_champion"]
    assert result.passed is False
    assert "champion's AUC on the same OOT rows is undefined" in result.text_en


def test_evaluate_gates_candidate_undefined_fails_champion_gate():
    """An undefined candidate AUC fails the comparison gate even with a champion."""
    metrics = _metrics(auc=None, undefined={"auc": "undefined: no rows"})
    result = _gates(metrics=metrics, champion_auc=0.80)["max_auc_drop_vs_champion"]
    assert result.passed is False
    assert "is undefined (undefined: no rows)" in result.text_en


def test_gate_result_text_follows_locale():
    """text() returns the Chinese text for zh_CN and the English one otherwise."""
    result = _gates()["min_oot_auc"]
    assert result.text("zh_CN") == result.text_zh
    assert result.text("en") == result.text_en
    assert result.to_dict()["passed"] is True


def test_gate_thresholds_from_mapping_builds():
    """A complete mapping builds the thresholds as floats."""
    mapping = {"min_oot_auc": 0.7, "min_oot_ks": 0.3, "max_oot_ece": 0.05, "max_score_psi": 1,
               "max_auc_drop_vs_champion": 0.02}
    assert GateThresholds.from_mapping(mapping) == GateThresholds(0.7, 0.3, 0.05, 1.0, 0.02)


@pytest.mark.parametrize(
    ("changes", "en", "zh"),
    [
        ({"max_oot_ece": 1.5}, r"train.gates.max_oot_ece must be a number in \[0, 1.0\]; got 1.5",
         r"train.gates.max_oot_ece 必须是 \[0, 1.0\] 区间内的数值；实际为 1.5"),
        ({"max_score_psi": -0.1}, r"train.gates.max_score_psi must be a number in \[0, inf\]; got -0.1",
         r"train.gates.max_score_psi 必须是"),
        ({"min_oot_ks": True}, r"train.gates.min_oot_ks must be a number", r"min_oot_ks 必须是"),
        ({"min_oot_ks": None}, r"train.gates: required threshold\(s\) min_oot_ks missing",
         r"train.gates：缺少必需的阈值 min_oot_ks"),
        ({"max_psi": 0.1}, r"train.gates: unknown threshold\(s\) max_psi; allowed: min_oot_auc",
         r"train.gates：未知的阈值 max_psi"),
    ],
)
def test_gate_thresholds_rejects_bad_values(changes, en, zh):
    """A missing, unknown or out-of-range threshold raises ParamsError in both locales."""
    mapping = {"min_oot_auc": 0.7, "min_oot_ks": 0.3, "max_oot_ece": 0.05, "max_score_psi": 0.1,
               "max_auc_drop_vs_champion": 0.02}
    mapping.update(changes)
    mapping = {key: value for key, value in mapping.items() if value is not None}
    with use_locale("en"), pytest.raises(ParamsError, match=en):
        GateThresholds.from_mapping(mapping)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=zh):
        GateThresholds.from_mapping(mapping)


def test_gate_thresholds_rejects_non_mapping():
    """A list in place of the gates mapping raises ParamsError."""
    with use_locale("en"), pytest.raises(ParamsError, match=r"train.gates must be a mapping"):
        GateThresholds.from_mapping([0.3])


def test_gate_thresholds_from_train_section_adds_auc():
    """The train section's min_oot_auc joins the gates mapping."""
    train = {"min_oot_auc": 0.7, "gates": {"min_oot_ks": 0.3, "max_oot_ece": 0.05,
                                           "max_score_psi": 0.1, "max_auc_drop_vs_champion": 0.02}}
    assert GateThresholds.from_train_section(train) == THRESHOLDS


@pytest.mark.parametrize(
    ("train", "en", "zh"),
    [
        ({"min_oot_auc": 0.7, "gates": {"min_oot_auc": 0.7}},
         r"train.gates.min_oot_auc is not allowed: the OOT AUC threshold is train.min_oot_auc",
         r"不允许 train.gates.min_oot_auc"),
        ({"min_oot_auc": 0.7, "gates": [0.3]}, r"train.gates must be a mapping", r"train.gates 必须是"),
        ({"min_oot_auc": 0.7},
         r"required threshold\(s\) min_oot_ks, max_oot_ece, max_score_psi, max_auc_drop_vs_champion missing",
         r"缺少必需的阈值 min_oot_ks"),
    ],
)
def test_gate_thresholds_from_train_section_rejects(train, en, zh):
    """A repeated AUC threshold, a non-mapping or an absent gates section raises in both locales."""
    with use_locale("en"), pytest.raises(ParamsError, match=en):
        GateThresholds.from_train_section(train)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=zh):
        GateThresholds.from_train_section(train)
